"""``complement embed --from FILE``: bring precomputed vectors (BGE-M3, an LLM's, an API's).

Accepted inputs:

* Parquet with an ``id`` column (or ``item_id`` / ``user_id``) and a ``vector`` column holding a list
  or fixed-size list of numbers;
* ``.npy`` (a 2-D numeric array, loaded without pickle) plus ``--ids FILE``: one id per line
  (``.txt`` or any other extension), a ``.csv`` with a header (column ``id``/``item_id``/``user_id``,
  or a single column), or a ``.parquet`` with such a column. Row i of the array is id i.

Everything is validated before anything is written (ids unique and known to the workspace, one
dimension, every value finite as float32), so a failed import leaves the workspace unchanged.
"""

from __future__ import annotations

import shlex
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..checks import file_problem
from ..errors import ConfigError, DataError
from ..progress import message
from ..runs import RunRecord, recorded
from ..tables import check_new_view_name
from ..viewkind import IMPORTED_VECTORS, check_writable

ENTITIES = ("item", "user")
_SHOWN = 5  # how many offending ids an error names


@dataclass(frozen=True)
class ImportResult:
    view: str
    entity: str
    n_rows: int
    dim: int
    n_missing: int
    seconds: float


def _examples(ids) -> str:
    ids = list(ids)
    shown = ", ".join(f"'{i}'" for i in ids[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _id_column(table: pa.Table, entity: str, source: Path) -> pa.ChunkedArray:
    for name in ("id", f"{entity}_id"):
        if name in table.column_names:
            return table.column(name)
    raise DataError(f"{source} has no 'id' (or '{entity}_id') column (columns: {', '.join(table.column_names)})")


def _ids_as_strings(column: pa.ChunkedArray, source: Path) -> list[str]:
    if column.null_count:
        raise DataError(f"{source}: {column.null_count} ids are empty (NULL)")
    return [str(v) for v in column.to_pylist()]


def read_ids(path: Path, entity: str = "item") -> list[str]:
    """Ids, one per row of the matching ``.npy``, from a text, CSV or Parquet file."""
    if (problem := file_problem(path)) is not None:
        raise DataError(f"ids file {path} {problem}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = read_parquet(path, "ids file")
        if table.num_columns == 1:
            return _ids_as_strings(table.column(0), path)
        return _ids_as_strings(_id_column(table, entity, path), path)
    if suffix == ".csv":
        import csv

        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.reader(handle))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DataError(f"ids file {path} is not a readable UTF-8 CSV file ({exc})") from None
        if not rows:
            raise DataError(f"ids file {path} is empty")
        header, body = rows[0], [r for r in rows[1:] if r]
        names = [h.strip() for h in header]
        if len(names) == 1:
            column = 0
        elif "id" in names or f"{entity}_id" in names:
            column = names.index("id") if "id" in names else names.index(f"{entity}_id")
        else:
            raise DataError(f"{path} has no 'id' (or '{entity}_id') column (columns: {', '.join(names)})")
        return [r[column].strip() for r in body]
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"ids file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    blank = [n + 1 for n, line in enumerate(lines) if not line.strip()]
    if blank:
        raise DataError(
            f"ids file {path} has blank lines (line {', '.join(map(str, blank[:_SHOWN]))}): one id per line"
        )
    return [line.strip() for line in lines]


def read_parquet(path: Path, what: str) -> pa.Table:
    """A Parquet file, or one line saying why it is not one (empty, truncated, another format)."""
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{what} {path} is not a readable Parquet file ({detail})") from None


def _read_parquet_vectors(path: Path, entity: str) -> tuple[list[str], np.ndarray]:
    table = read_parquet(path, "vectors file")
    ids = _ids_as_strings(_id_column(table, entity, path), path)
    if "vector" not in table.column_names:
        raise DataError(f"{path} has no 'vector' column (columns: {', '.join(table.column_names)})")
    column = table.column("vector").combine_chunks()
    kind = column.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        raise DataError(f"{path}: column 'vector' must be a list of numbers, not {kind}")
    if not (pa.types.is_floating(kind.value_type) or pa.types.is_integer(kind.value_type)):
        raise DataError(f"{path}: column 'vector' must hold numbers, not {kind.value_type}")
    if column.null_count:
        nulls = [i for i, v in zip(ids, column.is_null().to_pylist(), strict=True) if v]
        raise DataError(f"{path}: {len(nulls)} rows have no vector (ids {_examples(nulls)})")
    import pyarrow.compute as pc

    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    _check_one_dimension(ids, lengths, path)
    dim = int(lengths[0]) if len(lengths) else 0
    values = column.flatten()
    if values.null_count:
        raise DataError(f"{path}: some vectors contain NULL values")
    matrix = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False).reshape(len(ids), dim)
    return ids, matrix


def _check_one_dimension(ids: list[str], lengths: np.ndarray, source: Path) -> None:
    if len(lengths) == 0:
        return
    counts = Counter(int(n) for n in lengths)
    if len(counts) > 1:
        common = counts.most_common(1)[0][0]
        odd = [i for i, n in zip(ids, lengths, strict=True) if n != common]
        sizes = ", ".join(f"{d}-d x {n}" for d, n in sorted(counts.items()))
        raise DataError(
            f"{source}: vectors have mixed dimensions ({sizes}); e.g. ids {_examples(odd)} are not {common}-d"
        )
    if lengths[0] == 0:
        raise DataError(f"{source}: vectors are empty (0 dimensions)")


def _read_npy_vectors(path: Path, ids_path: Path | None, entity: str) -> tuple[list[str], np.ndarray]:
    if ids_path is None:
        raise ConfigError(f"{path.name} is a .npy array: give the id of each row with --ids FILE")
    try:
        matrix = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays need pickle, which we refuse; truncated files land here too
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in detail:
            raise DataError(f"cannot read {path} without pickle: {detail}") from None
        raise DataError(f"{path} is not a readable .npy array ({detail})") from None
    except (OSError, EOFError) as exc:
        raise DataError(
            f"{path} is not a readable .npy array ({str(exc).splitlines()[0] or type(exc).__name__})"
        ) from None
    if not isinstance(matrix, np.ndarray):
        raise DataError(f"{path} is an .npz archive, not a single .npy array")
    if matrix.ndim != 2:
        raise DataError(f"{path} holds a {matrix.ndim}-D array of shape {matrix.shape}; expected rows x dimensions")
    if not (np.issubdtype(matrix.dtype, np.floating) or np.issubdtype(matrix.dtype, np.integer)):
        raise DataError(f"{path} holds {matrix.dtype} values; expected numbers")
    if matrix.shape[1] == 0:
        raise DataError(f"{path}: vectors are empty (0 dimensions)")
    ids = read_ids(ids_path, entity)
    if len(ids) != matrix.shape[0]:
        raise DataError(f"{path} has {matrix.shape[0]} rows but {ids_path} has {len(ids)} ids")
    return ids, matrix


def read_vectors_file(path: Path, ids_path: Path | None = None, entity: str = "item") -> tuple[list[str], np.ndarray]:
    """``(ids, matrix)`` from a Parquet or ``.npy`` file; checks the file's own shape only."""
    if (problem := file_problem(path)) is not None:
        raise DataError(f"vectors file {path} {problem}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _read_npy_vectors(path, ids_path, entity)
    if suffix in (".parquet", ".pq"):
        if ids_path is not None:
            raise ConfigError("--ids is only for .npy arrays; a Parquet file carries its ids in its 'id' column")
        return _read_parquet_vectors(path, entity)
    raise DataError(f"cannot read vectors from {path.name}: use Parquet (id, vector) or .npy with --ids FILE")


def validate_vectors(ids: list[str], matrix: np.ndarray, known: np.ndarray, entity: str) -> np.ndarray:
    """Check ids unique and known, every value finite as float32; return the float32 matrix."""
    if not ids:
        raise DataError("the file holds no vectors")
    counts = Counter(ids)
    duplicated = [i for i, n in counts.items() if n > 1]
    if duplicated:
        raise DataError(f"ids are not unique: {_examples(duplicated)} appear more than once")
    known_set = set(known)
    unknown = [i for i in ids if i not in known_set]
    if unknown:
        raise DataError(f"{len(unknown)} of {len(ids)} ids are not {entity}s of this workspace: {_examples(unknown)}")
    with np.errstate(over="ignore", invalid="ignore"):
        matrix32 = np.asarray(matrix, dtype=np.float32)
    bad_rows = np.asarray(~np.isfinite(matrix32).all(axis=1))  # a row mask (numpy types .all(axis) as maybe scalar)
    if bad_rows.any():
        bad = [i for i, b in zip(ids, bad_rows, strict=True) if b]
        raise DataError(f"vectors of {len(bad)} ids contain NaN or inf (or overflow float32): {_examples(bad)}")
    return matrix32


def check_view_dimension(ws, view: str, entity: str, dim: int) -> None:
    """Refuse vectors whose dimension differs from the view's vectors of the other entity: a view's
    users and items are scored against each other, so a mixed view is unusable (and its old top-K
    lists would no longer match its vectors)."""
    other = "user" if entity == "item" else "item"
    files = ws.table_files("embeddings", view)
    if not files:
        return
    import pyarrow.compute as pc

    table = read_parquet(files[0], f"view '{view}' embeddings file")
    if "entity" not in table.column_names or "vector" not in table.column_names:
        return  # the read-side contract check names this; nothing of another entity to compare with
    rows = table.filter(pc.equal(table.column("entity"), other))
    if rows.num_rows == 0:
        return
    lengths = set(pc.list_value_length(rows.column("vector")).to_pylist())
    if lengths != {dim}:
        have = "/".join(str(n) for n in sorted(lengths))
        raise DataError(
            f"view '{view}' has {have}-d {other} vectors but these {entity} vectors are {dim}-d: import them into a "
            f"new view (--view NAME) and import that view's {other} vectors there too (--entity {other}), both {dim}-d"
        )


def import_vectors(ws, view: str, path, ids_path=None, entity: str = "item") -> ImportResult:
    """Import ``entity`` vectors of ``view`` from ``path``; nothing is written unless all checks pass."""
    check_new_view_name(view)
    if entity not in ENTITIES:
        raise ConfigError(f"--entity must be 'item' or 'user', not '{entity}'")
    check_writable(ws, view, IMPORTED_VECTORS, "complement embed --from")
    path = Path(path).expanduser()
    ids_path = Path(ids_path).expanduser() if ids_path is not None else None
    ws.require("items" if entity == "item" else "users")
    known = ws.item_ids() if entity == "item" else ws.user_ids()
    params = {
        "from": str(path.resolve()),
        "ids": str(ids_path.resolve()) if ids_path else None,
        "entity": entity,
    }
    t0 = time.perf_counter()
    ids, matrix = read_vectors_file(path, ids_path, entity)
    matrix32 = validate_vectors(ids, matrix, known, entity)
    check_view_dimension(ws, view, entity, matrix32.shape[1])
    # absolute and quoted, as `topk --from` records its file: the command runs from any folder
    refresh = f"complement embed --from {shlex.quote(str(path.resolve()))} --entity {entity} --view {view}" + (
        f" --ids {shlex.quote(str(ids_path.resolve()))}" if ids_path else ""
    )
    record_in = RunRecord(step="embed-import", view=view, params=params, inputs=[f"{entity}s#ids"], made_by=refresh)
    with recorded(ws, record_in) as record:
        ws.write_vectors(view, entity, ids, matrix32)
        n_missing = len(known) - len(ids)
        record.rows = len(ids)
        record.metrics = {"dim": int(matrix32.shape[1]), "n_missing": n_missing}
    if n_missing:
        message(
            f"note: {n_missing} of {len(known)} {entity}s have no vector in view '{view}'; "
            "commands that score every item or user will refuse it until they do"
        )
    return ImportResult(
        view=view,
        entity=entity,
        n_rows=len(ids),
        dim=int(matrix32.shape[1]),
        n_missing=n_missing,
        seconds=time.perf_counter() - t0,
    )
