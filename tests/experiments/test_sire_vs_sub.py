"""SIRE vs SUB's analysis: lambda chosen on the holdout only, paired differences with a bootstrap
interval, convergence epochs read off the training L1 (hand-made records, values known by hand)."""
import numpy as np
import pytest

from sire_ref.experiments import sire_vs_sub
from sire_ref.experiments.runner.report import paired_difference, select, verdict


def _record(method, lam, seed, val, test, task_curve=(9.0, 3.0, 1.5, 0.5)):
    return {"spec": {"method": method, "lam": lam, "seed": seed, "task": "sum"}, "val": val, "test": test,
            "task_curve": list(task_curve), "epoch_seconds": [2.0] * len(task_curve)}


def _results(val, test):
    """val[method][seed][lam], test likewise -> {name: record}."""
    return {f"{m}-{s}-{lam}": _record(m, lam, s, val[m][s][lam], test[m][s][lam])
            for m in val for s in val[m] for lam in val[m][s]}


def test_lambda_is_chosen_on_the_holdout_and_the_test_split_cannot_change_it():
    lams = [0.1, 10.0]
    val = {m: {s: {0.1: 0.5, 10.0: 0.6} for s in range(3)} for m in ("sire", "sub")}
    test = {m: {s: {0.1: 0.9, 10.0: 0.2} for s in range(3)} for m in ("sire", "sub")}
    summary = sire_vs_sub.summarize(_results(val, test), 3, lams)
    assert summary["methods"]["sire"]["wide"]["chosen_lambda"] == [10.0] * 3     # val says 10, test says 0.1
    assert summary["methods"]["sire"]["wide"]["test"] == [0.2] * 3
    test_flipped = {m: {s: {0.1: 0.1, 10.0: 0.95} for s in range(3)} for m in ("sire", "sub")}
    again = sire_vs_sub.summarize(_results(val, test_flipped), 3, lams)
    assert again["methods"]["sire"]["wide"]["chosen_lambda"] == [10.0] * 3


def test_ties_on_the_holdout_go_to_the_smaller_lambda():
    runs = [_record("sire", 1.0, 0, 0.7, 0.1), _record("sire", 0.01, 0, 0.7, 0.9), _record("sire", 100.0, 0, 0.2, 1.0)]
    assert select(runs, key=("seed",))[(0,)]["spec"]["lam"] == 0.01


def test_the_narrow_grid_is_the_papers_subset():
    lams = [0.001, 0.01, 0.1, 1.0]
    val = {m: {s: {0.001: 0.1, 0.01: 0.2, 0.1: 0.3, 1.0: 0.9} for s in range(2)} for m in ("sire", "sub")}
    summary = sire_vs_sub.summarize(_results(val, val), 2, lams)
    assert summary["grids"]["narrow"] == [0.001, 0.01, 0.1]
    assert summary["methods"]["sub"]["narrow"]["chosen_lambda"] == [0.1, 0.1]
    assert summary["methods"]["sub"]["wide"]["chosen_lambda"] == [1.0, 1.0]


def test_a_missing_run_is_named_not_skipped():
    val = {m: {s: {0.1: 0.5, 1.0: 0.6} for s in range(2)} for m in ("sire", "sub")}
    results = _results(val, val)
    del results["sub-1-1.0"]
    with pytest.raises(ValueError, match=r"sub: seeds \[1\] lack runs"):
        sire_vs_sub.summarize(results, 2, [0.1, 1.0])


def test_paired_difference_and_its_interval():
    same = paired_difference([0.8, 0.7, 0.9], [0.7, 0.6, 0.8])       # every seed +0.1
    assert same["mean"] == pytest.approx(0.1) and same["lo"] == pytest.approx(0.1) and same["hi"] == pytest.approx(0.1)
    assert verdict(same, +1) == "reproduced" and verdict(same, -1) == "not reproduced"
    mixed = paired_difference([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.1])
    assert mixed["lo"] < 0 < mixed["hi"] and mixed["mean"] < 0
    assert verdict(mixed, +1) == "not reproduced" and verdict(mixed, -1) == "direction only"
    # the pairing matters: the same values unpaired would differ, paired they are all +0.01
    a, b = [0.50, 0.90, 0.10, 0.70], [0.49, 0.89, 0.09, 0.69]
    assert paired_difference(a, b)["lo"] == pytest.approx(0.01)
    for bad in ([0.1], [0.1, float("nan")]):
        with pytest.raises(ValueError, match="per-seed"):
            paired_difference(bad, [0.0] * len(bad))


def test_convergence_reads_the_first_epoch_below_each_threshold():
    run = _record("sire", 0.1, 0, 0.5, 0.5, task_curve=(9.0, 3.0, 1.5, 0.5, 2.5))
    assert sire_vs_sub.speed(run, 4.0) == (2, 4.0)
    assert sire_vs_sub.speed(run, 1.0) == (4, 8.0)
    assert sire_vs_sub.speed(run, 0.1) is None
    assert sire_vs_sub.first_below([np.nan, 0.5], 1.0) == 2
