"""Issue 28's probes that gave a silently wrong answer, replayed: each now gives a clear error
naming the argument and what to do."""
import numpy as np
import pytest

from sire_ref.core.cells import gru
from sire_ref.core.regularizers import sire, sub
from sire_ref.core.samples import sample_sire, sample_sub


def test_bench_only_without_experiments_is_refused(capsys):
    from sire_ref.tools import bench
    with pytest.raises(SystemExit) as stop:
        bench.main(["--only", "mnist"])
    assert stop.value.code == 2 and "--only picks rows of --experiments" in capsys.readouterr().err


def test_bench_only_matching_nothing_is_refused(capsys, tmp_path):
    pytest.importorskip("torch", reason="bench --experiments needs PyTorch: pip install torch==2.13.0")
    from sire_ref.tools import bench
    with pytest.raises(SystemExit):
        bench.main(["--experiments", "--only", "nomatch", "--out", str(tmp_path / "b.json")])
    assert "--only nomatch matches no row; the rows are: parity rnn H=20; " in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


def test_proofs_refuse_an_unknown_argument(capsys):
    from proofs.__main__ import main
    with pytest.raises(SystemExit) as stop:
        main(["--bogus"])
    assert stop.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["sire", "sub"])
def test_a_misspelt_backend_is_refused_even_on_an_empty_draw(kind):
    rng = np.random.default_rng(0)
    params = gru.init_params(2, 3, rng)
    x, lengths = rng.normal(size=(2, 4, 2)), np.array([1, 1])        # length 1: no pair, an empty draw
    draw = sample_sire(rng, lengths, 4) if kind == "sire" else sample_sub(rng, lengths, 4)
    fn = sire if kind == "sire" else sub
    assert fn(gru, params, x, draw, lengths, backend="numba").value == 0          # empty, and fine
    with pytest.raises(ValueError, match="backend must be one of .* got 'numbaa'"):
        fn(gru, params, x, draw, lengths, backend="numbaa")


def _parse(argv):
    from sire_ref.experiments import sire_vs_sub
    from sire_ref.experiments.runner.cli import parse_args
    return parse_args("sire_vs_sub", sire_vs_sub.__doc__, sire_vs_sub.PRESETS, argv)


def test_more_jobs_than_cores_is_refused_before_any_cluster_starts(capsys):
    import os
    with pytest.raises(SystemExit):
        _parse(["--jobs", str((os.cpu_count() or 1) + 14)])
    assert f"cores would only slow every run down; give --jobs {os.cpu_count()} or less" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--out", "--checkpoint-dir"])
def test_an_output_folder_that_is_a_file_or_cannot_be_made_is_refused(option, tmp_path, capsys):
    a_file = tmp_path / "results.txt"
    a_file.write_text("mine")
    with pytest.raises(SystemExit):
        _parse([option, str(a_file)])
    assert f"argument {option}: '{a_file}' is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parse([option, str(a_file / "below")])                 # a folder inside a file: cannot exist
    assert f"argument {option}: cannot write into" in capsys.readouterr().err
    assert a_file.read_text() == "mine"                          # nothing written over


def test_ctrl_c_in_a_sweep_ends_with_the_message_and_status_130_not_a_traceback(tmp_path, capsys):
    from types import SimpleNamespace

    from sire_ref.experiments.runner import cli

    class Spec(SimpleNamespace):
        pass

    def runner(spec, checkpoint_dir):
        raise KeyboardInterrupt

    args = SimpleNamespace(dry_run=False, status=False, jobs=1, scheduler=None, checkpoint_dir=None)
    with pytest.raises(SystemExit) as stop:
        cli.sweep(args, runner, [Spec(name="run-0")], str(tmp_path), None)
    assert stop.value.code == 130 and stop.value.__cause__ is None and stop.value.__suppress_context__
    assert "interrupted: 0 of 1 runs are finished" in capsys.readouterr().out


def test_an_absurd_width_is_refused_by_the_parser(capsys):
    from sire_ref.experiments import parity
    with pytest.raises(SystemExit):
        parity.main(["--hidden", "99999999999999999999", "--dry-run"])
    assert "argument --hidden: must be a layer width in 1..65536" in capsys.readouterr().err


def test_diagnose_never_advises_moving_a_file_it_does_not_own(tmp_path, capsys):
    from sire_ref.tools import diagnose
    mine = tmp_path / "notes.json"
    mine.write_text("not json")
    assert diagnose.main([str(mine)]) == 2
    err = capsys.readouterr().err
    assert "not a sire_ref run record" in err and "mv " not in err and "move it aside" not in err
    checkpoints = tmp_path / "sweep" / "checkpoints"
    checkpoints.mkdir(parents=True)
    from sire_ref.base.io import write_record
    write_record(str(checkpoints / "run.json"), {"history": []})       # what train() writes there
    assert diagnose.main([str(checkpoints)]) == 2
    assert "a record without a run spec" in capsys.readouterr().err


def test_a_flax_lstm_is_refused_by_name():
    pytest.importorskip("flax", reason="needs flax: pip install -e '.[jax]'")
    from sire_ref.tools.interop.jax import params_from_flax
    lstm = {"params": {g: {"kernel": np.zeros((2, 3)), "bias": np.zeros(3)} for g in ("ii", "if", "ig", "io")}}
    with pytest.raises(ValueError, match=r"submodules \['if', 'ig', 'ii', 'io'\]; sire_ref maps a SimpleCell or "
                                         r"a GRUCell only"):
        params_from_flax(lstm)
