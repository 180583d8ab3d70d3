"""``complement topk --from FILE`` on files that cannot give lists: every way a list file (CSV/TSV, TREC
run, ranx JSON, Parquet) or its ``--id-map`` can be unreadable — another delimiter than its extension
says, one column, a header missing or naming a column twice, rows of another width, text that is not
UTF-8, binary garbage, a truncated or empty file — is one ``Error:`` line saying what was read, exit 1,
and leaves the workspace as it was. Never a traceback."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli
from test_interop_import import fingerprint, lists_of, make_ws

from complement import interop
from complement.workspace import Workspace

UTF16_GARBAGE = b"\xff\xfe\x00bad"

#: name -> (file name, content, extra arguments, what the one line must say)
BAD_FILES: dict[str, tuple[str, bytes, tuple[str, ...], tuple[str, ...]]] = {
    # ---- delimiters and columns (CSV/TSV)
    "semicolons in a .csv": (
        "semi.csv",
        b"a;b\n1;408\n",
        (),
        ("semi.csv: read as CSV (comma-separated, as its extension says)", "'a;b' is one column", "';'-separated"),
    ),
    "commas in a .tsv": (
        "u.tsv",
        b"user,item\nu1,i2\n",
        (),
        ("read as TSV (tab-separated", "'user,item' is one column", "comma-separated: pass --format csv"),
    ),
    "tabs in a .csv": ("t.csv", b"u1\ti2\t0.5\n", (), ("is one column", "tab-separated: pass --format tsv")),
    "a TREC run named .csv": ("run.csv", b"u1 Q0 i2 1 0.5 x\n", (), ("it looks like a TREC run", "--format trec")),
    "pipes in a .csv": ("p.csv", b"user|item\nu1|i2\n", (), ("'|'-separated", "convert it")),
    "one column": ("one.csv", b"u1\nu2\n", (), ("the first line 'u1' is one column", "a user and an item column")),
    "a header of one name": ("user.csv", b"user\nu1\n", (), ("the first line 'user' is one column",)),
    "a header without the item name": (
        "noitem.csv",
        b"user,\nu1,i2\n",
        (),
        ("no item column (looked for item_id, item, itemId, iid, docno; columns: user, '')", "--item-col"),
    ),
    "a header naming the item column twice": ("dup.csv", b"user,item,item\nu1,i2,i3\n", (), ("'item' 2 times",)),
    "a header naming no known column": (
        "abc.csv",
        b"a,b,c\nu1,i2,0.3\n",
        (),
        ("the first line 'a,b,c' names no user column", "score 'c' is not a number", "--user-col"),
    ),
    "a header of ids read as the first row": (
        "ab.csv",
        b"a,b\nu1,i2\n",
        (),
        ("1 unknown user (e.g. 'a')", "the first line names no user column, so it was read as a row"),
    ),
    "a row with too few fields": (
        "short.csv",
        b"user,item,score\nu1,i2,0.5\n\nu1,i3\n",
        (),
        ("short.csv: line 4 has 2 fields, but the header has 3",),
    ),
    "a row with an extra field": ("long.tsv", b"user\titem\nu1\ti2\t0.5\n", (), ("line 2 has 3 fields",)),
    "a headerless row with too few fields": (
        "hl.csv",
        b"u1,i2\nu1\n",
        (),
        ("line 2 has 1 field, but the first line has 2",),
    ),
    "--user-col naming no column (real header names)": (
        "mf.csv",
        b"user_id,item_id,rank,score\nu1,i2,1,0.5\n",
        ("--user-col", "nosuch"),
        ("no column 'nosuch' for --user-col (columns: user_id, item_id, rank, score)",),
    ),
    "a column number on a file with a header": (
        "mf.csv",
        b"user_id,item_id,rank,score\nu1,i2,1,0.5\n",
        ("--user-col", "1"),
        ("no column '1' for --user-col", "a column number applies only to a file without a header line"),
    ),
    "a column name on a headerless file": (
        "hl.csv",
        b"u1,i2,0.3\n",
        ("--user-col", "user"),
        ("no column 'user' for --user-col (columns: u1, i2, 0.3)", "give column numbers (--user-col 1)"),
    ),
    "a column number beyond a headerless file": (
        "hl.csv",
        b"u1,i2\n",
        ("--score-col", "3"),
        ("no column 3 for --score-col (the file has no header line and 2 columns)",),
    ),
    "an unterminated quote (a newline in an id)": ("q.csv", b'user,item\nu1,"i2\n', (), ("'i2\\n'",)),
    # ---- not UTF-8, binary garbage
    "UTF-16 garbage as CSV": (
        "bin.csv",
        UTF16_GARBAGE,
        (),
        ("bin.csv: not UTF-8 text (line 1; it starts with a UTF-16 byte-order mark); save it as UTF-8",),
    ),
    "UTF-16 garbage as TSV": ("bin.tsv", UTF16_GARBAGE, (), ("bin.tsv: not UTF-8 text (line 1",)),
    "latin-1 in a later CSV line": ("l1.csv", b"user,item\nu1,i\xe92\n", (), ("l1.csv: not UTF-8 text (line 2)",)),
    "latin-1 in a headerless TSV": ("l1.tsv", b"u1\ti2\nu1\ti\xe93\n", (), ("l1.tsv: not UTF-8 text (line 2)",)),
    "a NUL byte in a CSV": ("nul.csv", b"\x00\x01,\x02\n", (), ("nul.csv: not a text file (line 1 has a NUL byte",)),
    "gzip bytes as CSV": ("gz.csv", b"\x1f\x8b\x08\x00\x00", (), ("not UTF-8 text", "gzip-compressed")),
    "a Parquet file named .csv": ("pq.csv", b"PAR1\x15\x00\xff", (), ("it looks like a Parquet file",)),
    "UTF-16 garbage as TREC": ("bin.trec", UTF16_GARBAGE, (), ("bin.trec: not UTF-8 text (line 1",)),
    "latin-1 in a TREC line": (
        "l1.trec",
        b"u1 Q0 i2 1 0.5 x\nu1 Q0 i\xe93 2 0.4 x\n",
        (),
        ("l1.trec: not UTF-8 text (line 2)",),
    ),
    "a NUL byte in a TREC run": ("nul.run", b"u1 Q0 i2 1 0.5 x\n\x00\x00\n", (), ("line 2 has a NUL byte",)),
    "UTF-16 garbage as ranx": ("bin.json", UTF16_GARBAGE, (), ("bin.json: not UTF-8 text (line 1",)),
    "latin-1 in a ranx run": ("l1.json", b'{"u1":\n {"i\xe92": 1.0}}', (), ("l1.json: not UTF-8 text (line 2)",)),
    "garbage as Parquet": ("bin.parquet", UTF16_GARBAGE, (), ("bin.parquet: cannot read as Parquet",)),
    # ---- truncated or empty
    "a truncated TREC run": ("cut.trec", b"u1 Q0 i2 1 0.5 x\nu1 Q0 i3 2 0.", (), ("line 2 has 5 fields",)),
    "a TREC score that is not a number": (
        "s.trec",
        b"u1 Q0 i2 1 0.5 x\nu1 Q0 i3 2 abc x\n",
        (),
        ("line 2: the score 'abc' is not a number",),
    ),
    "a TREC rank that is not an integer": (
        "r.trec",
        b"u1 Q0 i2 1.0 0.5 x\n",
        (),
        ("the rank '1.0' is not an integer",),
    ),
    # Python's int() and float() read these; trec_eval does not
    "a TREC rank with a '_'": ("u.trec", b"u1 Q0 i2 1_0 0.5 x\n", (), ("line 1: the rank '1_0' is not an integer",)),
    "a TREC rank in other digits": (
        "d.trec",
        "u1 Q0 i2 \u0661 0.5 x\n".encode(),
        (),
        ("line 1: the rank '\u0661' is not an integer",),
    ),
    "a TREC score with a '_'": ("us.trec", b"u1 Q0 i2 1 0_5 x\n", (), ("line 1: the score '0_5' is not a number",)),
    "a TREC score in other digits": (
        "ds.trec",
        "u1 Q0 i2 1 \uff10.5 x\n".encode(),
        (),
        ("line 1: the score '\uff10.5' is not a number",),
    ),
    # JSON allows a key twice in an object and json keeps the last: a list would silently lose items
    "a ranx user given twice": (
        "twice.json",
        b'{"u1": {"i2": 0.5}, "u1": {"i3": 0.4}}',
        (),
        ("the key 'u1' appears twice in one JSON object",),
    ),
    "a ranx item given twice in a run": (
        "item-twice.json",
        b'{"u1": {"i2": 0.5, "i3": 0.4, "i2": 0.1}}',
        (),
        ("the key 'i2' appears twice in one JSON object",),
    ),
    "a truncated ranx run": ("cut.json", b'{"u1": {"i2": 0.5', (), ("cut.json: not valid JSON",)),
    "a ranx run of blank lines": ("blank.json", b"  \n\n", (), ("no lists in the file",)),
    "a ranx score of 5000 digits": ("big.json", b'{"u1": {"i2": ' + b"9" * 5000 + b"}}", (), ("not a ranx run",)),
    # a score beyond a 64-bit float reads as inf: refused as written, not as the 'inf' it became
    "a ranx score beyond a float": (
        "huge.json",
        b'{"u1": {"i2": 1' + b"0" * 400 + b"}}",
        (),
        ("huge.json: 1 score is not a finite number (user/item: 'u1'/'i2' = 1000000000", "beyond a 64-bit float"),
    ),
    "a ranx score of 1e400": (
        "e400.json",
        b'{"u1": {"i2": 1e400, "i3": 0.5, "i4": -1E+999}}',
        (),
        (
            "e400.json: 2 scores are not finite numbers (user/item: 'u1'/'i2' = 1e400, 'u1'/'i4' = -1E+999); "
            "a score must be a finite number, not NaN, inf, -inf or beyond a 64-bit float",
        ),
    ),
    "a ranx score of NaN (not JSON, read by Python's json)": (
        "nan.json",
        b'{"u1": {"i2": NaN, "i3": -Infinity}}',
        (),
        ("(user/item: 'u1'/'i2' = NaN, 'u1'/'i3' = -Infinity)",),
    ),
    "a TREC score of 1e400": (
        "e400.trec",
        b"u1 Q0 i2 1 1e400 x\nu1 Q0 i3 2 -1e999 x\n",
        (),
        ("e400.trec: 2 scores are not finite numbers (user/item: 'u1'/'i2' = 1e400, 'u1'/'i3' = -1e999)",),
    ),
    "a CSV score of 1e400": (
        "e400.csv",
        b"user,item,score\nu1,i2,1e400\nu1,i3,Infinity\n",
        (),
        ("e400.csv: 2 scores are not finite numbers (user/item: 'u1'/'i2' = 1e400, 'u1'/'i3' = Infinity)",),
    ),
    "a headerless TSV score of 1e400": (
        "e400.tsv",
        b"u1\ti2\t-1e400\n",
        (),
        ("e400.tsv: 1 score is not a finite number (user/item: 'u1'/'i2' = -1e400)",),
    ),
    "ranx JSON nested too deeply": ("deep.json", b"[" * 100_000 + b"]" * 100_000, (), ("nested too deeply",)),
    "an empty CSV": ("empty.csv", b"", (), ("no lists in the file",)),
    "a CSV of blank lines": ("blank.csv", b"\n\n  \n", (), ("no lists in the file",)),
    "a CSV with its header only": ("header.csv", b"user,item\n", (), ("no lists in the file",)),
    "an empty Parquet file": ("empty.parquet", b"", (), ("cannot read as Parquet",)),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A workspace with one imported view: every bad file below must leave it byte for byte."""
    root = tmp_path_factory.mktemp("bad-files")
    ws = make_ws(root)
    good = root / "ok.trec"
    good.write_text("u1 Q0 i2 1 1 x\n")
    interop.import_topk(ws, good, "mine")
    return ws.root


@pytest.fixture
def ws(base, tmp_path) -> Workspace:
    return Workspace(shutil.copytree(base, tmp_path / "ws"))


def refused(capsys, ws: Workspace, path, *args: str) -> str:
    """Import ``path`` into view 'mine'; assert exit 1, one ``Error:`` line, nothing written; return the line."""
    before = fingerprint(ws)
    code, out, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "mine", "--from", str(path), *args)
    assert code == 1, err
    assert out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert fingerprint(ws) == before
    return err


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_file_that_cannot_give_lists_is_one_line_and_changes_nothing(tmp_path, capsys, ws, case):
    name, content, args, expected = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(content)
    err = refused(capsys, ws, path, *args)
    for words in expected:
        assert words in err, err


def test_the_column_names_listed_are_the_files_own(tmp_path, capsys, ws):
    path = tmp_path / "mf.csv"
    path.write_text("user_id,item_id,rank,score\nu1,i2,1,0.5\n")
    err = refused(capsys, ws, path, "--user-col", "nosuch")
    assert "column1" not in err


PARQUET_IDS = {
    "ids not UTF-8": (pa.array([b"u1\xff"], pa.binary()), "some user ids are not UTF-8 text"),
    "ids that are lists": (pa.array([[1]]), "the user ids are not text or numbers"),
}


@pytest.mark.parametrize("case", sorted(PARQUET_IDS))
def test_parquet_ids_that_cannot_be_text_are_one_line(tmp_path, capsys, ws, case):
    users, expected = PARQUET_IDS[case]
    path = tmp_path / "recs.parquet"
    pq.write_table(pa.table({"user": users, "item": ["i2"]}), path)
    assert expected in refused(capsys, ws, path)


def test_parquet_naming_a_column_twice_is_one_line(tmp_path, capsys, ws):
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array(["u1"]), pa.array(["i2"]), pa.array(["i3"])], names=["user", "item", "item"])
    pq.write_table(table, path)
    refused(capsys, ws, path)


ID_MAPS = {
    "UTF-16 garbage": ("map.tsv", UTF16_GARBAGE, "--id-map {path}: not UTF-8 text (line 1"),
    "latin-1 in a row": ("map.tsv", b"entity\tinternal_id\tid\nuser\t1\tu\xe91\n", "not UTF-8 text (line 2)"),
    "an empty file": ("map.tsv", b"", "the file is empty; it needs the header 'entity, internal_id, id'"),
    "commas in a .tsv": (
        "map.tsv",
        b"entity,internal_id,id\nuser,1,u1\n",
        "it looks comma-separated: an --id-map is tab-separated unless its name ends in .csv",
    ),
    "a header naming entity twice": ("map.tsv", b"entity\tentity\tinternal_id\tid\n", "names entity more than once"),
    "a row with too few fields": ("map.tsv", b"entity\tinternal_id\tid\nuser\t1\n", "cannot read"),
}


@pytest.mark.parametrize("case", sorted(ID_MAPS))
def test_an_unreadable_id_map_is_one_line(tmp_path, capsys, ws, case):
    name, content, expected = ID_MAPS[case]
    lists = tmp_path / "recs.csv"
    lists.write_text("user_id,item_id\n1,i2\n")
    mapping = tmp_path / name
    mapping.write_bytes(content)
    err = refused(capsys, ws, lists, "--id-map", str(mapping))
    assert expected.format(path=mapping) in err, err


def test_a_bom_a_leading_blank_line_and_crlf_still_import(tmp_path, capsys, ws):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\nuser,item,score\r\nu1,i2,0.5\r\nu1,i3,0.9\r\n")
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "excel", "--from", str(path))
    assert code == 0, err
    assert lists_of(ws, "excel") == {"u1": ["i3", "i2"]}


def test_a_headerless_file_keeps_the_positions_not_given(tmp_path, capsys, ws):
    path = tmp_path / "elliot.tsv"
    path.write_text("u3\ti1\t0.1\nu3\ti6\t0.9\n")
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "e", "--from", str(path), "--score-col", "3")
    assert code == 0, err
    assert lists_of(ws, "e") == {"u3": ["i6", "i1"]}
    path.write_text("i1\tu3\t0.1\ni6\tu3\t0.9\n")
    code, _, err = run_cli(
        capsys, "topk", "-w", str(ws.root), "--view", "f", "--from", str(path), "--user-col", "2", "--item-col", "1"
    )
    assert code == 0, err
    assert lists_of(ws, "f") == {"u3": ["i6", "i1"]}
