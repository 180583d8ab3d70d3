"""A workspace: a folder with ``complement.toml`` and the Parquet files of the logical tables.

This is the library's entry point for every step: it knows where each table lives, writes them
atomically, and opens DuckDB connections that see them as views (see :mod:`complement.db`)."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from . import atomic, shards, tables
from . import catalog as catalog_mod
from .errors import StaleError, WorkspaceError, did_you_mean
from .lineage import Staleness, staleness_with_own
from .transaction import Scope, Transaction

CONFIG_NAME = "complement.toml"
ENV_VAR = "COMPLEMENT_WORKSPACE"


class Workspace:
    """A workspace folder. ``Workspace(path)``; ``Workspace.open(None)`` uses
    ``$COMPLEMENT_WORKSPACE`` or the current directory.

    Constructing one checks nothing: ``init``, ``synth`` and ``run`` make a workspace in a folder that is not
    there yet. A step, or a read of a table or of vectors, on a folder that does not exist, or that is no
    workspace (neither ``complement.toml`` nor ``tables/``), fails with one line saying so (:meth:`check_exists`)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()
        self._txn: Transaction | None = None

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> Workspace:
        if path is None:
            path = os.environ.get(ENV_VAR) or "."
        return cls(path)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # ---- layout -------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    # ---- the catalog ---------------------------------------------------------------------------
    def catalog(self) -> catalog_mod.Catalog:
        """The tables as this workspace sees them now: inside a transaction, as it began plus what it staged."""
        if self._txn is not None:
            return self._txn.overlay()
        catalog_mod.note_reader(self.tables_dir)  # a CLI command keeps the files it may read
        return catalog_mod.load(self.tables_dir)

    def _check_table(self, name: str) -> None:
        if name not in tables.SCHEMAS:
            raise WorkspaceError(f"unknown table '{name}'")

    def table_path(self, name: str, part: str | None = None) -> Path:
        """The file that holds a table (or one part of a partitioned table) now; for a part that
        does not exist, or a partitioned table as a whole, its folder."""
        self._check_table(name)
        if name in tables.PARTITIONED_TABLES and part is None:
            return self.tables_dir / name
        files = self.table_files(name, part)
        if files:
            return files[0]
        return self.tables_dir / catalog_mod.entry_key(name, part)

    def table_files(self, name: str, part: str | None = None) -> list[Path]:
        """The Parquet files that hold table ``name`` now (of one ``part`` only when given).

        Readers (DuckDB views, the SQL sandbox, exports) take a table's files from here, never from
        a glob of their own: a folder may also hold files a command is about to commit."""
        self._check_table(name)
        entries = self.catalog().entries
        if name in tables.SINGLE_TABLES or part is not None:
            entry = entries.get(catalog_mod.entry_key(name, part))
            return [self.tables_dir / f for f in entry.files] if entry else []
        prefix = name + "/"
        return [
            self.tables_dir / f
            for key in sorted(entries)
            if key.startswith(prefix) and shards.MARK not in key
            for f in entries[key].files
        ]

    def has_table(self, name: str) -> bool:
        return bool(self.table_files(name))

    def existing_tables(self) -> list[str]:
        return [name for name in tables.TABLE_NAMES if self.has_table(name)]

    def parts(self, name: str) -> list[str]:
        """The parts (views or probe runs) of a partitioned table, sorted (staged shards of a view,
        ``complement topk --shard``, are not parts until all are merged)."""
        self._check_table(name)
        prefix = name + "/"
        return sorted(
            key[len(prefix) :] for key in self.catalog().entries if key.startswith(prefix) and shards.MARK not in key
        )

    def entry(self, name: str, part: str | None = None) -> catalog_mod.Entry | None:
        return self.catalog().entries.get(catalog_mod.entry_key(name, part))

    def stale(self, name: str, part: str | None = None) -> Staleness | None:
        """Why a table or part no longer matches the inputs it was made from (None when it does)."""
        return staleness_with_own(self.catalog(), catalog_mod.entry_key(name, part))

    def check_fresh(self, name: str, part: str | None = None) -> None:
        """Refuse a table or part made from inputs that have changed since (see :meth:`stale`)."""
        reason = self.stale(name, part)
        if reason is not None:
            raise StaleError(reason.message(name, part, str(self.root)))

    def check_fresh_views(self, name: str, views: Iterable[str]) -> None:
        """Refuse the stale ones of ``views`` (parts of table ``name``), naming every one and each command
        that refreshes one, not only the first."""
        stale = [(view, reason) for view in dict.fromkeys(views) if (reason := self.stale(name, view)) is not None]
        if len(stale) == 1:
            raise StaleError(stale[0][1].message(name, stale[0][0], str(self.root)))
        if stale:
            commands = dict.fromkeys(
                f"`{command}`" if reason.refresh else f"the command that made {reason.entry}"
                for _, reason in stale
                for command in (reason.commands(str(self.root)) or [""])
            )
            ordered = sorted(commands, key=lambda c: "complement fuse" in c)  # a fusion after its sources
            gone = sorted({reason.gone_input() for _, reason in stale if reason.gone})
            first = f"make {' and '.join(gone)} again (no longer in the workspace: dropped?), then " if gone else ""
            raise StaleError(
                f"views {', '.join(repr(view) for view, _ in stale)} are stale: made from older tables than the "
                f"workspace holds now; {first}refresh them with {', then '.join(ordered)}, or pass --allow-stale"
            )

    # ---- writing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(
        self, view: str | None = None, *, inputs: Iterable[str] | None = None, made_by: str | None = None
    ) -> Iterator[Transaction]:
        """Group every write in the block into one all-or-nothing commit (nested blocks join the
        outer one). ``view`` is locked against other writers for the whole block; ``inputs`` (entry
        keys such as ``interactions``, ``items#ids``, ``embeddings/semantic``) become the lineage of
        what the block writes, ``made_by`` the command that refreshes it."""
        outer = self._txn is None
        txn = self._txn if self._txn is not None else Transaction(self)
        if outer:
            txn.begin()
            self._txn = txn
        parent = txn.scopes[-1] if txn.scopes else Scope()
        txn.scopes.append(
            Scope(
                tuple(inputs) if inputs is not None else parent.inputs,
                made_by if made_by is not None else parent.made_by,
            )
        )
        try:
            if view is not None:
                txn.lock(f"view-{view}")
            yield txn
            if outer:
                txn.commit()
        finally:
            txn.scopes.pop()
            if outer:
                self._txn = None
                txn.close()

    def is_list_view(self, view: str) -> bool:
        """A view with top-K lists and no vectors: imported with ``topk --from``, or a score or rrf fusion."""
        return view in self.parts("topk") and view not in self.parts("embeddings")

    def list_view_error(self, view: str, why: str) -> WorkspaceError:
        """The one-line error of a step that needs vectors and was given list view ``view``, saying how the
        view was made (:func:`complement.listview.list_view_error`)."""
        from .listview import list_view_error

        return list_view_error(self, view, why)

    def is_workspace(self) -> bool:
        """Whether the folder holds a workspace: a ``complement.toml`` (``complement init``), or a ``tables/``
        folder (``complement synth``, or the library's ``synthesize``, which writes no ``complement.toml``)."""
        return self.config_path.is_file() or self.tables_dir.is_dir()

    def check_exists(self) -> None:
        """Raise a clear error when the workspace folder is not there (or is a file), or when it is a folder
        but no workspace (neither ``complement.toml`` nor ``tables/``: a command run from the wrong folder,
        or without -w). Steps that read call it; those that make a workspace (init, synth, demo) do not."""
        if not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise WorkspaceError(
                f"workspace {self.root} {what}: pass -w DIR (or set COMPLEMENT_WORKSPACE) to a workspace made by "
                "`complement init` or `complement synth`"
            )
        if not self.is_workspace():
            raise WorkspaceError(
                f"{self.root} is not a workspace (no {CONFIG_NAME} or tables/): pass -w DIR (or set "
                "COMPLEMENT_WORKSPACE) to a workspace made by `complement init` or `complement synth`"
            )

    def require(self, *names: str) -> None:
        """Raise a clear error for the first listed table the workspace lacks; when the folder is missing or
        is no workspace at all, say that instead (see :meth:`check_exists`), not that a table is missing."""
        for name in names:
            if not self.has_table(name):
                self.check_exists()
                hint = {
                    "items": "run `complement init` or `complement synth` first",
                    "users": "run `complement init` or `complement synth` first",
                    "interactions": "run `complement init` or `complement synth` first",
                    "embeddings": "run `complement embed` or `complement train` first",
                    "topk": "run `complement train` or `complement topk` first",
                    "neighbors": "run `complement neighbors --view NAME` first",
                    "probes": "run `complement probe` first",
                    "runs": "nothing has run in this workspace yet",
                }[name]
                raise WorkspaceError(f"workspace {self.root} has no '{name}' table: {hint}")

    # ---- config -------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        from .data.config import read_config

        return read_config(self.config_path)

    def write_config(self, config: dict[str, Any], header: str = "") -> None:
        import tomli_w

        atomic.write_text(header + tomli_w.dumps(_without_none(config)), self.config_path)

    # ---- tables -------------------------------------------------------------------------------
    def write_table(
        self,
        name: str,
        table: pa.Table,
        part: str | None = None,
        *,
        inputs: Iterable[str] | None = None,
        made_by: str | None = None,
        append: bool = False,
    ) -> None:
        """Write a whole table (or one part of a partitioned one), cast to the contract. Inside a
        :meth:`transaction` it is committed with the rest of the block; alone, as its own commit.
        With ``append`` (inside a transaction), the rows join what the block already wrote to that
        part, as more files of the same entry: a large view written in chunks of users, in order."""
        self._check_table(name)
        if name in tables.PARTITIONED_TABLES and part is None:
            raise WorkspaceError(f"table '{name}' is written one part (view) at a time")
        if name == "runs":
            raise WorkspaceError("rows are added to 'runs' with complement.runs.append_run")
        if part is not None and not shards.is_shard_part(part):
            tables.check_view_name(part)
        table = tables.conform(name, self._with_index_keys(name, table))
        with self.transaction() as txn:
            txn.stage(name, table, part, tuple(inputs) if inputs is not None else None, made_by, append=append)

    def _with_index_keys(self, name: str, table: pa.Table) -> pa.Table:
        """Add the integer keys of ``tables.INDEX_KEYS`` a writer did not supply, from the ids."""
        import pyarrow.compute as pc

        for column, id_column, source in tables.INDEX_KEYS.get(name, ()):
            if column in table.column_names or id_column not in table.column_names:
                continue
            if not self.has_table(source):  # a partial workspace (tests, hand-made tables): keys unknown yet
                table = table.append_column(column, pa.nulls(table.num_rows, pa.int32()))
                continue
            known = self.item_ids() if source == "items" else self.user_ids()
            index = pc.index_in(table.column(id_column), value_set=pa.array(list(known), pa.string()))
            if index.null_count:
                unknown = table.column(id_column).filter(pc.is_null(index)).unique()[:3].to_pylist()
                raise WorkspaceError(
                    f"{index.null_count} row(s) of '{name}' name {source} unknown to the workspace (e.g. {unknown})"
                )
            table = table.append_column(column, pc.cast(index, pa.int32()))
        return table

    def delete_part(self, name: str, part: str) -> None:
        with self.transaction() as txn:
            if catalog_mod.entry_key(name, part) in txn.overlay().entries:
                txn.delete(name, part)

    def connect(self, read_only_sql: bool = False):
        """A DuckDB connection with every existing table registered as a view."""
        from .db import connect

        return connect(self, read_only_sql=read_only_sql)

    def query(self, sql: str, params: dict[str, Any] | Sequence[Any] | None = None) -> pa.Table:
        """Run trusted SQL over the workspace tables and return an Arrow table."""
        con = self.connect()
        try:
            return con.sql(sql, params=params).to_arrow_table() if params else con.sql(sql).to_arrow_table()
        finally:
            con.close()

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """A block in which no other command's commit deletes the table files this one may read
        (superseded files wait for a commit made while no one reads: :func:`catalog.collect_garbage`)."""
        return catalog_mod.reading(self.tables_dir)

    def read_table(self, name: str, part: str | None = None) -> pa.Table:
        with self.reading():
            return self._read_table(name, part)

    def _read_table(self, name: str, part: str | None = None) -> pa.Table:
        self.require(name)
        if part is not None:
            files = self.table_files(name, part)
            if not files:
                raise WorkspaceError(
                    f"table '{name}' has no part '{part}' (have: {', '.join(self.parts(name)) or 'none'})"
                )
            import pyarrow.parquet as pq

            return pq.read_table(files)
        return self.query(f"SELECT * FROM {name}")

    # ---- ids and indices ----------------------------------------------------------------------
    def item_ids(self) -> np.ndarray:
        """Item ids ordered by ``item_idx`` (position i holds the id of item_idx i)."""
        self.require("items")
        return np.asarray(self.query("SELECT item_id FROM items ORDER BY item_idx").column(0).to_pylist(), dtype=object)

    def user_ids(self) -> np.ndarray:
        """User ids ordered by ``user_idx``."""
        self.require("users")
        return np.asarray(self.query("SELECT user_id FROM users ORDER BY user_idx").column(0).to_pylist(), dtype=object)

    def interaction_indices(self, splits: Iterable[str] = ("train",)) -> tuple[np.ndarray, np.ndarray]:
        """``(user_idx, item_idx)`` int64 arrays of the interactions in ``splits``, sorted by user then item."""
        self.require("interactions", "users", "items")
        splits = list(splits)
        result = self.query(
            """
            SELECT u.user_idx, i.item_idx
            FROM interactions x
            JOIN users u USING (user_id)
            JOIN items i USING (item_id)
            WHERE list_contains($splits, x.split)
            ORDER BY u.user_idx, i.item_idx
            """,
            {"splits": splits},
        )
        return (
            result.column(0).to_numpy().astype(np.int64, copy=False),
            result.column(1).to_numpy().astype(np.int64, copy=False),
        )

    # ---- vectors ------------------------------------------------------------------------------
    def views(self, entity: str | None = None) -> list[str]:
        """Views in ``embeddings`` (optionally only those with ``entity`` vectors)."""
        if not self.has_table("embeddings"):
            return []
        if entity is None:
            return self.parts("embeddings")
        rows = self.query("SELECT DISTINCT view FROM embeddings WHERE entity = $e ORDER BY view", {"e": entity})
        return rows.column(0).to_pylist()

    def write_vectors(
        self,
        view: str,
        entity: str,
        ids: Sequence[str] | np.ndarray,
        matrix: np.ndarray,
        *,
        inputs: Iterable[str] | None = None,
        made_by: str | None = None,
    ) -> None:
        """Replace the ``entity`` vectors of ``view`` (other entities of the view are kept)."""
        tables.check_view_name(view)
        if entity not in ("item", "user"):
            raise WorkspaceError(f"entity must be 'item' or 'user', not '{entity}'")
        new = vectors_table(view, entity, ids, matrix)
        files = self.table_files("embeddings", view)
        if files:
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            old = pq.read_table(files)
            keep = old.filter(pc.not_equal(old.column("entity"), entity))
            if keep.num_rows and (changed := tables.written_over(self, "embeddings", view)):
                drop = f"complement drop {view} -w {shlex.quote(str(self.root))}"
                raise WorkspaceError(
                    f"{changed[0].split('; ')[0]}; writing its {entity} vectors would keep its other vectors from "
                    f"that file: remove the view with `{drop}` and write it again"
                )
            new = pa.concat_tables([tables.conform("embeddings", keep), tables.conform("embeddings", new)])
        self.write_table("embeddings", new, part=view, inputs=inputs, made_by=made_by)

    def read_vectors(self, view: str, entity: str = "item", order: str = "index") -> tuple[np.ndarray, np.ndarray]:
        """``(ids, matrix)`` of a view's ``entity`` vectors.

        ``order="index"`` returns them in ``item_idx``/``user_idx`` order restricted to ids the
        workspace knows; ``order="stored"`` as stored."""
        with self.reading():
            return self._read_vectors(view, entity, order)

    def _read_vectors(self, view: str, entity: str, order: str) -> tuple[np.ndarray, np.ndarray]:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        files = self.table_files("embeddings", view)
        if not files:
            self.check_exists()
            parts = self.parts("embeddings")
            raise WorkspaceError(
                f"no embeddings for view '{view}'{did_you_mean(view, parts)} "
                f"(views with embeddings: {', '.join(parts) or 'none'})"
            )
        table = pq.read_table(files)
        table = table.filter(pc.equal(table.column("entity"), entity))
        if table.num_rows == 0:
            hint = (
                " — train a model for it (`complement train`) or import user vectors with `complement embed --from`"
                if entity == "user"
                else ""
            )
            raise WorkspaceError(f"view '{view}' has no {entity} vectors{hint}")
        ids = np.asarray(table.column("id").to_pylist(), dtype=object)
        flat = table.column("vector").combine_chunks()
        d = len(flat[0])
        matrix = flat.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(len(ids), d)
        if order == "index":
            known = self.item_ids() if entity == "item" else self.user_ids()
            position = {k: i for i, k in enumerate(ids)}
            rows = [position.get(k, -1) for k in known]
            if any(r < 0 for r in rows):
                missing = [k for k, r in zip(known, rows, strict=True) if r < 0]
                raise WorkspaceError(
                    f"view '{view}' lacks vectors for {len(missing)} of {len(known)} {entity}s (e.g. '{missing[0]}')"
                )
            return known, matrix[rows]
        return ids, matrix


def _without_none(value: Any) -> Any:
    """TOML has no null: settings left unset (None) are left out of the file."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value if v is not None]
    return value


def vectors_table(view: str, entity: str, ids: Sequence[str] | np.ndarray, matrix: np.ndarray) -> pa.Table:
    """Rows of the ``embeddings`` table: one per id, its vector a row of ``matrix`` (float32)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(ids):
        raise WorkspaceError(f"expected a {len(ids)} x d matrix, got shape {matrix.shape}")
    n, d = matrix.shape
    vectors = pa.ListArray.from_arrays(pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32)), pa.array(matrix.ravel()))
    return pa.table(
        {
            "view": pa.array([view] * n, pa.string()),
            "entity": pa.array([entity] * n, pa.string()),
            "id": pa.array([str(i) for i in ids], pa.string()),
            "vector": vectors,
        }
    )
