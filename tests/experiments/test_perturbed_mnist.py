"""The perturbed_mnist command on the real digits (tiny sizes), its data errors, and lambda chosen
on validation, never on test."""
import json

import pytest

from sire_ref.experiments import perturbed_mnist
from sire_ref.experiments.runner import report

TINY = ["--n-train", "64", "--n-val", "32", "--n-test", "32", "--epochs", "1", "--cnn-epochs", "1", "--hidden", "4",
        "--channels", "2", "3", "--cnn-hidden", "8"]


@pytest.mark.slow
def test_tiny_run_writes_table_json_and_figures(tmp_path, mnist_dir, capsys):
    out = tmp_path / "out"
    assert perturbed_mnist.main(TINY + ["--data-dir", mnist_dir, "--methods", "cnn", "sire", "--lambdas", "0.5",
                                        "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "largest pixel displacement 9" in text
    assert "0.9630" in text and "0.9770" in text            # the paper's numbers beside ours
    record = json.loads((out / "perturbed_mnist.json").read_text())
    methods = sorted(r["spec"]["method"] for r in record["runs"].values())
    assert methods == ["cnn", "sire"] and record["max_displacement"] == 9
    assert all(r["epochs_run"] == 1 for r in record["runs"].values())
    # every run keeps its epochs' seconds (the figure's validation accuracy against time)
    assert all(len(r["epoch_seconds"]) == 1 and r["epoch_seconds"][0] > 0 for r in record["runs"].values())
    for name in ("perturbed_mnist.png", "perturbed_mnist_examples.png"):
        assert (out / name).stat().st_size > 1000
    assert perturbed_mnist.main(TINY + ["--data-dir", mnist_dir, "--methods", "cnn", "--out", str(out)]) == 0
    assert "1 of 1 runs already done" in capsys.readouterr().out           # resumed, not retrained


def test_missing_data_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SIRE_REF_MNIST", raising=False)
    assert perturbed_mnist.main(["--out", str(tmp_path)]) == 2
    assert "no MNIST folder given" in capsys.readouterr().err
    assert perturbed_mnist.main(["--data-dir", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "train-images-idx3-ubyte[.gz] not found" in capsys.readouterr().err


def test_lambda_is_chosen_on_validation_not_test():
    def run(lam, val, test):
        return {"spec": {"method": "sire", "seed": 0, "lam": lam}, "val": val, "test": test}
    results = {"a": run(0.1, 0.80, 0.99), "b": run(1.0, 0.85, 0.70), "c": run(0.01, 0.60, 0.95)}
    assert report.select(results.values(), key=("method", "seed"))[("sire", 0)]["spec"]["lam"] == 1.0


def test_presets_and_specs():
    args = perturbed_mnist.parse(["--preset", "paper"])
    specs = perturbed_mnist.specs_for(args)
    assert len(specs) == 3 * (3 + 3)                    # 3 seeds x (cnn_clean, cnn, gru, 3 lambdas of sire)
    assert {s.n_train + s.n_val for s in specs} == {60000} and {s.n_test for s in specs} == {10000}
    assert len({s.name for s in specs}) == len(specs)
    with pytest.raises(SystemExit):
        perturbed_mnist.parse(["--lambdas", "0"])


def test_row_reading_feeds_the_gru_28_rows_of_28(mnist_dir, monkeypatch):
    monkeypatch.setenv("SIRE_REF_MNIST", mnist_dir)
    args = perturbed_mnist.parse(TINY + ["--reading", "row", "--methods", "gru", "cnn"])
    gru_spec, cnn_spec = perturbed_mnist.specs_for(args)
    assert gru_spec.reading == "row" and cnn_spec.reading == "pixel"     # the CNN reads images either way
    data, model, _ = perturbed_mnist._setup(gru_spec)
    pixels, _, _ = perturbed_mnist._setup(perturbed_mnist.MnistSpec(**{**gru_spec.__dict__, "reading": "pixel"}))
    assert data["train"].x.shape == (64, 28, 28) and (data["train"].lengths == 28).all()
    assert model.input_size == 28
    assert (data["train"].x.reshape(64, 784) == pixels["train"].x[:, :, 0]).all()   # the same pixels, row by row
