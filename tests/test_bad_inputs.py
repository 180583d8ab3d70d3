"""The bad-input corpus: every case is a CLI invocation that must fail with one clear line (or click's
usage error) and leave every file of the workspace and its inputs byte-identical (tests/badinput.py)."""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from badinput import FIXTURES, Case, run_case

from complement.errors import WorkspaceError
from complement.workspace import Workspace


# ---- setups: plant one bad input in a copy of the synth workspace (or next to it) --------------------
def rrf_list_view(view: str):
    """A list view (lists only, no vectors): RRF of the synth workspace's two vector views."""

    def setup(folder: Path) -> None:
        import complement

        complement.fuse(Workspace(folder / "ws"), ["pop", "truth_collab"], "rrf", view, k=20, device="cpu")

    return setup


def imported_list_view(view: str):
    """A list view imported from a TREC run file of the synth workspace's users and items."""

    def setup(folder: Path) -> None:
        from complement import interop

        ws = Workspace(folder / "ws")
        users, items = ws.user_ids()[:3], ws.item_ids()[:2]
        lines = [f"{u} Q0 {i} {rank} {1.0 / rank} x" for u in users for rank, i in enumerate(items, 1)]
        (folder / "r.trec").write_text("\n".join(lines) + "\n", encoding="utf-8")
        interop.import_topk(ws, folder / "r.trec", view)

    return setup


def topk_shard(view: str, shard: str, **options):
    """Shard ``shard`` of ``view``'s top-K lists staged with ``options`` (the shards that follow must match)."""

    def setup(folder: Path) -> None:
        import complement

        complement.topk(Workspace(folder / "ws"), view, shard=shard, device="cpu", **options)

    return setup


def write(name: str, content: str | bytes):
    """Write ``content`` to ``name`` in the case folder."""

    def setup(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)

    return setup


def vectors(name: str, n: int | None = None, dim: int = 8, ids=None, change=None):
    """A Parquet vectors file with the workspace's item ids (or ``ids``); ``change(ids, rows)`` edits it."""

    def setup(folder: Path) -> None:
        item_ids = ids if ids is not None else pq.read_table(table_file(folder, "items")).column("item_id").to_pylist()
        item_ids = list(item_ids)[: n or None]
        rows = [list(np.linspace(0.1, 1.0, dim)) for _ in item_ids]
        if change is not None:
            item_ids, rows = change(item_ids, rows)
        pq.write_table(pa.table({"id": item_ids, "vector": rows}), folder / name)

    return setup


def imported_view(folder: Path, entity: str, dim: int) -> None:
    """View ``mine`` of the case's workspace: ``dim``-d ``entity`` vectors imported with ``embed --from``."""
    from complement import Workspace
    from complement.embed.importer import import_vectors

    ws = Workspace(folder / "ws")
    ids = ws.item_ids() if entity == "item" else ws.user_ids()
    path = folder / f"mine-{entity}s.parquet"
    pq.write_table(pa.table({"id": list(ids), "vector": [[0.25] * dim] * len(ids)}), path)
    import_vectors(ws, "mine", path, entity=entity)


def npy(name: str, array: np.ndarray | None = None, truncate: int | None = None):
    def setup(folder: Path) -> None:
        n = pq.read_metadata(table_file(folder, "items")).num_rows
        np.save(folder / name, np.ones((n, 8)) if array is None else array)
        if truncate is not None:
            data = (folder / name).read_bytes()[:truncate]
            (folder / name).write_bytes(data)

    return setup


def ids_file(name: str, n_less: int = 0):
    def setup(folder: Path) -> None:
        ids = pq.read_table(table_file(folder, "items")).column("item_id").to_pylist()
        (folder / name).write_text("\n".join(ids[: len(ids) - n_less]) + "\n")

    return setup


def table_file(folder: Path, name: str, part: str | None = None) -> Path:
    """The file that holds a table (or one view of it) of the case's workspace now."""
    return Workspace(folder / "ws").table_path(name, part)


def table_edit(name: str, edit):
    """Rewrite the workspace's ``tables/<name>.parquet`` with ``edit(table)`` (a hand-edited table)."""

    def setup(folder: Path) -> None:
        path = table_file(folder, name)
        pq.write_table(edit(pq.read_table(path)), path)

    return setup


def written_over(name: str, part: str | None = None):
    """Write a table file over with a valid table of the same contract but fewer rows: a file copied onto it
    outside complement, which the catalog's fingerprint and lineage do not describe."""

    def setup(folder: Path) -> None:
        path = table_file(folder, name, part)
        pq.write_table(pq.read_table(path).slice(0, 10), path)

    return setup


def config_edit(transform):
    """Rewrite the workspace's complement.toml bytes with ``transform(bytes)``."""

    def setup(folder: Path) -> None:
        path = folder / "ws" / "complement.toml"
        path.write_bytes(transform(path.read_bytes()))

    return setup


def both(*setups):
    def setup(folder: Path) -> None:
        for one in setups:
            one(folder)

    return setup


def copy_fixture(name: str, into: str = "data", edit=None):
    """Copy ``tests/fixtures/<name>`` to the case folder; ``edit(folder)`` spoils a file in it."""

    def setup(folder: Path) -> None:
        target = folder / into
        shutil.copytree(FIXTURES / name, target)
        if edit is not None:
            edit(target)

    return setup


def replace_in(file: str, old: bytes, new: bytes):
    def edit(folder: Path) -> None:
        path = folder / file
        path.write_bytes(path.read_bytes().replace(old, new))

    return edit


def rename_column(old, new):
    return lambda t: t.rename_columns([new if c == old else c for c in t.column_names])


def doubled(t):
    return pa.concat_tables([t, t.slice(0, 3)])


W = ["-w", "{ws}"]
#: an experiment with one trained view on small synthetic data (cases append keys to the view)
RUN_LIGHTGCN = (
    '[dataset]\nkind = "synthetic"\nusers = 40\nitems = 60\n[[view]]\nname = "lightgcn"\nmodel = "lightgcn"\n'
)
GENERIC = ["init", "{tmp}/new", "-d", "generic", "-p", "{tmp}/events.csv", "--user-col", "user", "--item-col", "item"]


def generic(csv: str | bytes, *extra: str, exit_code: int = 1, message: str = "", case_id: str) -> Case:
    return Case(case_id, both(write("events.csv", csv)), [*GENERIC, *extra], exit_code, message)


# ---- the corpus ---------------------------------------------------------------------------------------
TRAIN = [
    Case("train-k-zero", "synth", ["train", "pop", *W, "--k", "0"], 1, r"--k must be at least 1"),
    Case("train-k-negative", "synth", ["train", "mf", *W, "--k", "-5"], 1, r"--k must be at least 1"),
    Case(
        "train-k-above-catalogue",
        "synth",
        ["train", "pop", *W, "--k", "31"],
        1,
        r"k=31 is larger than the catalogue \(30 items\)",
    ),
    # a size above 2**31 - 1 overflowed torch (a traceback), or for --layers ran on for ever
    *(
        Case(
            f"train-{flag}-huge",
            "synth",
            ["train", "lightgcn", *W, f"--{flag}", "99999999999999999999"],
            1,
            rf"--{flag} must be at most 2147483647, not 99999999999999999999",
        )
        for flag in ("dim", "layers", "batch-size", "epochs", "negatives")
    ),
    Case("train-lr-nan", "synth", ["train", "mf", *W, "--lr", "nan"], 1, r"--lr must be a finite number > 0, not nan"),
    Case("train-lr-inf", "synth", ["train", "mf", *W, "--lr", "inf"], 1, r"--lr must be a finite number"),
    Case("train-lr-negative", "synth", ["train", "mf", *W, "--lr", "-0.01"], 1, r"--lr must be a finite number > 0"),
    Case(
        "train-reg-minus-inf", "synth", ["train", "mf", *W, "--reg", "-inf"], 1, r"--reg must be a finite number >= 0"
    ),
    Case(
        "train-temperature-nan",
        "synth",
        ["train", "semantic", *W, "--temperature", "nan"],
        1,
        r"--temperature must be a finite",
    ),
    Case(
        "train-temperature-zero",
        "synth",
        ["train", "alpharec", *W, "--temperature", "0"],
        1,
        r"--temperature must be a finite number > 0",
    ),
    Case(
        "train-align-weight-inf",
        "synth",
        ["train", "aligned-mse", *W, "--align-weight", "inf"],
        1,
        r"--align-weight must be a finite",
    ),
    Case(
        "train-align-weight-negative",
        "synth",
        ["train", "aligned-contrastive", *W, "--align-weight", "-1"],
        1,
        r"--align-weight",
    ),
    Case("train-dim-zero", "synth", ["train", "mf", *W, "--dim", "0"], 1, r"--dim must be at least 1"),
    Case("train-epochs-zero", "synth", ["train", "lightgcn", *W, "--epochs", "0"], 1, r"--epochs must be at least 1"),
    Case(
        "train-batch-size-zero",
        "synth",
        ["train", "mf", *W, "--batch-size", "0"],
        1,
        r"--batch-size must be at least 1",
    ),
    Case(
        "train-eval-every-zero",
        "synth",
        ["train", "mf", *W, "--eval-every", "0"],
        1,
        r"--eval-every must be at least 1",
    ),
    Case(
        "train-negatives-zero",
        "synth",
        ["train", "semantic", *W, "--negatives", "0"],
        1,
        r"--negatives must be at least 1",
    ),
    Case(
        "train-layers-negative", "synth", ["train", "lightgcn", *W, "--layers", "-1"], 1, r"--layers must be at least 0"
    ),
    Case("train-seed-negative", "synth", ["train", "random", *W, "--seed", "-1"], 1, r"--seed must be at least 0"),
    Case(
        "train-unknown-model",
        "synth",
        ["train", "lightgnc", *W],
        2,
        r"Invalid value for 'model'.*'lightgnc' is not one of 'lightgcn'",
    ),
    Case(
        "train-view-traversal",
        "synth",
        ["train", "pop", *W, "--view", "../../evil"],
        1,
        r"invalid view name '\.\./\.\./evil'",
    ),
    Case(
        "train-view-sql-injection",
        "synth",
        ["train", "pop", *W, "--view", "x'); DROP TABLE items; --"],
        1,
        r"invalid view name",
    ),
    Case(
        "train-text-view-traversal",
        "synth",
        ["train", "semantic", *W, "--view", "s", "--text-view", "../x"],
        1,
        r"invalid view name '\.\./x'",
    ),
    Case(
        "train-text-view-missing",
        "synth",
        ["train", "semantic", *W, "--view", "s", "--text-view", "nosuch"],
        1,
        r"no item vectors in view 'nosuch'",
    ),
    Case(
        "train-exclude-unknown",
        "synth",
        ["train", "pop", *W, "--exclude", "test"],
        2,
        r"'test' is not one of 'train', 'train\+valid'",
    ),
    Case("train-device-unknown", "synth", ["train", "pop", *W, "--device", "tpu"], 2, r"Invalid value for '--device'"),
    Case("train-lr-not-a-number", "synth", ["train", "mf", *W, "--lr", "fast"], 2, r"Invalid value for '--lr'"),
    Case(
        "train-items-column-renamed",
        table_edit("items", rename_column("item_id", "itemid")),
        ["train", "pop", *W, "--k", "5"],
        1,
        r"table 'items' has no column 'item_id' .*complement ingest",
    ),
    Case(
        "train-users-column-renamed",
        table_edit("users", rename_column("user_idx", "idx")),
        ["train", "mf", *W, "--k", "5"],
        1,
        r"table 'users' has no column 'user_idx'",
    ),
    Case(
        "train-interactions-column-wrong-type",
        table_edit(
            "interactions",
            lambda t: t.set_column(
                t.column_names.index("ts"), "ts", pa.array([str(v) for v in t.column("ts").to_pylist()])
            ),
        ),
        ["train", "pop", *W, "--k", "5"],
        1,
        r"table 'interactions' column 'ts' is string, expected int64",
    ),
    Case(
        "train-items-duplicated-rows",
        table_edit("items", doubled),
        ["train", "pop", *W, "--k", "5"],
        1,
        r"table 'items' holds 3 item_id values more than once",
    ),
]

SCORING = [
    Case("topk-k-zero", "synth", ["topk", *W, "--view", "pop", "--k", "0"], 1, r"--k must be at least 1, not 0"),
    Case(
        "topk-k-above-catalogue", "synth", ["topk", *W, "--view", "pop", "--k", "31"], 1, r"larger than the catalogue"
    ),
    Case("topk-view-traversal", "synth", ["topk", *W, "--view", "../items"], 1, r"invalid view name '\.\./items'"),
    Case("topk-view-injection", "synth", ["topk", *W, "--view", "pop' OR '1'='1"], 1, r"invalid view name"),
    Case("topk-unknown-view", "synth", ["topk", *W, "--view", "nosuch"], 1, r"no embeddings for view 'nosuch'"),
    Case(
        "topk-view-without-users",
        "synth",
        ["topk", *W, "--view", "semantic", "--k", "5"],
        1,
        r"view 'semantic' has no user vectors",
    ),
    Case(
        "topk-items-column-renamed",
        table_edit("items", rename_column("item_idx", "position")),
        ["topk", *W, "--view", "pop", "--k", "5"],
        1,
        r"table 'items' has no column 'item_idx'.*rebuild it with `complement ingest`",
    ),
    Case(
        "topk-users-duplicated",
        table_edit("users", doubled),
        ["topk", *W, "--view", "pop", "--k", "5"],
        1,
        r"table 'users' holds 3 user_id values more than once",
    ),
    # a view's shards are one computation: a later shard with another --k or --exclude would mix settings
    *(
        Case(
            f"topk-shard-{case_id}",
            topk_shard("pop", "1/2", k=10),
            ["topk", *W, "--view", "pop", "--shard", "2/2", *options],
            1,
            message,
        )
        for case_id, options, message in (
            (
                "other-k",
                ["--k", "5"],
                r"shard 1/2 of view 'pop' was written with k=10, exclude=train\+valid, this one would be k=5, "
                r"exclude=train\+valid: run every shard with the same settings",
            ),
            ("other-exclude", ["--k", "10", "--exclude", "train"], r"written with k=10, exclude=train\+valid, this"),
        )
    ),
    Case(
        "neighbors-k-zero", "synth", ["neighbors", *W, "--view", "semantic", "--k", "0"], 1, r"--k must be at least 1"
    ),
    Case(
        "neighbors-k-too-large",
        "synth",
        ["neighbors", *W, "--view", "semantic", "--k", "30"],
        1,
        r"k=30 is larger than the number of other items",
    ),
    Case("neighbors-view-traversal", "synth", ["neighbors", *W, "--view", "/etc/passwd"], 1, r"invalid view name"),
    Case(
        "neighbors-embeddings-truncated",
        lambda f: table_file(f, "embeddings", "semantic").write_bytes(b"PAR1 not really"),
        ["neighbors", *W, "--view", "semantic", "--k", "3"],
        1,
        r"table 'embeddings' \(view 'semantic'\) file \S+\.parquet is not readable Parquet",
    ),
    # a file written over outside complement with valid rows of the same contract: refused by its size
    Case(
        "topk-file-written-over",
        written_over("topk", "pop"),
        ["diagnose", *W, "--sql", "metrics", "-p", "views", "pop", "-p", "k", "5"],
        1,
        r"table 'topk' \(view 'pop'\) file topk/pop/\S+\.parquet is [\d,]+ bytes, but was [\d,]+ bytes when complement "
        r"wrote it: it was changed outside complement.*; rebuild it with `complement train pop --view pop --k 20 -w "
        r"\S+`",
    ),
    Case(
        "interactions-file-written-over",
        written_over("interactions"),
        ["topk", *W, "--view", "pop", "--k", "5"],
        1,
        r"table 'interactions' file \S+\.parquet is [\d,]+ bytes, but was [\d,]+ bytes when complement wrote it",
    ),
    Case(
        "embeddings-file-written-over",
        written_over("embeddings", "semantic"),
        ["neighbors", *W, "--view", "semantic", "--k", "3"],
        1,
        r"table 'embeddings' \(view 'semantic'\) file \S+\.parquet is [\d,]+ bytes, but was",
    ),
    Case(
        "fuse-weight-nan",
        "synth",
        ["fuse", *W, "--views", "pop,truth_collab", "--method", "score", "--view", "f", "--weight", "nan"],
        1,
        r"--weight must be a finite number >= 0 and <= 1, not nan",
    ),
    Case(
        "fuse-weight-above-one",
        "synth",
        ["fuse", *W, "--views", "pop,truth_collab", "--method", "score", "--view", "f", "--weight", "1.5"],
        1,
        r"--weight",
    ),
    Case(
        "fuse-rrf-k-inf",
        "synth",
        ["fuse", *W, "--views", "pop,truth_collab", "--method", "rrf", "--view", "f", "--rrf-k", "inf"],
        1,
        r"--rrf-k must be a finite",
    ),
    Case(
        "fuse-k-zero",
        "synth",
        ["fuse", *W, "--views", "pop,truth_collab", "--method", "rrf", "--view", "f", "--k", "0"],
        1,
        r"--k must be at least 1",
    ),
    Case(
        "fuse-list-view-with-a-vector-method",
        rrf_list_view("r"),
        ["fuse", *W, "--views", "r,pop", "--method", "concat", "--view", "f", "--k", "20"],
        1,
        r"view 'r' is a list view .* --method concat reads; score and rrf fuse list views",
    ),
    # a list view is said to be one as it was made: an rrf of two views' vectors is no import, nor a fusion of lists
    *(
        Case(
            f"{step}-{case_id}",
            setup,
            [*(a.replace("{view}", view) for a in argv), *W],
            1,
            rf"^Error: view '{view}' is a list view \(" + how + why,
        )
        for case_id, view, setup, how in (
            (
                "fused-list-view",
                "r",
                rrf_list_view("r"),
                r"its lists were fused with `complement fuse --views pop,truth_collab --method rrf --view r --k 20`, "
                r"and rrf fusion writes top-K lists, no vectors\): ",
            ),
            (
                "imported-list-view",
                "mine",
                imported_list_view("mine"),
                r"its lists were imported with `complement topk --view mine --from \S+/r\.trec[^`]*`\): ",
            ),
        )
        for step, argv, why in (
            ("probe-source", ["probe", "--source", "{view}", "--target", "truth_collab"], "it has no item vectors to "),
            (
                "probe-target",
                ["probe", "--source", "truth_semantic", "--target", "{view}"],
                "it has no item vectors to ",
            ),
            (
                "topk",
                ["topk", "--view", "{view}"],
                "it has no vectors to score; "
                + (
                    "its lists are remade by running that fusion again$" if case_id.startswith("fused") else "re-import"
                ),
            ),
        )
    ),
    Case(
        "fuse-unknown-method",
        "synth",
        ["fuse", *W, "--views", "pop,truth_collab", "--method", "sum", "--view", "f"],
        2,
        r"'sum' is not one of 'score', 'rrf', 'concat'",
    ),
    Case(
        "fuse-same-views",
        "synth",
        ["fuse", *W, "--views", "pop,pop", "--method", "rrf", "--view", "f"],
        1,
        r"two different view names",
    ),
    Case(
        "fuse-view-traversal",
        "synth",
        ["fuse", *W, "--views", "pop,truth_collab", "--method", "rrf", "--view", "../f"],
        1,
        r"invalid view name",
    ),
    Case(
        "probe-cca-threshold-nan",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop", "--cca-threshold", "nan"],
        1,
        r"--cca-threshold must be a finite",
    ),
    Case(
        "probe-k-above-catalogue",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop", "--k", "500"],
        1,
        r"--k must be at most 29",
    ),
    Case("probe-same-views", "synth", ["probe", *W, "--source", "pop", "--target", "pop"], 1, r"two different views"),
    Case(
        "probe-unknown-mapper",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop", "--mapper", "svm"],
        2,
        r"Invalid value for '--mapper'.*unknown mapper 'svm'",
    ),
    Case(
        "probe-unknown-shift",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop", "--shift", "time"],
        2,
        r"Invalid value for '--shift'.*'time' is not one of random, popularity, cold",
    ),
    Case(
        "probe-view-injection",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop;drop"],
        1,
        r"invalid view name 'pop;drop'",
    ),
    Case(
        "probe-seeds-zero",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop", "--seeds", "0"],
        1,
        r"--seeds must be at least 1, not 0",
    ),
]

EMBED = [
    Case(
        "embed-from-empty-parquet",
        write("v.parquet", b""),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"vectors file .*v\.parquet is not a readable Parquet file",
    ),
    Case(
        "embed-from-not-parquet",
        write("v.parquet", "id,vector\n1,2\n"),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"is not a readable Parquet file",
    ),
    Case(
        "embed-from-truncated-parquet",
        lambda f: (vectors("full.parquet")(f), (f / "v.parquet").write_bytes((f / "full.parquet").read_bytes()[:-40])),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"is not a readable Parquet file",
    ),
    Case(
        "embed-from-wrong-columns",
        lambda f: shutil.copy(table_file(f, "users"), f / "v.parquet"),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"has no 'id' \(or 'item_id'\) column",
    ),
    Case(
        "embed-from-nan-vector",
        vectors("v.parquet", change=lambda i, r: (i, [[float("nan")] * 8, *r[1:]])),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"contain NaN or inf",
    ),
    Case(
        "embed-from-ragged",
        vectors("v.parquet", change=lambda i, r: (i, [[1.0] * 3, *r[1:]])),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"mixed dimensions",
    ),
    Case(
        "embed-from-unknown-ids",
        vectors("v.parquet", ids=["nope-1", "nope-2"]),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"2 of 2 ids are not items of this workspace",
    ),
    Case(
        "embed-from-duplicate-ids",
        vectors("v.parquet", change=lambda i, r: (i[:2] + i[:2], r[:4])),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "x"],
        1,
        r"ids are not unique",
    ),
    Case(
        "embed-from-dimension-mismatch",
        lambda f: (imported_view(f, "user", 1), vectors("v.parquet", dim=8)(f)),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "mine"],
        1,
        r"view 'mine' has 1-d user vectors but these item vectors are 8-d: import them into a new view "
        r"\(--view NAME\) and import that view's user vectors there too \(--entity user\)",
    ),
    Case(
        "embed-from-into-a-trained-view",
        vectors("v.parquet", dim=1),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "pop"],
        1,
        r"view 'pop' holds a trained model \(made by `complement train pop --view pop --k 20`\), and `complement "
        r"embed --from` writes imported vectors: write it to another view \(--view NAME\), or remove 'pop' first "
        r"with `complement drop pop`$",
    ),
    Case(
        "embed-from-user-dimension-mismatch",
        lambda f: (
            imported_view(f, "item", 3),
            pq.write_table(
                pa.table(
                    {
                        "id": pq.read_table(table_file(f, "users")).column("user_id"),
                        "vector": [[0.5, 0.5]] * pq.read_metadata(table_file(f, "users")).num_rows,
                    }
                ),
                f / "u.parquet",
            ),
        ),
        ["embed", *W, "--from", "{tmp}/u.parquet", "--entity", "user", "--view", "mine"],
        1,
        r"view 'mine' has 3-d item vectors but these user vectors are 2-d",
    ),
    Case(
        "embed-npy-without-ids",
        npy("v.npy"),
        ["embed", *W, "--from", "{tmp}/v.npy", "--view", "x"],
        1,
        r"give the id of each row with --ids",
    ),
    Case(
        "embed-npy-truncated",
        both(npy("v.npy", truncate=100), ids_file("ids.txt")),
        ["embed", *W, "--from", "{tmp}/v.npy", "--ids", "{tmp}/ids.txt", "--view", "x"],
        1,
        r"is not a readable \.npy array",
    ),
    Case(
        "embed-npy-ids-count",
        both(npy("v.npy"), ids_file("ids.txt", n_less=2)),
        ["embed", *W, "--from", "{tmp}/v.npy", "--ids", "{tmp}/ids.txt", "--view", "x"],
        1,
        r"has 30 rows but .* has 28 ids",
    ),
    Case(
        "embed-ids-not-utf8",
        both(npy("v.npy"), write("ids.txt", b"\xff\xfe\x00bad\n")),
        ["embed", *W, "--from", "{tmp}/v.npy", "--ids", "{tmp}/ids.txt", "--view", "x"],
        1,
        r"ids file .* is not UTF-8 text",
    ),
    Case(
        "embed-view-traversal",
        vectors("v.parquet"),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "../../x"],
        1,
        r"invalid view name",
    ),
    Case(
        "embed-from-missing-file",
        "synth",
        ["embed", *W, "--from", "{tmp}/nope.parquet", "--view", "x"],
        1,
        r"vectors file .*nope\.parquet does not exist",
    ),
    Case(
        "embed-unknown-entity",
        vectors("v.parquet"),
        ["embed", *W, "--from", "{tmp}/v.parquet", "--entity", "shop"],
        2,
        r"Invalid value for '--entity'",
    ),
    Case("embed-batch-size-zero", "synth", ["embed", *W, "--batch-size", "0"], 1, r"--batch-size must be at least 1"),
]

CONFIG = [
    Case(
        "ingest-config-not-utf8",
        config_edit(lambda b: b.replace(b'kind = "synthetic"', b'kind = "synth\xe9tic"')),
        ["ingest", *W],
        1,
        r"complement\.toml:2: not UTF-8 text",
    ),
    Case(
        "ingest-config-syntax-error",
        config_edit(lambda b: b + b"\n[split\n"),
        ["ingest", *W],
        1,
        r"complement\.toml: not valid TOML",
    ),
    Case(
        "ingest-config-wrong-type",
        config_edit(lambda b: b.replace(b"seed = 3\n", b'seed = "x"\n', 1)),
        ["ingest", *W],
        1,
        r"\[dataset\] seed must be an integer, not 'x'",
    ),
    Case(
        "ingest-config-ratios-wrong",
        config_edit(lambda b: re.sub(rb"ratios = \[[^\]]*\]", b"ratios = [0.8, nan, 0.1]", b)),
        ["ingest", *W],
        1,
        r"\[split\] ratios must be 3 finite numbers",
    ),
    Case(
        "ingest-config-split-not-a-table",
        config_edit(lambda b: b'split = "random"\n' + b.split(b"[split]")[0]),
        ["ingest", *W],
        1,
        r"'split' must be a table",
    ),
    *(
        Case(
            f"ingest-workspace-{case_id}",
            setup,
            ["ingest", "-w", "{tmp}/nows"],
            1,
            rf"workspace \S+/nows {what}: pass -w DIR",
        )
        for case_id, setup, what in (
            ("missing", "none", "does not exist"),
            ("a-file", write("nows", b"not a folder\n"), "is not a folder"),
        )
    ),
    Case(
        "synth-pop-skew-nan",
        "none",
        ["synth", "{tmp}/new", "--pop-skew", "nan"],
        1,
        r"--pop-skew must be a finite number",
    ),
    # sizes above the 32-bit keys: one line, not numpy's "Maximum allowed dimension exceeded"
    *(
        Case(f"synth-{flag}-above-32-bit", "none", ["synth", "{tmp}/new", f"--{flag}", big], 1, message)
        for flag, big, message in (
            ("users", "99999999999999999999", r"--users must be at most 2147483648 \(32-bit keys\)"),
            ("items", "2147483649", r"--items must be at most 2147483648"),
        )
    ),
]

LOADERS = [
    generic("", case_id="generic-empty-file", message=r"events\.csv: .*(empty|no data|cannot parse)"),
    generic("user,item\n", case_id="generic-header-only", message=r"the dataset has no interactions"),
    generic(
        "who,what\nu1,i1\n",
        case_id="generic-missing-columns",
        message=r"no column\(s\) user, item \(found: who, what\)",
    ),
    generic(
        "user\titem\nu1,i1\n",
        case_id="generic-wrong-delimiter",
        message=r"events\.csv:2: cannot parse \(CSV parse error: Expected 2 columns",
    ),
    generic(
        "user|item\nu1|i1\n",
        "--user-col",
        "user|item",
        case_id="generic-delimiter-in-column-name",
        message=r"no column\(s\) user\|item",
    ),
    generic(
        "user,item,rating\nu1,i1,5\nu2,i1,five\n",
        "--rating-col",
        "rating",
        case_id="generic-rating-not-numeric",
        message=r"rating column rating is not numeric",
    ),
    generic(
        "user,item,rating\nu1,i1,5\nu2,i1,inf\n",
        "--rating-col",
        "rating",
        "--min-rating",
        "4",
        case_id="generic-rating-inf",
        message=r"1 interactions have a non-finite rating \(NaN or ±inf; row 2: inf\)",
    ),
    generic(
        "user,item,rating\nu1,i1,5\nu2,i1,-inf\n",
        "--rating-col",
        "rating",
        case_id="generic-rating-minus-inf",
        message=r"non-finite rating",
    ),
    generic(
        "user,item,rating\nu1,i1,NaN\nu2,i1,4\n",
        "--rating-col",
        "rating",
        case_id="generic-rating-nan",
        message=r"non-finite rating \(NaN or ±inf; row 1: nan\)",
    ),
    generic(
        "user,item,when\nu1,i1,yesterday\n",
        "--time-col",
        "when",
        case_id="generic-time-not-a-date",
        message=r"time values are neither numbers nor ISO dates",
    ),
    generic('user,item\n"u\n1",i1\nu2,i1\n', case_id="generic-id-with-newline", message=r"user ids? .*line break"),
    generic(b"user,item\nu1,i\xff1\n", case_id="generic-not-utf8", message=r"events\.csv:2: line is not valid UTF-8"),
    generic(
        "user,item\nu1,i1\n",
        "--min-rating",
        "nan",
        case_id="init-min-rating-nan",
        message=r"--min-rating must be a finite number, not nan",
    ),
    generic(
        "user,item\nu1,i1\n",
        "--min-rating",
        "inf",
        case_id="init-min-rating-inf",
        message=r"--min-rating must be a finite number",
    ),
    generic(
        "user,item\nu1,i1\n",
        "--ratios",
        "0.8,nan,0.1",
        case_id="init-ratios-nan",
        message=r"split ratios must be three finite non-negative numbers",
    ),
    *(
        generic(
            "user,item\nu1,i1\n",
            "--ratios",
            value,
            case_id=f"init-ratios-{case_id}",
            exit_code=2,
            message=r"Invalid value for '--ratios': .* is not three numbers train,valid,test",
        )
        for case_id, value in (
            ("two", "0.8,0.2"),
            ("word", "0.8,x,0.1"),
            ("empty-entry", "0.8,,0.1"),
            ("sep", "1_0,1,1"),
        )
    ),
    generic(
        "user,item\nu1,i1\n", "--kcore", "-1", case_id="init-kcore-negative", message=r"--kcore must be at least 0"
    ),
    Case(
        "generic-items-duplicate-ids",
        both(
            write("events.csv", "user,item\nu1,i1\nu1,i2\n"),
            write("items.csv", "item,title\ni1,A\ni1,B\ni2,C\ni2,D\ni3,E\n"),
        ),
        [*GENERIC, "--items", "{tmp}/items.csv"],
        1,
        r"2 duplicate item ids \(e\.g\. 'i1', 'i2'\) on 4 rows",
    ),
    Case(
        "init-unknown-kind",
        "none",
        ["init", "{tmp}/new", "-d", "movielenz", "-p", "{fixtures}/movielens_100k"],
        1,
        r"unknown dataset kind 'movielenz'",
    ),
    Case(
        "init-missing-path",
        "none",
        ["init", "{tmp}/new", "-d", "movielens", "-p", "{tmp}/nowhere"],
        1,
        r"dataset path .*nowhere does not exist",
    ),
    Case(
        "movielens-empty-ratings",
        copy_fixture("movielens_100k", edit=lambda d: (d / "u.data").write_bytes(b"")),
        ["init", "{tmp}/new", "-d", "ml-100k", "-p", "{tmp}/data"],
        1,
        r"u\.data|no interactions",
    ),
    Case(
        "movielens-rating-not-numeric",
        copy_fixture("movielens_100k", edit=replace_in("u.data", b"1\t1\t5\t", b"1\t1\tfive\t")),
        ["init", "{tmp}/new", "-d", "ml-100k", "-p", "{tmp}/data"],
        1,
        r"u\.data",
    ),
    Case(
        "movielens-items-duplicate-ids",
        copy_fixture(
            "movielens_100k",
            edit=lambda d: (d / "u.item").write_bytes(
                (d / "u.item").read_bytes() + (d / "u.item").read_bytes().splitlines(keepends=True)[0]
            ),
        ),
        ["init", "{tmp}/new", "-d", "ml-100k", "-p", "{tmp}/data"],
        1,
        r"u\.item: 1 duplicate item ids \(e\.g\. '1'\)",
    ),
    Case(
        "movielens-dat-wrong-delimiter",
        copy_fixture("movielens_dat", edit=replace_in("ratings.dat", b"::", b",")),
        ["init", "{tmp}/new", "-d", "ml-1m", "-p", "{tmp}/data"],
        1,
        r"ratings\.dat",
    ),
    Case(
        "recbole-missing-column",
        copy_fixture("recbole_plain", edit=replace_in("toy.inter", b"item_id:token", b"thing:token")),
        ["init", "{tmp}/new", "-d", "recbole", "-p", "{tmp}/data"],
        1,
        r"toy\.inter.*item_id",
    ),
    Case(
        "recbole-timestamp-not-numeric",
        copy_fixture("recbole_plain", edit=replace_in("toy.inter", b"\t100\n", b"\tnoon\n")),
        ["init", "{tmp}/new", "-d", "recbole", "-p", "{tmp}/data"],
        1,
        r"toy\.inter",
    ),
    Case(
        "recbole-user2index-duplicate-user",
        copy_fixture(
            "recbole_seq",
            edit=lambda d: (d / "toy.user2index").write_bytes(
                (d / "toy.user2index").read_bytes()
                + (d / "toy.user2index").read_bytes().splitlines(keepends=True)[0].split(b"\t")[0]
                + b"\t99\n"
            ),
        ),
        ["init", "{tmp}/new", "-d", "recbole", "-p", "{tmp}/data"],
        1,
        r"toy\.user2index:\d+: duplicate user id",
    ),
    Case(
        "recbole-item2index-index-twice",
        copy_fixture(
            "recbole_seq",
            edit=lambda d: (d / "toy.item2index").write_bytes((d / "toy.item2index").read_bytes() + b"ITEMZ\t0\n"),
        ),
        ["init", "{tmp}/new", "-d", "recbole", "-p", "{tmp}/data"],
        1,
        r"toy\.item2index:\d+: index 0 is given twice",
    ),
    Case(
        "recbole-items-duplicate-ids",
        copy_fixture(
            "recbole_plain",
            edit=lambda d: (d / "toy.item").write_bytes((d / "toy.item").read_bytes() + b"007\tAgain\tspy\n"),
        ),
        ["init", "{tmp}/new", "-d", "recbole", "-p", "{tmp}/data"],
        1,
        r"toy\.item: 1 duplicate item ids \(e\.g\. '007'\) on 2 rows",
    ),
    Case(
        "amazon-duplicate-meta",
        copy_fixture(
            "amazon2023",
            edit=lambda d: (d / "meta_All_Beauty.jsonl").write_bytes(
                (d / "meta_All_Beauty.jsonl").read_bytes()
                + (d / "meta_All_Beauty.jsonl").read_bytes().splitlines(keepends=True)[0]
            ),
        ),
        ["init", "{tmp}/new", "-d", "amazon2023", "-p", "{tmp}/data"],
        1,
        r"meta_All_Beauty\.jsonl:\d+: duplicate item id",
    ),
    Case(
        "movielens-empty-items",
        copy_fixture("movielens_100k", edit=lambda d: (d / "u.item").write_bytes(b"")),
        ["init", "{tmp}/new", "-d", "ml-100k", "-p", "{tmp}/data"],
        1,
        r"u\.item: no item records",
    ),
    Case(
        "movielens-dat-empty-movies",
        copy_fixture("movielens_dat", edit=lambda d: (d / "movies.dat").write_bytes(b"")),
        ["init", "{tmp}/new", "-d", "ml-1m", "-p", "{tmp}/data"],
        1,
        r"movies\.dat: no item records",
    ),
    Case(
        "amazon-empty-meta",
        copy_fixture("amazon2023", edit=lambda d: (d / "meta_All_Beauty.jsonl").write_bytes(b"")),
        ["init", "{tmp}/new", "-d", "amazon2023", "-p", "{tmp}/data"],
        1,
        r"meta_All_Beauty\.jsonl: no item records",
    ),
    Case(
        "generic-empty-items-file",
        both(write("events.csv", "user,item\nu1,i1\n"), write("items.csv", "item,title\n")),
        [*GENERIC, "--items", "{tmp}/items.csv"],
        1,
        r"items\.csv: no item records",
    ),
    Case(
        "recbole-rating-not-numeric",
        copy_fixture("recbole_plain", edit=replace_in("toy.inter", b"\t5\t", b"\tfive\t")),
        ["init", "{tmp}/new", "-d", "recbole", "-p", "{tmp}/data"],
        1,
        r"toy\.inter: rating/timestamp values are not numbers",
    ),
    Case(
        "amazon-rating-not-numeric",
        copy_fixture("amazon2023", edit=replace_in("All_Beauty.jsonl", b'"rating": 5.0', b'"rating": "five"')),
        ["init", "{tmp}/new", "-d", "amazon2023", "-p", "{tmp}/data"],
        1,
        r"All_Beauty\.jsonl:1: field rating is not a number",
    ),
    Case(
        "amazon-broken-json-line",
        copy_fixture(
            "amazon2023",
            edit=lambda d: (d / "All_Beauty.jsonl").write_bytes(
                (d / "All_Beauty.jsonl").read_bytes() + b'{"rating": 5.0, "user_id": \n'
            ),
        ),
        ["init", "{tmp}/new", "-d", "amazon2023", "-p", "{tmp}/data"],
        1,
        r"All_Beauty\.jsonl:\d+",
    ),
    Case(
        "init-synthetic-kind", "none", ["init", "{tmp}/new", "-d", "synthetic", "-p", "{tmp}"], 1, r"complement synth"
    ),
]

OTHER = [
    Case(
        "run-experiment-syntax-error",
        write("exp.toml", "[run\nseeds = 1\n"),
        ["run", "{tmp}/exp.toml", *W],
        1,
        r"exp\.toml",
    ),
    Case(
        "run-experiment-not-utf8",
        write("exp.toml", b'[dataset]\nkind = "\xff"\n'),
        ["run", "{tmp}/exp.toml", *W],
        1,
        r"exp\.toml",
    ),
    Case("run-experiment-missing", "synth", ["run", "{tmp}/nope.toml", *W], 1, r"nope\.toml"),
    *(
        Case(
            f"run-seeds-flag-{case_id}",
            write("exp.toml", RUN_LIGHTGCN),
            ["run", "{tmp}/exp.toml", *W, "--seeds", v],
            2,
            msg,
        )
        for case_id, v, msg in (
            (
                "a-word",
                "a",
                r"Invalid value for '--seeds': 'a' is not comma-separated integers 0 or more, e\.g\. 1,2,3",
            ),
            ("negative", "1,-1", r"'1,-1' is not comma-separated integers"),
            ("fraction", "1.5", r"'1\.5' is not comma-separated integers"),
        )
    ),
    Case(
        "run-set-through-a-value",
        write("exp.toml", RUN_LIGHTGCN),
        ["run", "{tmp}/exp.toml", *W, "--set", "dataset.kind.x=1"],
        1,
        r"'kind' holds a value \('synthetic'\), not a table",
    ),
    # a trained view's hyperparameters are checked by train's rules before the run writes anything
    *(
        Case(f"run-view-{case_id}", write("exp.toml", text), ["run", "{tmp}/exp.toml", *W, *extra], 1, message)
        for case_id, text, extra, message in (
            (
                "epochs-not-integer",
                RUN_LIGHTGCN + 'epochs = "fifty"\n',
                [],
                r"exp\.toml: view 'lightgcn'.epochs must be an integer, not 'fifty'",
            ),
            ("lr-negative-by-set", RUN_LIGHTGCN, ["--set", "view.lightgcn.lr=-1"], r"lr must be a finite number > 0"),
            (
                "valid-users-negative",
                RUN_LIGHTGCN + "valid_users = -3\n",
                [],
                r"valid_users must be at least 0, not -3",
            ),
            ("seed-float", RUN_LIGHTGCN + "seed = 1.5\n", [], r"view 'lightgcn'.seed must be an integer, not 1\.5"),
            (
                "align-weight-nan-by-set",
                RUN_LIGHTGCN.replace('model = "lightgcn"', 'model = "aligned-mse"'),
                ["--set", "view.lightgcn.align_weight=nan"],
                r"view 'lightgcn'.align_weight must be a finite number",
            ),
        )
    ),
    # [dataset], [split], [diagnostics] and [run] values are checked as the steps will, before a new
    # workspace (its folder, its complement.toml) is written
    *(
        Case(f"run-new-{case_id}", write("exp.toml", text), ["run", "{tmp}/exp.toml", "-w", "{tmp}/new"], 1, message)
        for case_id, text, message in (
            (
                "synthetic-users-negative",
                RUN_LIGHTGCN.replace("users = 40", "users = -5"),
                r"^Error: exp\.toml: \[dataset\]\.users must be at least 1, not -5$",
            ),
            (  # named as every other table's unknown key is, with the closest knob
                "synthetic-unknown-knob",
                RUN_LIGHTGCN.replace("users = 40", "userz = 40"),
                r"\[dataset\]: unknown key 'userz' — did you mean 'users'\?",
            ),
            ("dataset-kind-unknown", RUN_LIGHTGCN.replace('"synthetic"', '"movielenz"'), r"unknown dataset kind"),
            ("split-ratio-negative", RUN_LIGHTGCN + "[split]\nratios = [-1, 1, 1]\n", r"split ratios must be"),
            (
                "diagnostics-k-zero",
                RUN_LIGHTGCN + "[diagnostics]\nk = [0]\n",
                r"\[diagnostics\]\.k must be a list of positive",
            ),
            ("neighbors-k-negative", RUN_LIGHTGCN + "[diagnostics]\nneighbors_k = -1\n", r"neighbors_k must be"),
            ("run-seed-negative", RUN_LIGHTGCN + "[run]\nseeds = [-1]\n", r"\[run\]\.seeds must be a list of integers"),
            ("view-epochs-text", RUN_LIGHTGCN + 'epochs = "fifty"\n', r"epochs must be an integer"),
            (
                "view-from-not-text",
                RUN_LIGHTGCN + '[[view]]\nname = "imp"\nfrom = 5\n',
                r"'imp'\.from must be a string",
            ),
            ("view-from-missing", RUN_LIGHTGCN + '[[view]]\nname = "imp"\nfrom = "/nope.parquet"\n', r"does not exist"),
            ("view-name-too-long", RUN_LIGHTGCN.replace('name = "lightgcn"', f'name = "{"a" * 101}"'), r"1 to 100"),
            ("view-k-below-diagnostics-k", RUN_LIGHTGCN + "k = 10\n", r"'lightgcn'\.k = 10 is shorter than"),
            ("fusion-not-a-table", "fusion = [1]\n" + RUN_LIGHTGCN, r"fusion\[0\] must be a table"),
            ("diagnostics-not-a-table", "diagnostics = 5\n" + RUN_LIGHTGCN, r"\[diagnostics\] must be a table"),
            (
                "diagnostics-names-a-string",
                RUN_LIGHTGCN + '[diagnostics]\nnames = "overlap"\n',
                r"names must be a list",
            ),
            ("run-seed-twice", RUN_LIGHTGCN + "[run]\nseeds = [1, 1]\n", r"names a seed twice"),
            ("split-seed-too-large", RUN_LIGHTGCN + "[split]\nseed = 4294967296\n", r"\[split\]\.seed must be at most"),
            (
                "probe-seeds-past-the-largest-seed",
                RUN_LIGHTGCN
                + '[[probe]]\nsource = "truth_semantic"\ntarget = "lightgcn"\nseed = 2147483647\nseeds = 2\n',
                r"probe\[0\]\.seed must be at most 2147483646",
            ),
            ("run-seed-too-large", RUN_LIGHTGCN + "[run]\nseeds = [4294967296]\n", r"from 0 to 2147483647"),
            (
                "declared-name-equals-a-seeded-name",
                RUN_LIGHTGCN + 'k = 20\n[[view]]\nname = "lightgcn-s1"\nembed = "default"\n[run]\nseeds = [1]\n',
                r"two steps of the experiment would write 'lightgcn-s1'",
            ),
            (
                "probe-mappers-not-text",
                RUN_LIGHTGCN + '[[probe]]\nsource = "truth_semantic"\ntarget = "lightgcn"\nmappers = [1]\n',
                r"mapper names are strings",
            ),
            (
                "probe-source-is-target",
                RUN_LIGHTGCN + '[[probe]]\nsource = "lightgcn"\ntarget = "lightgcn"\n',
                r"two different views",
            ),
        )
    ),
    # a workspace folder that is not there is named as such, not as a missing table
    Case("diagnose-workspace-missing", "none", ["diagnose", "-w", "{tmp}/nosuch", "--sql", "metrics"], 1, "not exist"),
    Case("report-workspace-missing", "none", ["report", "-w", "{tmp}/nosuch"], 1, r"workspace .*nosuch does not exist"),
    Case("topk-workspace-missing", "none", ["topk", "-w", "{tmp}/nosuch", "--view", "pop"], 1, "does not exist"),
    Case("diagnose-unknown", "synth", ["diagnose", *W, "--sql", "metricz"], 1, r"metricz"),
    Case(
        "diagnose-param-injection",
        "synth",
        ["diagnose", *W, "--sql", "metrics", "-p", "views", "pop'; DROP TABLE items; --", "-p", "k", "5"],
        1,
        r"pop'; DROP TABLE items",
    ),
    Case(
        "diagnose-unknown-param",
        "synth",
        ["diagnose", *W, "--sql", "metrics", "-p", "view", "pop"],
        2,
        r"has no parameter 'view'",
    ),
    Case("diagnose-k-zero", "synth", ["diagnose", *W, "--sql", "metrics", "-p", "k", "0"], 1, r"k must be at least 1"),
    Case(
        "diagnose-bad-k-list",
        "synth",
        ["diagnose", *W, "--sql", "metrics", "--k", "5,x"],
        2,
        r"Invalid value for '--k': '5,x' is not a comma list of integers",
    ),
    Case(
        "diagnose-k-list-zero",
        "synth",
        ["diagnose", *W, "--sql", "metrics", "--k", "5,0"],
        1,
        r"--k takes positive integers like 5,10,20, not '5,0'",
    ),
    Case(
        "fetch-unknown-dataset", "none", ["fetch", "movielens-99k", "--cache-dir", "{tmp}/cache"], 1, r"movielens-99k"
    ),
    Case(
        "fetch-file-base-url",
        "none",
        ["fetch", "movielens-100k", "--cache-dir", "{tmp}/cache", "--base-url", "file:///etc"],
        1,
        r"--base-url must be an http:// or https:// URL",
    ),
    Case(
        "fetch-unpinned-dataset",
        "none",
        ["fetch", "movielens-1m", "--cache-dir", "{tmp}/cache", "--base-url", "http://127.0.0.1:9"],
        1,
        r"dataset 'movielens-1m' has no pinned sha256 for ml-1m\.zip",
    ),
]

# a synthetic workspace's planted truth views (truth_semantic, truth_collab) are the known answer: no step
# writes a view under the reserved truth_ prefix, whether it would replace a truth view or add one beside them
TRUTH = r"view 'truth_\w+' cannot be written: names starting with 'truth_' are reserved for a synthetic workspace's"
RESERVED = [
    *(
        Case(f"truth-prefix-{case_id}", setup, argv, 1, TRUTH)
        for case_id, setup, argv in (
            ("embed", "synth", ["embed", *W, "--view", "truth_semantic"]),
            ("embed-from", vectors("v.parquet"), ["embed", *W, "--from", "{tmp}/v.parquet", "--view", "truth_collab"]),
            ("train", "synth", ["train", "pop", *W, "--view", "truth_collab", "--k", "5"]),
            ("fuse", "synth", ["fuse", *W, "--views", "pop,truth_collab", "--method", "rrf", "--view", "truth_x"]),
            (
                "topk-from",
                write("l.csv", "user,item\n"),
                ["topk", *W, "--view", "truth_collab", "--from", "{tmp}/l.csv"],
            ),
        )
    ),
    *(
        Case(
            f"truth-prefix-run-{case_id}",
            write("exp.toml", text),
            ["run", "{tmp}/exp.toml", *W, "--dry-run"],
            1,
            rf"exp\.toml: {where}\.name = '{name}': names starting with 'truth_' are reserved",
        )
        for case_id, text, where, name in (
            ("view", RUN_LIGHTGCN.replace('"lightgcn"\nmodel', '"truth_collab"\nmodel'), r"view\[0\]", "truth_collab"),
            (
                "fusion",
                RUN_LIGHTGCN + '[[fusion]]\nname = "truth_f"\nviews = ["lightgcn", "lightgcn"]\nmethod = "rrf"\n',
                r"fusion\[0\]",
                "truth_f",
            ),
        )
    ),
]

# what the experiment file alone does not show is checked when the run loads it, before any step writes: a
# list longer than the catalogue, a text_view that will not be there, a list view where vectors are read
RUN_K20 = RUN_LIGHTGCN + "k = 20\n"
IN_THE_WAY = r"\S+/afile is a file, not a folder"
RRF = '[[view]]\nname = "pop"\nmodel = "pop"\nk = 20\n[[fusion]]\nname = "f"\nviews = ["lightgcn", "pop"]\n'
RRF += 'method = "rrf"\n'
LIST_VIEW = r"view 'f' is a list view \(fusion 'f' with method rrf writes top-K lists, no vectors\): "


def generic_run(folder: Path) -> None:
    """A workspace ingested by `complement run` from a generic file of 20 items (its ingest is then up to date)."""
    import complement

    rows = [f"u{u},i{(u * 7 + j * 3) % 20}" for u in range(30) for j in range(8)]
    (folder / "events.csv").write_text("user,item\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (folder / "gen.toml").write_text(
        '[dataset]\nkind = "generic"\npath = "events.csv"\nuser_col = "user"\nitem_col = "item"\n'
        '[[view]]\nname = "pop"\nmodel = "pop"\nk = 5\n[diagnostics]\nk = [5]\n',
        encoding="utf-8",
    )
    complement.run(folder / "gen", folder / "gen.toml")


# a generator setting given in the file or with --set is named as its key, not as `complement synth`'s flag
SYNTH_KEYS = [
    Case(
        f"run-set-{'-'.join(a.split('.', 1)[1] for a in sets)}{suffix}",
        write("exp.toml", RUN_K20),
        ["run", "{tmp}/exp.toml", *argv, *(word for a in sets for word in ("--set", a))],
        1,
        r"^Error: exp\.toml: " + message,
    )
    for sets, message in (
        (["dataset.users=-5"], r"\[dataset\]\.users must be at least 1, not -5$"),
        (["dataset.users=2147483649"], r"\[dataset\]\.users must be at most 2147483648 \(32-bit keys\)"),
        (["dataset.items=5"], r"\[dataset\]\.items must be at least 20, not 5$"),
        (["dataset.shared=-1"], r"\[dataset\]\.shared must be 0 or more, not -1$"),
        (["dataset.semantic_private=-1"], r"\[dataset\]\.semantic_private must be 0 or more"),
        (["dataset.collab_private=-2"], r"\[dataset\]\.collab_private must be 0 or more, not -2$"),
        (
            ["dataset.semantic_private=40"],
            r"\[dataset\]\.shared \+ \[dataset\]\.semantic_private must be between 1 and \d+ \(the topic pairs",
        ),
        (
            ["dataset.shared=0", "dataset.collab_private=0"],
            r"\[dataset\]\.shared \+ \[dataset\]\.collab_private must be at least 1$",
        ),
        (["dataset.pop_skew=-1"], r"\[dataset\]\.pop_skew must be a finite number, 0 or more, not -1$"),
        (["dataset.preference_strength=-1"], r"\[dataset\]\.preference_strength must be a finite number, 0 or"),
        (
            ["dataset.interactions_per_user=100"],
            r"\[dataset\]\.interactions_per_user must be between 5 and \[dataset\]\.items/2 = 30, not 100$",
        ),
        (["dataset.seed=-1"], r"\[dataset\]\.seed must be at least 0, not -1$"),
    )
    for suffix, argv in (("", ["-w", "{tmp}/new"]), ("-dry-run", [*W, "--dry-run"]))
] + [
    Case(  # the real run said `--kcore must be at least 0` once it had written the workspace's complement.toml
        f"run-set-kcore{suffix}",
        write("exp.toml", '[dataset]\nkind = "movielens"\npath = "ml-100k"\n'),  # (read before the path)
        ["run", "{tmp}/exp.toml", *argv, "--set", "dataset.kcore=-1"],
        1,
        r"^Error: exp\.toml: \[dataset\]\.kcore must be at least 0, not -1$",
    )
    for suffix, argv in (("", ["-w", "{tmp}/new"]), ("-dry-run", [*W, "--dry-run"]))
]

PREFLIGHT = [
    *(
        Case(f"run-{case_id}{suffix}", write("exp.toml", text), ["run", "{tmp}/exp.toml", *argv], 1, message)
        for case_id, text, message in (
            (
                "view-k-above-synthetic-items",
                RUN_LIGHTGCN,
                r"exp\.toml: view 'lightgcn'\.k = 100 is larger than the catalogue \(\[dataset\]\.items = 60\); "
                r"set it to 60 or less",
            ),
            (
                "fusion-k-above-synthetic-items",
                RUN_K20 + RRF + "k = 61\n",
                r"exp\.toml: fusion 'f'\.k = 61 is larger than the catalogue",
            ),
            (
                "neighbors-k-above-synthetic-items",
                RUN_K20
                + '[diagnostics]\nneighbors_k = 60\nnames = ["item_agreement"]\npairs = [["lightgcn", "lightgcn"]]\n',
                r"\[diagnostics\]\.neighbors_k = 60 is larger than the other items of the catalogue "
                r"\(\[dataset\]\.items = 60\); set it to 59 or less",
            ),
            (
                "probe-k-above-synthetic-items",
                RUN_K20 + '[[probe]]\nsource = "truth_semantic"\ntarget = "lightgcn"\nk = 60\n',
                r"probe\[0\]\.k = 60 is larger than the other items",
            ),
            (
                "text-view-missing",
                RUN_K20 + '[[view]]\nname = "sem"\nmodel = "semantic"\nk = 20\ntext_view = "txt"\n',
                r"view 'sem'\.text_view = 'txt': the experiment declares no \[\[view\]\] 'txt' and the workspace "
                r"has none",
            ),
            (
                "text-view-seeded",
                RUN_K20
                + '[[view]]\nname = "sem"\nmodel = "alpharec"\nk = 20\ntext_view = "lightgcn"\n[run]\nseeds = [1]\n',
                r"'lightgcn' is a trained \[\[view\]\], written as lightgcn-sSEED for each of \[run\]\.seeds",
            ),
            (
                "text-view-a-fusion",
                RUN_K20 + RRF + '[[view]]\nname = "sem"\nmodel = "semantic"\nk = 20\ntext_view = "f"\n',
                LIST_VIEW + r"semantic reads its item vectors",
            ),
            (
                "list-view-in-a-vector-fusion",
                RUN_K20 + RRF + '[[fusion]]\nname = "c"\nviews = ["f", "pop"]\nmethod = "concat"\nk = 20\n',
                r"fusion 'c'\.views: " + LIST_VIEW + r"method concat reads the views' vectors",
            ),
            (
                "list-view-probed",
                RUN_K20 + RRF + '[[probe]]\nsource = "truth_semantic"\ntarget = "f"\n',
                r"probe\[0\]\.target: " + LIST_VIEW + r"a probe maps item vectors",
            ),
            (
                "list-view-in-item-agreement",
                RUN_K20 + RRF + '[diagnostics]\nnames = ["item_agreement"]\npairs = [["lightgcn", "f"]]\n',
                r"\[diagnostics\]\.pairs: " + LIST_VIEW + r"item_agreement compares the item neighbours",
            ),
        )
        for suffix, argv in (("", ["-w", "{tmp}/new"]), ("-dry-run", [*W, "--dry-run"]))
    ),
    # the paths the real run would refuse before its first write are refused before any, --dry-run included (the
    # real run wrote the workspace's complement.toml, and the dry run printed a plan, before ingest met them)
    *(
        Case(f"run-{case_id}{suffix}", setup, ["run", "{tmp}/exp.toml", *argv], 1, message)
        for case_id, setup, message in (
            (
                "dataset-path-missing",
                write("exp.toml", '[dataset]\nkind = "movielens"\npath = "nosuch"\n'),
                r"^Error: exp\.toml: dataset path \S+/nosuch does not exist$",
            ),
            (
                "dataset-path-missing-generic",
                write("exp.toml", '[dataset]\nkind = "csv"\npath = "events.csv"\n'),
                r"^Error: exp\.toml: dataset path \S+/events\.csv does not exist$",
            ),
            (
                "dataset-items-file-missing",
                both(
                    write("events.csv", "user,item\nu1,i1\n"),
                    write("exp.toml", '[dataset]\nkind = "generic"\npath = "events.csv"\nitems = "items.csv"\n'),
                ),
                r"^Error: exp\.toml: items file \S+/items\.csv does not exist$",
            ),
            (
                "dataset-without-path",
                write("exp.toml", '[dataset]\nkind = "movielens"\n[[view]]\nname = "pop"\nmodel = "pop"\n'),
                r"^Error: exp\.toml: \[dataset\] needs a path",
            ),
        )
        for suffix, argv in (("", ["-w", "{tmp}/new"]), ("-dry-run", [*W, "--dry-run"]))
    ),
    *(
        Case(f"run-{case_id}{suffix}", both(write("exp.toml", RUN_K20), plant), argv, 1, message)
        for case_id, plant, argv, message in (
            (
                "workspace-a-file",
                write("afile", "x"),
                ["run", "{tmp}/exp.toml", "-w", "{tmp}/afile"],
                r"^Error: \S+/afile is a file, not a folder: give a new or existing folder for the workspace$",
            ),
            (
                "workspace-under-a-file",
                write("afile", "x"),
                ["run", "{tmp}/exp.toml", "-w", "{tmp}/afile/ws"],
                r"^Error: \S+/afile/ws: " + IN_THE_WAY + "$",
            ),
            (
                "tables-a-file",
                write("new/tables", "x"),
                ["run", "{tmp}/exp.toml", "-w", "{tmp}/new"],
                r"^Error: \S+/new/tables is a file, not a folder: the run writes the workspace's tables there$",
            ),
            (
                "results-a-file",
                write("ws/results", "x"),
                ["run", "{tmp}/exp.toml", *W],
                r"^Error: \S+/ws/results is a file, not a folder: the run writes the workspace's results there$",
            ),
        )
        for suffix, argv in (("", argv), ("-dry-run", [*argv, "--dry-run"]))
    ),
    Case(  # (the synth workspace holds an earlier version's text vectors, view 'semantic': a new one has none)
        "run-text-view-default-missing",
        write("exp.toml", RUN_K20 + '[[view]]\nname = "sem"\nmodel = "semantic"\nk = 20\n'),
        ["run", "{tmp}/exp.toml", "-w", "{tmp}/new"],
        1,
        r"view 'sem'\.text_view = 'text': the experiment declares no",
    ),
    Case(
        "run-view-k-above-workspace-items",
        generic_run,
        ["run", "{tmp}/gen.toml", "-w", "{tmp}/gen", "--set", "view.pop.k=25", "--dry-run"],
        1,
        r"gen\.toml: view 'pop'\.k = 25 is larger than the catalogue \(the workspace's items table: 20 items\)",
    ),
]

# a [dataset] or [split] key the dataset's kind does not take (a typo, a loader's key on generated data, a generic
# column on another kind) is refused when the file is read, by ingest and by run (--dry-run too): it was ignored,
# its setting silently off (`min_ratng = 4.0` loaded every ml-100k rating)
UNKNOWN_KEY = r" — did you mean '{}'\? \(choose from: "
DATASET_KEYS = [
    Case(
        "ingest-dataset-key-typo-synthetic",
        config_edit(lambda b: b.replace(b"users = 40", b"userz = 40")),
        ["ingest", *W],
        1,
        r"complement\.toml: \[dataset\]: unknown key 'userz'" + UNKNOWN_KEY.format("users"),
    ),
    Case(
        "ingest-loader-key-on-synthetic",
        config_edit(lambda b: b.replace(b"users = 40", b"users = 40\nmin_rating = 4")),
        ["ingest", *W],
        1,
        r'complement\.toml: \[dataset\] min_rating does not apply to kind = "synthetic": its data is generated',
    ),
    Case(
        "ingest-split-key-typo",
        config_edit(lambda b: b.replace(b"[split]\n", b"[split]\nsed = 3\n")),
        ["ingest", *W],
        1,
        r"complement\.toml: \[split\]: unknown key 'sed'" + UNKNOWN_KEY.format("seed"),
    ),
    Case(
        "ingest-dataset-key-typo-movielens",
        both(
            copy_fixture("movielens_100k"),
            write("ml/complement.toml", '[dataset]\nkind = "movielens"\npath = "../data"\nmin_ratng = 4.0\n'),
        ),
        ["ingest", "-w", "{tmp}/ml"],
        1,
        r"ml/complement\.toml: \[dataset\]: unknown key 'min_ratng'" + UNKNOWN_KEY.format("min_rating"),
    ),
    *(
        Case(f"run-dataset-{case_id}{suffix}", write("exp.toml", text), ["run", "{tmp}/exp.toml", *argv], 1, message)
        for case_id, text, message in (
            (
                "key-typo-movielens",
                '[dataset]\nkind = "ml-100k"\npath = "ml-100k"\nmin_ratng = 4.0\n',
                r"^Error: exp\.toml: \[dataset\]: unknown key 'min_ratng'" + UNKNOWN_KEY.format("min_rating"),
            ),
            (
                "key-typo-recbole",
                '[dataset]\nkind = "recbole"\npath = "data"\nkcor = 5\n',
                r"\[dataset\]: unknown key 'kcor'" + UNKNOWN_KEY.format("kcore"),
            ),
            (
                "key-typo-amazon2023",
                '[dataset]\nkind = "amazon2023"\npath = "data"\ntemplat = "{title}"\n',
                r"\[dataset\]: unknown key 'templat'" + UNKNOWN_KEY.format("template"),
            ),
            (
                "key-typo-generic",
                '[dataset]\nkind = "csv"\npath = "e.csv"\nuser_column = "user"\n',
                r"\[dataset\]: unknown key 'user_column'" + UNKNOWN_KEY.format("user_col"),
            ),
            (
                "generic-key-on-movielens",
                '[dataset]\nkind = "movielens"\npath = "ml-100k"\ntext_cols = ["title"]\n',
                r'\[dataset\] text_cols applies to kind = "generic" only, not to \'movielens\'',
            ),
            (
                "loader-key-on-synthetic",
                '[dataset]\nkind = "synthetic"\nusers = 40\nitems = 60\nkcore = 2\n',
                r'\[dataset\] kcore does not apply to kind = "synthetic"',
            ),
        )
        for suffix, argv in (("", ["-w", "{tmp}/new"]), ("-dry-run", [*W, "--dry-run"]))
    ),
]

# a step of the experiment that would write a view into a name holding another kind of view is refused before any
# step runs, in the file's terms (the real run trained the views before it, then failed with `--view NAME`, an
# option a file has not); the synth workspace holds a trained view 'pop'
VIEW_KINDS = [
    Case(
        f"run-fusion-onto-a-trained-view{suffix}",
        write(
            "exp.toml",
            RUN_K20 + '[[view]]\nname = "rnd"\nmodel = "random"\nk = 20\n[[fusion]]\nname = "pop"\n'
            'views = ["lightgcn", "rnd"]\nmethod = "rrf"\nk = 20\n',
        ),
        ["run", "{tmp}/exp.toml", *W, *extra],
        1,
        r"^Error: exp\.toml: \[\[fusion\]\] 'pop' writes a fusion to view 'pop', but the workspace's view 'pop' "
        r"holds a trained model \(made by `complement train pop [^`]*`\): rename the \[\[fusion\]\] in exp\.toml, or "
        r"remove the workspace's view first with `complement drop pop -w \S+/ws`$",
    )
    for suffix, extra in (("", []), ("-dry-run", ["--dry-run"]))
]

# an option the chosen mode would ignore is refused rather than dropped silently; a name given twice, or a
# number written with another script's digits (which int() and \\d accept), is refused where it is parsed
FUSE = ["fuse", *W, "--views", "pop,truth_collab", "--view", "f", "--k", "10", "--method"]
PROBE_RUN = RUN_K20 + '[[probe]]\nsource = "truth_semantic"\ntarget = "lightgcn"\n'
IGNORED = [
    Case("fuse-rrf-weight", "synth", [*FUSE, "rrf", "--weight", "0.3"], 1, r"--weight is read by score and cca only, "),
    Case(
        "fuse-score-rrf-k", "synth", [*FUSE, "score", "--rrf-k", "10"], 1, r"--rrf-k is read by rrf only, not by score"
    ),
    Case(
        "fuse-concat-norm", "synth", [*FUSE, "concat", "--norm", "minmax"], 1, r"--norm is read by score only, not by"
    ),
    Case(
        "run-fusion-rrf-weight",
        write("exp.toml", RUN_K20 + RRF + "weight = 0.3\n"),
        ["run", "{tmp}/exp.toml", *W, "--dry-run"],
        1,
        r"exp\.toml: fusion 'f'\.weight = 0\.3 is read by score and cca only, not by rrf; leave it out",
    ),
    *(
        Case(f"export-split-with-{mode}", "synth", ["export", *W, *argv, "--split", "test"], 1, message)
        for mode, argv, message in (
            ("view", ["--view", "pop", "--out", "{tmp}/run.tsv"], r"--split applies to --qrels only, not to --view"),
            ("recbole", ["--recbole", "{tmp}/rb"], r"--split applies to --qrels only, not to --recbole"),
        )
    ),
    Case(
        "probe-mapper-twice",
        "synth",
        ["probe", *W, "--source", "semantic", "--target", "pop", "--mapper", "linear,mlp1,LINEAR"],
        1,  # it reads (a repeat, as a view named twice): refused by the library, not the parser
        r"--mapper linear,mlp1,LINEAR: mapper 'linear' is named twice \(linear, mlp1, linear\); name each",
    ),
    Case(
        "run-probe-mapper-twice",
        write("exp.toml", PROBE_RUN + 'mappers = ["mlp1", "mlp1"]\n'),
        ["run", "{tmp}/exp.toml", *W, "--dry-run"],
        1,
        r"exp\.toml: probe\[0\]\.mappers: mapper 'mlp1' is named twice",
    ),
    *(
        Case(
            f"probe-mapper-{case_id}",
            "synth",
            ["probe", *W, "--source", "semantic", "--target", "pop", "--mapper", mapper],
            2,
            rf"Invalid value for '--mapper': mapper '{mapper}': write ranks and widths with the digits 0-9",
        )
        for case_id, mapper in (("arabic-indic-width", "mlp:٣"), ("superscript-rank", "lowrank:³"))
    ),
    Case(
        "run-probe-mapper-arabic-indic",
        write("exp.toml", PROBE_RUN + 'mappers = ["mlp:٣x٣"]\n'),
        ["run", "{tmp}/exp.toml", *W, "--dry-run"],
        1,
        r"probe\[0\]\.mappers: mapper 'mlp:٣x٣': write ranks and widths with the digits 0-9",
    ),
    Case(
        "topk-device-arabic-indic", "synth", ["topk", *W, "--view", "pop", "--device", "cuda:\u0660"], 2, "cuda:\u0660"
    ),
    Case(
        "run-set-entry-arabic-indic",
        write("exp.toml", PROBE_RUN),
        ["run", "{tmp}/exp.toml", *W, "--dry-run", "--set", "probe.\u0660.k=5"],
        1,
        "--set probe\\.\u0660\\.k: no entry named '\u0660'",
    ),
]

# the exit-code rule (docs/design.md, Errors): text the parser cannot read exits 2, a readable value that is
# refused exits 1 with one line naming the option
PROBE_MAPPER = ["probe", *W, "--source", "semantic", "--target", "pop", "--mapper"]
EXIT_CODES = [
    *(
        Case(f"{command}-shard-unreadable", "synth", [command, *W, *view, "--shard", "half"], 2, r"--shard expects I/N")
        for command, view in (("embed", []), ("topk", ["--view", "pop"]))
    ),
    Case("topk-shard-zero", "synth", ["topk", *W, "--view", "pop", "--shard", "0/2"], 1, r"--shard 0/2: I must be"),
    Case("probe-mapper-rank-zero", "synth", [*PROBE_MAPPER, "lowrank:0"], 1, r"^Error: --mapper lowrank:0: lowrank:R"),
    Case(
        "probe-mapper-width-zero", "synth", [*PROBE_MAPPER, "mlp:8x0"], 1, r"^Error: --mapper mlp:8x0: .*width must be"
    ),
    Case(
        "probe-seeds-beyond-every-seed",
        "synth",
        [*PROBE_MAPPER, "linear", "--seeds", "99999999999999999999"],
        1,
        r"--seeds must be at most 2147483648, not 99999999999999999999",
    ),
    Case(
        "diagnose-spark-master-unknown",
        "synth",
        ["diagnose", *W, "--sql", "metrics", "-p", "k", "5", "--engine", "spark", "--master", "nosuch://x"],
        1,
        r"--master must be local\[N\], yarn, spark://HOST:PORT or k8s://URL, not 'nosuch://x'",
    ),
    generic(
        "user,item\nu1,i1\n",
        "--text-cols",
        "title,,genres",
        exit_code=2,
        message=r"Invalid value for '--text-cols': --text-cols has an empty entry in 'title,,genres'",
        case_id="init-text-cols-empty-entry",
    ),
]

# a path that needs a folder where a file is, or names a folder where a file is read, says which
PATHS = [
    *(
        Case(f"{case_id}-parent-is-a-file", write("afile", "x"), argv, 1, message + IN_THE_WAY)
        for case_id, argv, message in (
            ("export-out", ["export", *W, "--view", "pop", "--out", "{tmp}/afile/run.tsv"], r"--out \S+/run\.tsv: "),
            ("diagnose-out", ["diagnose", *W, "--sql", "metrics", "-p", "k", "5", "--out", "{tmp}/afile/m.csv"], ""),
            ("report-out", ["report", *W, "--out", "{tmp}/afile/sub/r.html"], r"--out \S+/sub/r\.html: "),
            ("synth-folder", ["synth", "{tmp}/afile/ws", "--users", "20", "--items", "60"], r"\S+/afile/ws: "),
        )
    ),
    # the folder given is named, not the lock file a workspace makes first (tables/.locks/data)
    *(
        Case(
            f"{command}-folder-is-a-file",
            write("afile", "x"),
            argv,
            1,
            r"^Error: \S+/afile is a file, not a folder: give",
        )
        for command, argv in (
            ("synth", ["synth", "{tmp}/afile", "--users", "20", "--items", "60"]),
            ("init", ["init", "{tmp}/afile", "-d", "synthetic"]),
        )
    ),
    *(
        Case(f"{case_id}-a-folder", both(npy("v.npy"), lambda f: (f / "adir").mkdir()), argv, 1, message)
        for case_id, argv, message in (
            (
                "embed-ids",
                ["embed", *W, "--from", "{tmp}/v.npy", "--ids", "{tmp}/adir", "--view", "x"],
                r"ids file \S+/adir is a folder, not a file",
            ),
            ("embed-from", ["embed", *W, "--from", "{tmp}/adir", "--view", "x"], r"vectors file \S+/adir is a folder"),
            ("topk-from", ["topk", *W, "--from", "{tmp}/adir", "--view", "x"], r"lists file \S+/adir is a folder, not"),
            ("run-file", ["run", "{tmp}/adir", *W, "--dry-run"], r"experiment file \S+/adir is a folder, not a file"),
        )
    ),
]


def test_a_library_read_of_a_workspace_that_is_not_there_says_so(tmp_path):
    # constructing one checks nothing (init and synth make workspaces in new folders); reading from it does
    (tmp_path / "afile").write_text("x")
    for path, what in (("nosuch", "does not exist"), ("afile", "is not a folder")):
        ws = Workspace(tmp_path / path)
        reads = (ws.item_ids, functools.partial(ws.read_vectors, "text"), functools.partial(ws.read_table, "topk", "p"))
        for read in reads:
            with pytest.raises(WorkspaceError, match=rf"workspace \S+{path} {what}: pass -w DIR"):
                read()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


CASES = (
    TRAIN
    + SCORING
    + EMBED
    + CONFIG
    + LOADERS
    + OTHER
    + RESERVED
    + SYNTH_KEYS
    + PREFLIGHT
    + DATASET_KEYS
    + VIEW_KINDS
    + IGNORED
    + PATHS
    + EXIT_CODES
)


def test_the_corpus_has_at_least_sixty_distinct_cases():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_fails_with_one_line_and_changes_nothing(case: Case, bases, tmp_path, capsys):
    run_case(case, tmp_path / "case", bases, capsys)


# a device the experiment asks for is checked when the run loads it, as resolve_device would when the step runs
# (torch's view of the machine is set: none, or one GPU)
CUDA = [
    (
        Case(
            "run-cuda-without-cuda",
            write("exp.toml", RUN_K20 + '[run]\ndevice = "cuda"\n'),
            ["run", "{tmp}/exp.toml", "-w", "{tmp}/new"],
            1,
            r"exp\.toml: \[run\]\.device = 'cuda', but no CUDA device is available; use 'cpu' or 'auto'",
        ),
        0,
    ),
    (
        Case(
            "run-view-cuda-without-cuda-dry-run",
            write("exp.toml", RUN_K20 + 'device = "cuda:0"\n'),
            ["run", "{tmp}/exp.toml", *W, "--dry-run"],
            1,
            r"exp\.toml: view 'lightgcn'\.device = 'cuda:0', but no CUDA device is available",
        ),
        0,
    ),
    (
        Case(
            "run-probe-second-gpu-of-one",
            write(
                "exp.toml", RUN_K20 + '[[probe]]\nsource = "truth_semantic"\ntarget = "lightgcn"\ndevice = "cuda:1"\n'
            ),
            ["run", "{tmp}/exp.toml", "-w", "{tmp}/new"],
            1,
            r"probe\[0\]\.device = 'cuda:1', but this machine has 1 CUDA device\(s\), cuda:0 to cuda:0",
        ),
        1,
    ),
]


@pytest.mark.parametrize(("case", "gpus"), CUDA, ids=[str(case) for case, _ in CUDA])
def test_a_device_that_is_not_there_fails_when_the_run_loads(case, gpus, bases, tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    run_case(case, tmp_path / "case", bases, capsys)


# ---- what is not bad input: a UTF-8 byte-order mark ---------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "kind", "file"),
    [
        ("recbole_plain", "recbole", "toy.inter"),
        ("recbole_plain", "recbole", "toy.item"),
        ("amazon2023", "amazon2023", "All_Beauty.jsonl"),
        ("amazon2023", "amazon2023", "meta_All_Beauty.jsonl"),
        ("movielens_dat", "ml-1m", "movies.dat"),
        ("movielens_100k", "ml-100k", "u.data"),
        ("generic", "generic", "events.csv"),
    ],
)
def test_a_byte_order_mark_at_the_start_of_a_file_is_skipped(tmp_path, capsys, fixture, kind, file):
    from conftest import run_cli

    from complement import Workspace

    options = ["--user-col", "who", "--item-col", "what", "--items", "{data}/things.csv"] if kind == "generic" else []
    path = "{data}/events.csv" if kind == "generic" else "{data}"
    tables = []
    for name, bom in (("plain", b""), ("bom", b"\xef\xbb\xbf")):
        data = tmp_path / f"{name}-data"
        shutil.copytree(FIXTURES / fixture, data)
        (data / file).write_bytes(bom + (FIXTURES / fixture / file).read_bytes())
        args = [a.format(data=data) for a in ["-d", kind, "-p", path, *options]]
        code, _, err = run_cli(capsys, "init", str(tmp_path / name), *args)
        assert code == 0, err
        ws = Workspace(tmp_path / name)
        tables.append(
            [
                ws.read_table(t)
                .select(["item_id", "title", "text"] if t == "items" else ["user_id", "item_id"])
                .to_pylist()
                for t in ("items", "interactions")
            ]
        )
    assert tables[0] == tables[1]


# ---- known gaps outside this corpus's files: each turns into a failure (XPASS) once fixed -------------
KNOWN_GAPS = [
    Case(
        "report-config-not-utf8",
        config_edit(lambda b: b + b'\n[diagnostics]\nk = "caf\xe9"\n'),
        ["report", *W],
        1,
        r"complement\.toml.*UTF-8",
    ),
    Case(
        "diagnose-items-duplicated-rows",
        table_edit("items", doubled),
        ["diagnose", *W, "--sql", "metrics", "-p", "k", "5"],
        1,
        r"table 'items' holds 3 item_id values more than once",
    ),
]


@pytest.mark.parametrize("case", KNOWN_GAPS, ids=str)
def test_former_gap_fails_with_one_line_and_changes_nothing(case: Case, bases, tmp_path, capsys):
    run_case(case, tmp_path / "case", bases, capsys)
