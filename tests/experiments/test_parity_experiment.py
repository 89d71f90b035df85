"""A seconds-long smoke run of `python -m sire_ref.experiments.parity`, and its resume."""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from sire_ref.core.constructions import parity_rnn
from sire_ref.data.parity import TEST_BUCKETS, make_data
from sire_ref.experiments import parity

TINY = ["--seeds", "1", "--rnn-epochs", "2", "--deepsets-epochs", "1", "--hidden", "4"]


@pytest.mark.slow
def test_smoke_run_writes_table_figure_and_json(tmp_path, capsys):
    assert parity.main(TINY + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test accuracy by length bucket" in out and "exact RNN (Eq. 3.2)" in out
    assert (tmp_path / "parity.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "parity.json").read_text())
    assert saved["curves"]["exact RNN (Eq. 3.2)"]["0"] == [1.0] * len(TEST_BUCKETS)
    assert set(saved["runs"]) == {"RNN", "DeepSets"}
    # A second call finds both runs finished and does not train again.
    assert parity.main(TINY + ["--out", str(tmp_path)]) == 0
    again = capsys.readouterr().out
    assert "2 of 2 runs already done; 0 to run" in again and "epoch 1/2" not in again


def test_exact_construction_is_perfect_on_the_test_set():
    test = make_data(0)["test"]
    assert np.array_equal(parity_rnn(test.x, test.lengths), test.y)
    assert test.lengths.max() == 100 and len(np.unique(test.groups)) == len(TEST_BUCKETS)


def test_help_and_bad_arguments():
    done = subprocess.run([sys.executable, "-m", "sire_ref.experiments.parity", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for flag in ("--preset", "--seeds", "--cell", "--out", "--lr"):
        assert flag in done.stdout
    bad = subprocess.run([sys.executable, "-m", "sire_ref.experiments.parity", "--seeds", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "argument --seeds: must be an integer >= 1, got '0'" in bad.stderr


@pytest.mark.slow
def test_other_model_settings_never_reuse_a_checkpoint(tmp_path):
    """--hidden or --data-seed on an existing --out start their own runs (issue: a 20-unit
    checkpoint was resumed as a 30-unit model)."""
    args = ["--seeds", "1", "--rnn-epochs", "2", "--deepsets-epochs", "1", "--out", str(tmp_path)]
    assert parity.main(args + ["--hidden", "4"]) == 0
    assert parity.main(args + ["--hidden", "5"]) == 0
    assert parity.main(args + ["--hidden", "5", "--data-seed", "3"]) == 0
    runs = sorted(p.name for p in (tmp_path / "runs" / "parity" / "checkpoints").glob("rnn-seed0-*.ckpt.npz"))
    assert len(runs) == 3
    import numpy as np
    shapes = set()
    for name in runs:
        with np.load(tmp_path / "runs" / "parity" / "checkpoints" / name) as z:
            shapes.add(z["params/cell.weight_hh"].shape)
    assert shapes == {(4, 4), (5, 5)}


@pytest.mark.parametrize("bad, message", [
    (["--out", ""], "argument --out: must name a folder"),
    (["--out", "  "], "argument --out: must name a folder"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["--deepsets-lr", "inf"], "argument --deepsets-lr: must be a finite number > 0"),
    (["--lr", "0"], "argument --lr: must be a finite number > 0"),
    (["--lr", "fast"], "argument --lr: must be a finite number > 0, got 'fast'"),
    (["--data-seed", "-1"], "argument --data-seed: must be an integer >= 0, got '-1'"),
    (["--hidden", "0"], "argument --hidden: must be a layer width in 1..65536"),
    (["--batch-size", "2.5"], "argument --batch-size: must be an integer >= 1, got '2.5'"),
    (["--rnn-epochs", "-3"], "argument --rnn-epochs: must be an integer >= 1")])
def test_every_bad_value_is_refused_by_the_parser_naming_the_option(bad, message, capsys):
    """Issue 11.2 and 11.6: refused before anything runs, with the option's name."""
    with pytest.raises(SystemExit) as stop:
        parity.parse_args(bad)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_default_output_is_not_tracked_by_git():
    """A user's run must not rewrite the committed figures/ (issue 11, newcomer friction)."""
    root = pathlib.Path(__file__).resolve().parents[2]
    assert parity.parse_args([]).out == "results"
    assert "results/" in (root / ".gitignore").read_text().split()
