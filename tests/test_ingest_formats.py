"""Each loader on a small handmade fixture (tests/fixtures), driven through the CLI, and the
one-line errors of bad input."""

import gzip
import json
import shutil
from pathlib import Path

import pytest

from complement import Workspace
from complement.cli.app import main

FIXTURES = Path(__file__).parent / "fixtures"


def _init(tmp_path, *args, name="ws"):
    main(["init", str(tmp_path / name), *args])
    return Workspace(tmp_path / name)


def _fails(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert expected in err, err
    return err


# ---- Amazon Reviews 2023 ----------------------------------------------------------------------
@pytest.mark.parametrize("folder", ["amazon2023", "amazon2023_gz"])
def test_amazon2023_reviews_and_meta_ingest_with_rendered_text(tmp_path, folder):
    ws = _init(tmp_path, "--dataset", "amazon2023", "--path", str(FIXTURES / folder), "--split", "loo")
    counts = ws.query(
        "SELECT count(*) AS n, count(DISTINCT user_id) AS users, count(DISTINCT item_id) AS items FROM interactions"
    )
    # 7 reviews; (AE74..., B00YQ6X8EO) twice -> collapsed to the earliest
    assert counts.to_pylist() == [{"n": 6, "users": 3, "items": 4}]
    items = {r["item_id"]: r for r in ws.query("SELECT * FROM items").to_pylist()}
    assert items["B00YQ6X8EO"]["title"] == "Howard LC0008 Leather Conditioner, 8-Ounce & More"
    assert items["B00YQ6X8EO"]["text"] == (
        "Howard LC0008 Leather Conditioner, 8-Ounce & More. Store: Howard Products. "
        "Features: Conditions leather, Made in USA. Description: A rich conditioner."
    )
    assert items["B097R46CSY"]["text"] == "Eye Patch Black Adult with Tie Band (6 Per Pack)."
    assert items["B0NOMETA00"]["text"] is None  # no meta record: kept, counted
    ts = ws.query("SELECT ts FROM interactions WHERE user_id = 'AHV6QCNBJNSGLATP56JAWJ3C4G2A'").column(0).to_pylist()
    assert ts == [1451263845]  # milliseconds -> seconds


def test_amazon2023_bad_json_line_names_file_and_line(tmp_path, capsys):
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "amazon2023", folder)
    lines = (folder / "All_Beauty.jsonl").read_text().splitlines()
    lines[2] = lines[2][:40]
    (folder / "All_Beauty.jsonl").write_text("\n".join(lines) + "\n")
    _fails(
        capsys,
        ["init", str(tmp_path / "ws"), "--dataset", "amazon2023", "--path", str(folder)],
        "All_Beauty.jsonl:3: not a JSON record",
    )
    assert not (tmp_path / "ws").exists()


def test_amazon2023_undecodable_gz_line_names_file_and_line(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    good = json.dumps({"user_id": "u", "parent_asin": "p", "rating": 5, "timestamp": 1000}).encode()
    with gzip.open(folder / "Toys.jsonl.gz", "wb") as stream:
        stream.write(good + b"\n" + good.replace(b'"p"', b'"\xff"') + b"\n")
    _fails(
        capsys,
        ["init", str(tmp_path / "ws"), "-d", "amazon2023", "-p", str(folder)],
        "Toys.jsonl.gz:2: line is not valid utf-8",
    )


def test_amazon2023_duplicate_meta_ids_are_refused(tmp_path, capsys):
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "amazon2023", folder)
    meta = folder / "meta_All_Beauty.jsonl"
    meta.write_text(meta.read_text() + meta.read_text().splitlines()[0] + "\n")
    _fails(
        capsys,
        ["init", str(tmp_path / "ws"), "-d", "amazon2023", "-p", str(folder)],
        "meta_All_Beauty.jsonl:4: duplicate item id 'B00YQ6X8EO'",
    )


# ---- RecBole ----------------------------------------------------------------------------------
def test_recbole_sequential_unisrec_files_rebuild_full_sequences_with_raw_ids(tmp_path):
    ws = _init(tmp_path, "--dataset", "unisrec", "--path", str(FIXTURES / "recbole_seq"), "--split", "loo")
    rows = ws.query("SELECT user_id, item_id, seq, split FROM interactions ORDER BY user_id, seq").to_pylist()
    alice = [r["item_id"] for r in rows if r["user_id"] == "alice"]
    bob = [r["item_id"] for r in rows if r["user_id"] == "bob"]
    assert alice == ["ITEMA", "ITEMB", "ITEMC", "ITEMD", "ITEME", "ITEMA"]  # the repeat is kept
    assert bob == ["ITEME", "ITEMC", "ITEMA", "ITEMB", "ITEMD"]
    assert [r["split"] for r in rows if r["user_id"] == "alice"][-2:] == ["valid", "test"]
    texts = {r["item_id"]: r["text"] for r in ws.query("SELECT item_id, text FROM items").to_pylist()}
    assert texts["ITEMA"] == "A red & blue kite."
    assert texts["ITEME"] is None


def test_recbole_plain_inter_and_item_keep_token_ids_and_item_fields(tmp_path):
    ws = _init(
        tmp_path, "--dataset", "recbole", "--path", str(FIXTURES / "recbole_plain"), "--template", "{title} ({genre})"
    )
    assert ws.item_ids().tolist() == ["007", "008", "009"]
    assert ws.query("SELECT text FROM items ORDER BY item_idx").column(0).to_pylist() == [
        "Dr. No (spy action)",
        "Heat (crime)",
        "Alien (sci-fi horror)",
    ]
    got = ws.query("SELECT ts, rating FROM interactions WHERE user_id = 'u2' AND item_id = '009'").to_pylist()
    assert got == [{"ts": 103, "rating": 1.0}]  # timestamp:float 103.7 -> 103 s


def test_unknown_template_field_lists_the_fields(tmp_path, capsys):
    _fails(
        capsys,
        [
            "init",
            str(tmp_path / "ws"),
            "-d",
            "recbole",
            "-p",
            str(FIXTURES / "recbole_plain"),
            "--template",
            "{title}. {plot}",
        ],
        "template field(s) {plot} not in the item data (fields: title, genre)",
    )
    assert not (tmp_path / "ws").exists()


# ---- generic ----------------------------------------------------------------------------------
def test_generic_csv_with_items_file_and_iso_times(tmp_path):
    ws = _init(
        tmp_path,
        "-d",
        "generic",
        "-p",
        str(FIXTURES / "generic" / "events.csv"),
        "--user-col",
        "who",
        "--item-col",
        "what",
        "--time-col",
        "when",
        "--rating-col",
        "stars",
        "--items",
        str(FIXTURES / "generic" / "things.csv"),
        "--text-cols",
        "name,blurb",
        "--min-rating",
        "3",
    )
    assert ws.query("SELECT count(*) AS n FROM interactions").to_pylist() == [{"n": 4}]
    assert ws.query("SELECT item_id, text FROM items ORDER BY item_idx").to_pylist() == [
        {"item_id": "i1", "text": "Widget, large. A big widget."},
        {"item_id": "i2", "text": "Gadget."},
        {"item_id": "i3", "text": "Gizmo. A small gizmo."},
    ]
    assert ws.query("SELECT min(ts) AS t FROM interactions").to_pylist() == [{"t": 1609459200}]
    config = ws.config
    assert config["dataset"]["text_cols"] == ["name", "blurb"] and config["split"]["seed"] == 2020


def test_generic_wrong_column_names_the_columns_found(tmp_path, capsys):
    _fails(
        capsys,
        [
            "init",
            str(tmp_path / "ws"),
            "-d",
            "csv",
            "-p",
            str(FIXTURES / "generic" / "events.csv"),
            "--user-col",
            "user",
        ],
        "no column(s) user, item_id (found: who, what, when, stars)",
    )


def test_generic_duplicate_item_ids_in_items_file(tmp_path, capsys):
    items = tmp_path / "items.csv"
    items.write_text("what,name\ni1,a\ni1,b\n")
    _fails(
        capsys,
        [
            "init",
            str(tmp_path / "ws"),
            "-d",
            "csv",
            "-p",
            str(FIXTURES / "generic" / "events.csv"),
            "--user-col",
            "who",
            "--item-col",
            "what",
            "--items",
            str(items),
        ],
        "1 duplicate item ids (e.g. 'i1')",
    )


def test_generic_ragged_csv_line_is_named(tmp_path, capsys):
    data = tmp_path / "x.csv"
    data.write_text("user_id,item_id\na,b\nc\n")
    _fails(capsys, ["init", str(tmp_path / "ws"), "-d", "csv", "-p", str(data)], "x.csv:3: cannot parse")


# ---- CLI surface ------------------------------------------------------------------------------
def test_unknown_kind_lists_kinds(tmp_path, capsys):
    _fails(
        capsys,
        ["init", str(tmp_path / "ws"), "-d", "movielenz", "-p", str(tmp_path)],
        "unknown dataset kind 'movielenz' — did you mean 'movielens'?",
    )


def test_missing_path(tmp_path, capsys):
    _fails(capsys, ["init", str(tmp_path / "ws"), "-d", "movielens", "-p", str(tmp_path / "nope")], "does not exist")


def test_filter_that_empties_the_data_writes_nothing(tmp_path, capsys):
    _fails(
        capsys,
        ["init", str(tmp_path / "ws"), "-d", "recbole", "-p", str(FIXTURES / "recbole_plain"), "--kcore", "5"],
        "the kcore filter",
    )
    assert not (tmp_path / "ws").exists()


def test_ingest_rebuilds_from_the_config_and_records_a_run(tmp_path, capsys):
    ws = _init(tmp_path, "-d", "recbole", "-p", str(FIXTURES / "recbole_plain"))
    before = ws.table_path("interactions").read_bytes()
    main(["ingest", "-w", str(ws.root)])
    assert ws.table_path("interactions").read_bytes() == before
    assert ws.query("SELECT step FROM runs").column(0).to_pylist() == ["ingest", "ingest"]


def test_ingest_says_results_are_stale_only_when_the_data_changed(tmp_path, capsys, monkeypatch):
    # the note used to appear on every ingest with results in the workspace, though an unchanged ingest keeps
    # them current (the lineage compares content fingerprints)
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    ws = _init(tmp_path, "-d", "recbole", "-p", str(FIXTURES / "recbole_plain"))
    main(["train", "pop", "-w", str(ws.root), "--view", "pop", "--k", "3"])
    capsys.readouterr()
    main(["ingest", "-w", str(ws.root)])
    assert "stale" not in capsys.readouterr().err
    config = ws.root / "complement.toml"
    config.write_text(config.read_text().replace("kcore = 0", "kcore = 0\nmin_rating = 3"))  # drops u2's 009
    main(["ingest", "-w", str(ws.root)])
    notes = [line for line in capsys.readouterr().err.splitlines() if "stale" in line]
    assert notes == ["note: views computed on the previous data are now stale: pop (vectors, top-K lists)"]


def test_init_force_over_results_says_which_are_stale(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    ws = _init(tmp_path, "-d", "recbole", "-p", str(FIXTURES / "recbole_plain"))
    main(["train", "pop", "-w", str(ws.root), "--view", "pop", "--k", "3"])
    capsys.readouterr()
    args = ["init", str(ws.root), "-d", "recbole", "-p", str(FIXTURES / "recbole_plain"), "--force"]
    main(args)  # the same data again: nothing is stale
    assert "stale" not in capsys.readouterr().err
    main([*args, "--min-rating", "3"])  # other data: u2's 009 goes
    notes = [line for line in capsys.readouterr().err.splitlines() if "stale" in line]
    assert notes == ["note: views computed on the previous data are now stale: pop (vectors, top-K lists)"]


def test_init_refuses_to_overwrite_a_config(tmp_path, capsys):
    _init(tmp_path, "-d", "recbole", "-p", str(FIXTURES / "recbole_plain"))
    _fails(
        capsys, ["init", str(tmp_path / "ws"), "-d", "recbole", "-p", str(FIXTURES / "recbole_plain")], "already exists"
    )


def test_ingest_without_config_says_what_to_run(tmp_path, capsys):
    # an empty folder is no workspace: the one line says so and names the commands that make one
    _fails(capsys, ["ingest", "-w", str(tmp_path)], "is not a workspace (no complement.toml or tables/)")
    _fails(capsys, ["ingest", "-w", str(tmp_path)], "a workspace made by `complement init`")


# ---- MovieLens (handmade; the real sets are in test_ingest_real.py) ----------------------------
def test_movielens_dat_family_reads_latin1_titles_genres_and_tags(tmp_path):
    ws = _init(tmp_path, "-d", "ml-1m", "-p", str(FIXTURES / "movielens_dat"))
    texts = ws.query("SELECT text FROM items ORDER BY item_idx").column(0).to_pylist()
    assert texts == [
        # pixar + Pixar count as one tag used twice
        "Toy Story (1995). Genres: Animation, Children's, Comedy. Tags: Pixar, fun.",
        "Misérables, Les (1995). Genres: Drama, Musical. Tags: musical.",
        "Heat (1995).",
    ]
    assert ws.query("SELECT count(*) AS n, sum(rating) AS r FROM interactions").to_pylist() == [{"n": 4, "r": 13.0}]


def test_movielens_100k_genre_flags_become_names(tmp_path):
    ws = _init(tmp_path, "-d", "movielens", "-p", str(FIXTURES / "movielens_100k" / "u.data"))
    rows = ws.query("SELECT item_id, title, genres FROM items ORDER BY item_idx").to_pylist()
    assert rows == [
        {"item_id": "1", "title": "Toy Story (1995)", "genres": "Animation, Children's, Comedy"},
        {"item_id": "2", "title": "Misérables, Les (1995)", "genres": "Drama, Musical"},
    ]


def test_generic_parquet_with_timestamp_column_and_kcore(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    when = [dt.datetime(2020, 1, d, tzinfo=dt.UTC) for d in range(1, 6)]
    pq.write_table(
        pa.table({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "a", "b", "c"], "at": when}), tmp_path / "x.parquet"
    )
    ws = _init(tmp_path, "-d", "parquet", "-p", str(tmp_path / "x.parquet"), "--time-col", "at", "--kcore", "2")
    assert ws.query("SELECT user_id, item_id, ts FROM interactions ORDER BY ts").to_pylist()[0] == {
        "user_id": "1",
        "item_id": "a",
        "ts": 1577836800,
    }
    assert ws.user_ids().tolist() == ["1", "2"]  # user 3 / item c fall out of the 2-core


def test_a_minimum_rating_without_ratings_is_named_for_the_flag_and_the_file_key(tmp_path, capsys):
    data = tmp_path / "x.csv"
    data.write_text("user_id,item_id\na,b\nc,d\na,d\n")
    _fails(
        capsys,
        ["init", str(tmp_path / "ws"), "-d", "csv", "-p", str(data), "--min-rating", "4"],
        "a minimum rating of 4 (--min-rating, or min_rating in [dataset]) needs ratings, but this dataset has none",
    )
    assert not (tmp_path / "ws").exists()
