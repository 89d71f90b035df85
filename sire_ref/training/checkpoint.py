"""A training run's state on disk: params, best params, optimizer state, generator state, curves.

One .npz per run, written atomically (sire_ref.base.io): arrays under "params/", "best/",
"opt/<slot>/" and a JSON "meta" string (epoch, config, identity, history, best, rng state,
...). Loaded without pickle. `train()` saves one every few epochs and resumes from it.

A checkpoint that is truncated, empty, garbage or has a flipped bit (the zip format's CRC-32
of every array is checked on load) raises io.CorruptFileError naming the file; one written
by another checkpoint FORMAT is refused the same way, never half-read.
"""
import json
import os
import zipfile
import zlib

import numpy as np

from ..base import backend
from ..base.io import CorruptFileError, write_npz

FORMAT = 2          # 2: meta carries "identity" (the model's params and the data it trains on)
META_KEYS = ("epoch", "config", "identity", "history", "best", "rng", "since_best", "done",
             "lr_scale", "decays", "stopped")


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
    meta["epoch_seconds"] = state.get("epoch_seconds", [])      # timings: optional, never compared
    meta["format"] = FORMAT
    arrays["meta"] = np.array(json.dumps(meta))
    write_npz(path, {k: backend.to_numpy(v) for k, v in arrays.items()})


def _read(path, only_meta=False):
    """(meta, {name: host array}) with every array read (and its CRC checked) now; only_meta: the
    meta record alone (the arrays are neither read nor checked), with an empty dict."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if not only_meta or k == "meta"}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as err:
        raise CorruptFileError(path, f"not a readable checkpoint (truncated, empty or damaged: "
                                     f"{type(err).__name__}: {err})",
                               "move it aside and run again: the run restarts from epoch 0") from err
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, json.JSONDecodeError) as err:
        raise CorruptFileError(path, "its meta record is missing or damaged",
                               "move it aside and run again: the run restarts from epoch 0") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not set(META_KEYS) <= set(meta):
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CorruptFileError(path, f"written in checkpoint format {found}, this version reads "
                                     f"format {FORMAT}",
                               "use another output folder, or move it aside to restart the run")
    return meta, arrays


def read_meta(path):
    """The meta record of a checkpoint (epoch, config, best, done, stopped, lr_scale, epoch_seconds, ...)
    without reading its arrays: what a sweep's --status shows. CorruptFileError as `load`."""
    return _read(path, only_meta=True)[0]


def load(path, xp):
    """The state dict `save` wrote, arrays on array module xp (numpy or cupy)."""
    meta, arrays = _read(path)
    pick = lambda prefix: {k[len(prefix):]: xp.asarray(v) for k, v in arrays.items()  # noqa: E731
                           if k.startswith(prefix)}
    opt = {slot: pick(f"opt/{slot}/") for slot in ("m", "v", "buf")}
    opt = {k: v for k, v in opt.items() if v}
    if meta["opt_t"] is not None:
        opt["t"] = meta["opt_t"]
    return dict(meta, params=pick("params/"), best_params=pick("best/"), opt=opt)
