"""A training run's state on disk: params, best params, optimizer state, generator state, curves.

One .npz per run, written atomically (sire_ref.io): arrays under "params/", "best/",
"opt/<slot>/" and a JSON "meta" string (epoch, config, history, best, rng state, ...).
Loaded without pickle. `train()` saves one every few epochs and resumes from it.
"""
import json
import os

import numpy as np

from . import backend
from .io import write_npz

META_KEYS = ("epoch", "config", "history", "best", "rng", "since_best", "done", "lr_scale", "decays",
             "stopped")


def paths(out_dir, name):
    """(checkpoint .npz path, result .json path) of run `name` under out_dir."""
    return os.path.join(out_dir, f"{name}.ckpt.npz"), os.path.join(out_dir, f"{name}.json")


def save(path, state):
    """Write a train() state dict (see META_KEYS, plus params, best_params, opt) atomically."""
    arrays = {f"params/{k}": v for k, v in state["params"].items()}
    arrays.update({f"best/{k}": v for k, v in state["best_params"].items()})
    for slot, tree in state["opt"].items():
        if isinstance(tree, dict):
            arrays.update({f"opt/{slot}/{k}": v for k, v in tree.items()})
    meta = {k: state[k] for k in META_KEYS}
    meta["opt_t"] = state["opt"].get("t")
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(path, {k: backend.to_numpy(v) for k, v in arrays.items()})


def load(path, xp):
    """The state dict `save` wrote, arrays on array module xp (numpy or cupy)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        pick = lambda prefix: {k[len(prefix):]: xp.asarray(z[k]) for k in z.files  # noqa: E731
                               if k.startswith(prefix)}
        opt = {slot: pick(f"opt/{slot}/") for slot in ("m", "v", "buf")}
        opt = {k: v for k, v in opt.items() if v}
        if meta["opt_t"] is not None:
            opt["t"] = meta["opt_t"]
        return dict(meta, params=pick("params/"), best_params=pick("best/"), opt=opt)
