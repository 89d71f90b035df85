"""The invariants a published number's honesty rests on (issue 28), each with a test that fails when
it breaks: choices made on validation only, disjoint splits, the paper's metrics, pi-SGD's vote."""
import numpy as np
import pytest

from sire_ref.data import arithmetic, modelnet, perturbed_mnist
from sire_ref.data.split import Split
from sire_ref.experiments.pisgd import vote
from sire_ref.experiments.runner import report
from sire_ref.models.recurrent import RecurrentSetModel
from sire_ref.training.loop import TrainConfig, score, train

# -- choices are made on validation data only ------------------------------------------------

def _tiny_data(test_shift):
    rng = np.random.default_rng(0)

    def split(n, shift=0.0):
        x = rng.normal(size=(n, 4, 2))
        return Split(x + shift, np.full(n, 4), (x.sum(axis=(1, 2)) > 0).astype(np.float64))
    data = {"train": split(40), "val": split(20)}
    data["test"] = split(20, test_shift)
    return data


def test_the_best_epoch_and_parameters_do_not_depend_on_the_test_split():
    config = TrainConfig(epochs=6, batch_size=8, lr=0.05, loss="bce", seed=1)
    model = RecurrentSetModel(2, 3, 1, cell="gru")
    a = train(model, _tiny_data(0.0), config, log=lambda text: None)
    b = train(model, _tiny_data(5.0), config, log=lambda text: None)            # another test split, same train / val
    assert a["best"] == b["best"] and a["history"] == b["history"]
    assert all(np.array_equal(a["params"][k], b["params"][k]) for k in a["params"])
    assert a["metrics"]["test"] != b["metrics"]["test"]             # the test split did change


def test_lambda_per_seed_is_chosen_on_validation_never_on_test():
    def run(lam, val, test):
        return {"spec": {"method": "sire", "length": 5, "seed": 0, "lam": lam, "task": "sum"}, "val": val,
                "test": test}
    results = {"a": run(0.01, 0.9, 0.1), "b": run(0.1, 0.5, 0.99)}
    assert report.select(results.values())[("sire", 5, 0)]["spec"]["lam"] == 0.01
    variance = {k: dict(r, spec=dict(r["spec"], task="variance")) for k, r in results.items()}
    assert report.select(variance.values())[("sire", 5, 0)]["spec"]["lam"] == 0.1     # RMSE: lower is better


# -- training, validation and test examples are disjoint -----------------------------------------

def _tagged_mnist(n_train=600, n_test=100):
    """Fake digits whose rows 0 and 1 carry the image's index (rows survive the perturbation:
    4 and 7 divide 28, so no pixel leaves its row); test indices start at 1000."""
    def images(n, first):
        out = np.zeros((n, 28, 28), dtype=np.uint8)
        ids = np.arange(first, first + n)
        out[:, 0, :], out[:, 1, :] = (ids % 256)[:, None], (ids // 256)[:, None]
        return out
    return {"train_images": images(n_train, 0), "train_labels": np.arange(n_train) % 10,
            "test_images": images(n_test, 1000), "test_labels": np.arange(n_test) % 10}


def _ids(split):
    pixels = np.round((split.x.reshape(-1, 28, 28) * perturbed_mnist.STD + perturbed_mnist.MEAN) * 255)
    return set((pixels[:, 0].mean(axis=1) + 256 * pixels[:, 1].mean(axis=1)).astype(int).tolist())


def test_mnist_splits_are_disjoint_and_test_comes_from_the_test_digits():
    data = perturbed_mnist.make_data(_tagged_mnist(), seed=3, n_train=400, n_val=150, n_test=100)
    train, val, test = (_ids(data[k]) for k in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (400, 150, 100)      # no digit twice in a split
    assert not train & val and not (train | val) & test
    assert all(i >= 1000 for i in test) and all(i < 600 for i in train | val)


def test_point_cloud_validation_is_held_out_from_training():
    clouds = np.random.default_rng(0).normal(size=(30, 8, 3)).astype(np.float32)
    data = modelnet.to_splits({"train": (clouds, np.arange(30) % 3), "test": (clouds[:5], np.arange(5) % 3)}, 6)
    reference = modelnet.standardize(clouds)

    def ids(split):          # which training shape each row is (standardization is per cloud)
        return [int(np.flatnonzero((reference == row).all(axis=(1, 2)))[0]) for row in split.x]
    train, val = ids(data["train"]), ids(data["val"])
    assert len(set(train)) == 24 and len(set(val)) == 6 and not set(train) & set(val)


def test_integer_task_splits_are_drawn_independently():
    data = arithmetic.make_data(0, "sum", 5, 2000, 500, 500)
    rows = {k: {tuple(r) for r in data[k].x} for k in data}
    assert not rows["train"] & rows["val"] and not rows["train"] & rows["test"] and not rows["val"] & rows["test"]


# -- the paper's metrics ------------------------------------------------------------------------

def test_accuracy_rounds_to_the_nearest_integer_and_variance_reports_mse():
    acc = TrainConfig(loss="l1", metric="accuracy")
    out = np.array([[2.4], [2.6], [1.7], [1.6]])
    y = np.array([2.0, 2.0, 2.0, 2.0])
    assert score(acc, out, y)[1] == pytest.approx(3 / 4)     # 2.6 rounds to 3; 1.7, 1.6 to 2 (floor: 2/4)
    rmse = TrainConfig(loss="l1", metric="rmse")
    err = np.array([0.4, 0.6, -0.3, -0.4])
    assert score(rmse, out, y)[1] == pytest.approx(np.sqrt(np.mean(err ** 2)))
    assert score(rmse, out, y)[1] ** 2 == pytest.approx(np.mean(err ** 2))      # the MSE Appendix B reports


def test_variance_runs_report_mse_as_the_square_of_rmse(tmp_path):
    from sire_ref.experiments import integer_tasks
    spec = integer_tasks.RunSpec(task="variance", length=3, seed=0, data_seed=1, method="gru", lam=0.0,
                                 n_train=40, n_val=20, n_test=20, max_value=9, hidden=4, epochs=1,
                                 batch_size=20, lr=1e-3, rho_hidden=5)
    out = integer_tasks.run_one(spec, str(tmp_path))
    assert out["test_mse"] == pytest.approx(out["test"] ** 2) and out["val_mse"] == pytest.approx(out["val"] ** 2)


# -- pi-SGD predicts the majority of its orders ---------------------------------------------------

def test_pisgd_vote_is_the_majority_of_the_rounded_predictions():
    predictions = np.array([[3.1, 2.9, 5.0, 3.4, 5.2],       # 3 three times, 5 twice -> 3
                            [1.0, 2.0, 2.2, 0.9, 0.6],       # 1 three times -> 1 (not the mean 1.34)
                            [4.0, 6.0, 4.2, 6.1, 9.0]])      # a tie 4 / 6 -> the smaller, 4
    assert vote(predictions).tolist() == [3.0, 1.0, 4.0]
