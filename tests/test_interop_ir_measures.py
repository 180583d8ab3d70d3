"""Cross-check against the tools people trust: a real ml-100k run and its qrels, exported by
complement, give the same Recall, Precision, NDCG and MRR @K under ir_measures (pytrec_eval) as
complement's own `metrics` diagnostic, to 1e-9. Skipped without ir_measures or the real data."""

from __future__ import annotations

import pytest
from conftest import run_cli, shared_dataset

import complement

ir_measures = pytest.importorskip(
    "ir_measures", reason="ir_measures is a test-only dependency (pip install ir_measures)"
)


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory):
    folder = shared_dataset("ml-100k")
    ws = tmp_path_factory.mktemp("ml100k") / "ws"
    from complement.cli.app import main

    for argv in (
        ["init", str(ws), "--dataset", "ml-100k", "--path", str(folder), "--min-rating", "4"],
        ["train", "mf", "-w", str(ws), "--epochs", "2", "--device", "cpu"],
        ["train", "pop", "-w", str(ws)],
    ):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 0, argv
    return ws


@pytest.mark.slow
@pytest.mark.parametrize("view", ["mf", "pop"])  # pop ties scores: its export writes 1/rank
@pytest.mark.parametrize("k", [5, 20])
def test_metrics_equal_ir_measures_on_an_exported_real_ml100k_run(ml100k, tmp_path, capsys, view, k):
    run_path, qrels_path = tmp_path / f"{view}.trec", tmp_path / "test.qrels"
    code, _, err = run_cli(capsys, "export", "-w", str(ml100k), "--view", view, "--out", str(run_path))
    assert code == 0, err
    code, _, err = run_cli(capsys, "export", "-w", str(ml100k), "--qrels", "--format", "trec", "--out", str(qrels_path))
    assert code == 0, err
    from ir_measures import RR, P, R, nDCG

    measures = [R @ k, P @ k, nDCG @ k, RR @ k]
    qrels = list(ir_measures.read_trec_qrels(str(qrels_path)))
    theirs = ir_measures.calc_aggregate(measures, qrels, list(ir_measures.read_trec_run(str(run_path))))
    ours = complement.diagnose(ml100k, "metrics", k=k, views=[view]).to_pylist()[0]
    assert ours["n_users"] == len({q.query_id for q in qrels}) > 900
    assert ours["recall"] == pytest.approx(theirs[R @ k], abs=1e-9)
    assert ours["precision"] == pytest.approx(theirs[P @ k], abs=1e-9)
    assert ours["ndcg"] == pytest.approx(theirs[nDCG @ k], abs=1e-9)
    assert ours["mrr"] == pytest.approx(theirs[RR @ k], abs=1e-9)
