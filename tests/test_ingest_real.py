"""The real datasets in ../shared/data (skipped when absent) ingest to their documented counts,
checked with `complement sql`."""

import pytest
from conftest import shared_dataset

from complement.cli.app import main
from complement.workspace import Workspace

COUNTS = (
    "SELECT count(DISTINCT user_id) AS users, count(DISTINCT item_id) AS items, count(*) AS interactions "
    "FROM interactions"
)


def _counts(capsys, workspace):
    capsys.readouterr()
    main(["sql", "-w", str(workspace), COUNTS, "--format", "csv"])
    return capsys.readouterr().out.splitlines()[1]


def _init(tmp_path, kind, name, *extra):
    workspace = tmp_path / "ws"
    main(["init", str(workspace), "--dataset", kind, "--path", str(shared_dataset(name)), *extra])
    return workspace


def test_ml_100k_counts_and_item_text(tmp_path, capsys):
    workspace = _init(tmp_path, "ml-100k", "ml-100k")
    assert _counts(capsys, workspace) == "943,1682,100000"
    main(
        [
            "sql",
            "-w",
            str(workspace),
            "SELECT count(*) FILTER (text IS NULL) AS no_text, max(text) FILTER (item_id = '1') AS toy FROM items",
            "-f",
            "csv",
        ]
    )
    assert capsys.readouterr().out.splitlines()[1] == '0,"Toy Story (1995). Genres: Animation, Children\'s, Comedy."'


def test_ml_100k_min_rating_4_matches_the_recbole_yardstick(tmp_path, capsys):
    # docs/design.md's 943 users / 1,448 items are RecBole's counts, which include its [PAD] id:
    # one user rated nothing >= 4, so 942 real users and 1,447 items remain.
    workspace = _init(tmp_path, "ml-100k", "ml-100k", "--min-rating", "4")
    assert _counts(capsys, workspace) == "942,1447,55375"


def test_ml_latest_small_counts_and_tags_in_text(tmp_path, capsys):
    workspace = _init(tmp_path, "movielens", "ml-latest-small")
    assert _counts(capsys, workspace) == "610,9724,100836"
    main(["sql", "-w", str(workspace), "SELECT text FROM items WHERE item_id = '1'", "-f", "csv"])
    assert "Tags: pixar" in capsys.readouterr().out


@pytest.mark.slow
def test_amazon_games_sequential_recbole_counts(tmp_path, capsys):
    workspace = _init(tmp_path, "recbole", "amazon-games")
    assert _counts(capsys, workspace) == "50546,16859,440264"


def test_amazon_scientific_unisrec_counts_with_repeats_kept(tmp_path, capsys):
    workspace = _init(tmp_path, "unisrec", "amazon-scientific", "--split", "loo")
    assert _counts(capsys, workspace) == "8442,4385,59427"
    main(
        [
            "sql",
            "-w",
            str(workspace),
            "SELECT count(*) - count(DISTINCT (user_id, item_id)) AS repeats, "
            "count(*) FILTER (split = 'test') AS test FROM interactions",
            "-f",
            "csv",
        ]
    )
    assert capsys.readouterr().out.splitlines()[1] == "291,8442"


def test_ml_100k_same_seed_gives_identical_files_and_8_1_1_per_user(tmp_path, capsys):
    paths = []
    for name in ("a", "b"):
        main(["init", str(tmp_path / name), "-d", "ml-100k", "-p", str(shared_dataset("ml-100k")), "--seed", "11"])
        paths.append(Workspace(tmp_path / name).table_path("interactions"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    capsys.readouterr()
    main(
        [
            "sql",
            "-w",
            str(tmp_path / "a"),
            """
        SELECT count(*) AS off FROM (
          SELECT count(*) AS n, count(*) FILTER (split = 'train') AS tr, count(*) FILTER (split = 'valid') AS va,
                 count(*) FILTER (split = 'test') AS te
          FROM interactions GROUP BY user_id)
        WHERE abs(tr - 0.8 * n) > 1 OR abs(va - 0.1 * n) > 1 OR abs(te - 0.1 * n) > 1""",
            "-f",
            "csv",
        ]
    )
    assert capsys.readouterr().out.splitlines()[1] == "0"
