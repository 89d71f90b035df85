"""Integer-sequence tasks: labels from brute-force definitions, pi-SGD, the sweep runner's resume,
and seconds-long smoke runs of the three experiments."""
import dataclasses
import json
import os
from itertools import permutations

import numpy as np
import pytest

from sire_ref.base.io import CorruptFileError, read_record
from sire_ref.core.samples import permute_rows
from sire_ref.data.arithmetic import make_split
from sire_ref.experiments.pisgd import predict_vote, vote
from sire_ref.experiments.runner.sweep import result_path, run_sweep
from sire_ref.nn.encoders import Embedding


def _brute(task, row):
    values = [int(v) for v in row]
    n = len(values)
    if task == "sum":
        total = 0
        for v in values:
            total += v
        return total
    if task == "range":
        return max(values) - min(values)
    if task == "variance":
        mean = sum(values) / n
        return sum((v - mean) ** 2 for v in values) / n
    first, second = values[: n // 2], values[n // 2:]
    return max(first) - min(second)


@pytest.mark.parametrize("task", ["sum", "range", "variance", "half_range"])
@pytest.mark.parametrize("length", [2, 5, 11])
def test_labels_match_brute_force_definitions(task, length):
    split = make_split(np.random.default_rng(length), task, 300, length, max_value=99)
    assert split.x.min() >= 0 and split.x.max() <= 99 and np.all(split.lengths == length)
    for row, y in zip(split.x, split.y):
        assert y == pytest.approx(_brute(task, row), rel=1e-12, abs=1e-12)


def test_half_range_is_not_permutation_invariant_but_sum_is():
    x = np.array([[1, 9, 0, 5]])
    orders = [x[:, list(p)] for p in permutations(range(4))]
    hr = {make_split.__globals__["TARGETS"]["half_range"](o)[0] for o in orders}
    s = {make_split.__globals__["TARGETS"]["sum"](o)[0] for o in orders}
    assert len(hr) > 1 and s == {15}


def test_bad_task_and_length():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="task must be one of"):
        make_split(rng, "median", 3, 4)
    with pytest.raises(ValueError, match="half_range needs length >= 2"):
        make_split(rng, "half_range", 3, 1)


def test_permute_rows_keeps_each_rows_multiset_and_padding():
    rng = np.random.default_rng(0)
    x = np.arange(24).reshape(4, 6)
    lengths = np.array([6, 3, 1, 4])
    y = permute_rows(rng, x, lengths)
    for row, new, L in zip(x, y, lengths):
        assert sorted(new[:L]) == sorted(row[:L]) and np.array_equal(new[L:], row[L:])
    assert any(not np.array_equal(permute_rows(rng, x, lengths)[0], x[0]) for _ in range(5))


def test_vote_takes_the_most_frequent_rounded_value():
    preds = np.array([[3.2, 2.9, 7.0, 3.4], [1.6, 2.4, 0.6, 1.4], [5.0, 6.0, 6.0, 5.0]])
    np.testing.assert_array_equal(vote(preds), [3.0, 1.0, 5.0])    # ties (rows 2, 3) go to the smaller


def test_predict_vote_on_an_invariant_model_equals_the_single_order():
    from sire_ref.models.recurrent import DeepSets, Head
    rng = np.random.default_rng(1)
    model = DeepSets(1, [4, 6], 1, encoder=Embedding(10, 4, frozen=True), rho=Head((5,), "relu"))
    params = model.init(rng)
    split = make_split(rng, "sum", 50, 6, max_value=9)
    voted, single = predict_vote(model, params, split, rng, n_orders=5)
    np.testing.assert_array_equal(voted, np.round(single))


@dataclasses.dataclass(frozen=True)
class _Spec:
    name: str
    x: int
    fail: bool = False


def _runner(spec, out_dir):
    if spec.fail:
        raise RuntimeError("boom")
    return {"value": spec.x ** 2, "summary": "ok"}


def test_sweep_writes_each_result_and_resumes(tmp_path):
    specs = [_Spec(f"run-{i}", i) for i in range(4)]
    lines = []
    results = run_sweep(_runner, specs, str(tmp_path), jobs=1, log=lines.append)
    assert [r["value"] for r in results.values()] == [0, 1, 4, 9]
    assert all(os.path.exists(result_path(str(tmp_path), s.name)) for s in specs)
    before = read_record(result_path(str(tmp_path), "run-2"))
    lines.clear()
    again = run_sweep(_runner, specs + [_Spec("run-4", 4)], str(tmp_path), jobs=2,
                      log=lines.append)
    assert "4 of 5 runs already done; 1 to run" in lines[0]
    assert again["run-4"]["value"] == 16 and again["run-2"] == before


def test_sweep_rejects_bad_specs(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_sweep(_runner, [_Spec("a", 1)] * 2, str(tmp_path))
    with pytest.raises(ValueError, match="file-safe"):
        run_sweep(_runner, [_Spec("a/b", 1)], str(tmp_path))



def test_a_failing_run_is_reported_and_the_sweep_goes_on(tmp_path):
    """Issue 13.3: the failing spec's traceback and spec are reported, the other runs finish and are
    kept, and SweepFailed names the failed runs; a rerun retries only them."""
    from sire_ref.experiments.runner.sweep import SweepFailed
    specs = [_Spec("a", 1), _Spec("f", 2, fail=True), _Spec("c", 3)]
    lines = []
    with pytest.raises(SweepFailed, match="1 of 3 runs failed: f;") as err:
        run_sweep(_runner, specs, str(tmp_path), log=lines.append)
    assert "RuntimeError: boom" in err.value.failures["f"] and "'fail': True" in err.value.failures["f"]
    assert any("f: FAILED" in line and "boom" in line for line in lines)
    assert not os.path.exists(result_path(str(tmp_path), "f"))          # nothing half-written
    assert read_record(result_path(str(tmp_path), "c"))["value"] == 9
    lines.clear()
    with pytest.raises(SweepFailed):
        run_sweep(_runner, specs, str(tmp_path), log=lines.append)
    assert "2 of 3 runs already done; 1 to run" in lines[0]


def test_sweep_stops_at_a_damaged_or_foreign_record(tmp_path):
    """Issue 11.3: a damaged result is named with the remedy; a record of another spec is not reused."""
    specs = [_Spec(f"run-{i}", i) for i in range(3)]
    run_sweep(_runner, specs, str(tmp_path), log=lambda _: None)
    path = result_path(str(tmp_path), "run-1")
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text.replace('"value": 1', '"value": 7'))      # still valid JSON, altered
    with pytest.raises(CorruptFileError, match=r"run-1.json: its content does not match its checksum"):
        run_sweep(_runner, specs, str(tmp_path), log=lambda _: None)
    with open(path, "w") as f:
        f.write(text[:len(text) // 2])                         # truncated
    with pytest.raises(CorruptFileError, match=r"run-1.json: not a valid JSON file.*move it aside"):
        run_sweep(_runner, specs, str(tmp_path), log=lambda _: None)
    os.replace(path, path + ".bad")                            # the remedy: that run is redone
    assert run_sweep(_runner, specs, str(tmp_path), log=lambda _: None)["run-1"]["value"] == 1
    with pytest.raises(CorruptFileError, match="a result of another spec under this run's name"):
        run_sweep(_runner, [_Spec("run-2", 5)], str(tmp_path), log=lambda _: None)


SMALL = ["--n-val", "40", "--n-test", "200"]              # the presets evaluate on 10,000: most of a smoke run's time
TINY = ["--seeds", "1", "--epochs", "1", "--n-train", "40"] + SMALL
PAIRED = ["--seeds", "2", "--lambdas", "0.01", "1", "--epochs", "1", "--n-train", "40"] + SMALL  # paired seeds


@pytest.mark.slow
def test_arithmetic_smoke(tmp_path, capsys):
    from sire_ref.experiments import arithmetic
    assert arithmetic.main(["--task", "sum", "--lengths", "3", "--lambdas", "0.1"] + TINY
                           + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for method in ("gru", "sire", "deepsets", "pisgd"):
        assert method in out
    assert "order sensitivity on test" in out and "invariant by construction" in out and "check passed" in out
    assert (tmp_path / "arithmetic_sum.png").exists()
    saved = json.loads((tmp_path / "arithmetic_sum.json").read_text())
    assert saved["chosen_lambda"] == {"n3-seed0": 0.1}


@pytest.mark.slow
def test_half_range_and_sire_vs_sub_smoke(tmp_path, capsys):
    from sire_ref.experiments import half_range, sire_vs_sub
    assert half_range.main(TINY + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0.9584 (0.008)" in out                                  # the paper's numbers beside ours
    assert "order sensitivity on test" in out
    assert sire_vs_sub.main(PAIRED + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "paper 0.792 (0.09)" in out and "SIRE - SUB, paired per seed" in out
    assert (tmp_path / "sire_vs_sub.png").exists()


@pytest.mark.slow
def test_other_settings_on_an_existing_out_train_their_own_runs(tmp_path, capsys):
    """Issue 11.1 replayed: --epochs 2 and --n-train 30 after a 1-epoch, 40-sequence sweep on the
    same --out train fresh runs whose curves have the new length, never the old results."""
    from sire_ref.experiments import sire_vs_sub
    base = ["--seeds", "2", "--lambdas", "0.01", "1", "--out", str(tmp_path)] + SMALL
    assert sire_vs_sub.main(base + ["--epochs", "1", "--n-train", "40"]) == 0
    capsys.readouterr()
    assert sire_vs_sub.main(base + ["--epochs", "2", "--n-train", "40"]) == 0
    assert "0 of 8 runs already done; 8 to run" in capsys.readouterr().out
    saved = json.loads((tmp_path / "sire_vs_sub.json").read_text())
    assert saved["args"]["epochs"] == 2
    records = [read_record(p) for p in (tmp_path / "runs" / "sire_vs_sub" / "results").glob("*.json")]
    assert sorted(len(r["curve"]) for r in records) == [1] * 8 + [2] * 8
    assert sire_vs_sub.main(base + ["--epochs", "2", "--n-train", "30"]) == 0
    assert "0 of 8 runs already done" in capsys.readouterr().out


def test_predict_vote_sees_the_original_and_19_distinct_orders(monkeypatch):
    """pi-SGD's vote: the first prediction is on the original order, the other 19 on random
    orders of each sequence's own positions (padding stays), all different from each other."""
    from sire_ref.experiments import pisgd
    seen = []

    def recording_predict(model, params, split):
        seen.append(split.x.copy())
        return np.zeros((len(split.y), 1))

    monkeypatch.setattr(pisgd, "predict", recording_predict)
    rng = np.random.default_rng(0)
    split = make_split(rng, "sum", 6, 8, max_value=99)
    split = split._replace(lengths=np.array([8, 8, 7, 6, 8, 5]))
    predict_vote(None, None, split, rng, n_orders=20)
    assert len(seen) == 20 and np.array_equal(seen[0], split.x)
    assert len({x.tobytes() for x in seen}) == 20                       # 20 different orders
    for x in seen:
        for row, original, L in zip(x, split.x, split.lengths):
            assert sorted(row[:L]) == sorted(original[:L]) and np.array_equal(row[L:], original[L:])


@pytest.mark.slow
def test_spectrum_and_semi_supervised_smoke(tmp_path, capsys):
    """Both run end to end; every run records its invariance; DeepSets-free, so the lambda = 0 row
    is the plain GRU; the semi-supervised runs that regularize on unlabelled data say so."""
    from sire_ref.experiments import semi_supervised, spectrum
    assert spectrum.main(TINY + ["--task", "half_range", "--lambdas", "0", "1", "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "spectrum_half_range.json").read_text())
    assert sorted(saved["by_lambda"]) == ["0.0", "1.0"]
    assert all(v > 0 for cols in saved["by_lambda"].values() for v in cols["order_mean"])
    assert saved["target"]["order_mean"] > 1 and saved["target"]["changed"] > 0.9   # half-range is not invariant
    assert (tmp_path / "spectrum_half_range.png").exists()
    assert semi_supervised.main(TINY + ["--unlabelled", "50", "--lambdas", "0.1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for method in ("gru", "sire-labelled", "sire-50"):
        assert method in out
    records = [read_record(p) for p in (tmp_path / "runs" / "semi_supervised" / "results").glob("*.json")]
    assert sorted(r["spec"].get("n_unlabelled", 0) for r in records) == [0, 0, 50]
    assert all(r["invariance"]["n"] == 200 for r in records)          # the whole test split (--n-test)


def test_target_sensitivity_is_zero_exactly_for_invariant_tasks():
    from sire_ref.experiments.spectrum import target_sensitivity
    assert target_sensitivity("sum", 6, n=500) == (0.0, 0.0)          # integer sums: exact in float64
    mean, changed = target_sensitivity("half_range", 6, n=500)
    assert mean > 1 and changed > 0.5


def test_integer_task_deepsets_run_records_zero_order_sensitivity(tmp_path):
    from sire_ref.experiments.integer_tasks import RunSpec, run_one
    spec = RunSpec(task="sum", length=4, seed=0, data_seed=1, method="deepsets", lam=0.0, n_train=40, n_val=20,
                   n_test=50, max_value=9, hidden=8, epochs=1, batch_size=20, lr=1e-3, dtype="float64",
                   backend="numpy")
    inv = run_one(spec, str(tmp_path))["invariance"]
    assert inv["n"] == 50 and inv["order_max"] <= 1e-9 and inv["changed"] == 0.0 and inv["sire"] is None


def test_semi_spec_needs_unlabelled_sequences():
    from sire_ref.experiments.integer_tasks import SemiSpec
    with pytest.raises(ValueError, match="n_unlabelled must be >= 1"):
        SemiSpec(task="sum", length=4, seed=0, data_seed=1, method="sire", lam=0.1, n_train=40, n_val=20,
                 n_test=50, max_value=9, hidden=8, epochs=1, batch_size=20, lr=1e-3)


def test_half_range_takes_the_lengths_of_table_2():
    from sire_ref.experiments import half_range
    from sire_ref.experiments.runner import cli
    args = cli.parse_args("half_range", half_range.__doc__, half_range.PRESETS, ["--lengths", "20", "--seeds", "3"],
                          half_range._arguments)
    assert args.lengths == [20] and args.seeds == 3
    assert cli.parse_args("half_range", half_range.__doc__, half_range.PRESETS, [], half_range._arguments).lengths == [10]
