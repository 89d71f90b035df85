"""PyTorch interop: parameter maps for nn.RNN / nn.GRU / nn.RNNCell / nn.GRUCell, and an autograd oracle.

torch is optional: it is imported only when one of these functions is called,
and a clear ImportError says how to install it when it is missing.

Name map (single layer, unidirectional, with biases; the same row blocks and
gate order r, z, n as ours):
    nn.RNN / nn.GRU:          weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0
    nn.RNNCell / nn.GRUCell:  weight_ih,    weight_hh,    bias_ih,    bias_hh
    s0: not part of a torch module; it is torch's h0 (zeros by default), passed separately.
"""
import numpy as np

from ...base import backend
from ...base.validate import check_array, check_lengths
from ...core.cells import get_cell, kind_of
from ...core.cells.recurrence import WEIGHT_KEYS
from .formulas import regularizer_differences

_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}
# The one way to install the PyTorch the oracles are tested with: the CPU build (plain
# `pip install torch` on Linux pulls several GB of CUDA wheels the oracles never use).
INSTALL = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"


def require():
    """The torch module; ImportError with the install command when it is missing."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(f"sire_ref.tools.interop.torch needs PyTorch: {INSTALL}") from err
    return torch


def _module_kind(module):
    """("rnn" | "gru", is_cell, key suffix) for a supported torch module, else a clear error."""
    nn = require().nn
    kinds = {nn.RNN: ("rnn", False), nn.GRU: ("gru", False),
             nn.RNNCell: ("rnn", True), nn.GRUCell: ("gru", True)}
    if type(module) not in kinds:
        raise TypeError(f"module must be nn.RNN, nn.GRU, nn.RNNCell or nn.GRUCell, "
                        f"got {type(module).__name__}")
    kind, is_cell = kinds[type(module)]
    if kind == "rnn" and module.nonlinearity != "tanh":
        raise ValueError(f"module must use nonlinearity='tanh', got {module.nonlinearity!r}")
    if not module.bias:
        raise ValueError("module must have bias=True (our cells always carry bias_ih and bias_hh)")
    if not is_cell and (module.num_layers != 1 or module.bidirectional):
        raise ValueError(f"module must be single-layer and unidirectional, got num_layers="
                         f"{module.num_layers}, bidirectional={module.bidirectional}")
    return kind, is_cell, ("" if is_cell else "_l0")


def params_from_torch(module, s0=None):
    """Copy a torch module's weights into our params dict (NumPy arrays of the module's dtype).

    s0: the initial state (H,) as a torch tensor or NumPy array, or None for
    torch's default h0 = 0. Returns weight_ih, weight_hh, bias_ih, bias_hh, s0.
    """
    kind, _, suffix = _module_kind(module)
    params = {k: getattr(module, k + suffix).detach().cpu().numpy().copy() for k in WEIGHT_KEYS}
    dtype = params["weight_ih"].dtype
    H = module.hidden_size
    if s0 is None:
        s0 = np.zeros(H, dtype=dtype)
    elif isinstance(s0, require().Tensor):
        s0 = s0.detach().cpu().numpy().copy()
    check_array(s0, "s0", shape=(H,), dtype=dtype)
    params["s0"] = s0
    get_cell(kind).check_params(params, name="module parameters")
    return params


def params_to_torch(params, cell=False):
    """A new torch module holding exactly our weights.

    cell=False gives nn.RNN / nn.GRU (batch_first=True), cell=True nn.RNNCell /
    nn.GRUCell, in the params' dtype. s0 does not belong to a torch module:
    pass torch.as_tensor(params["s0"]) as h0 yourself.
    """
    torch = require()
    kind = kind_of(params)
    I, H, dtype = get_cell(kind).check_params(params)
    tdtype = getattr(torch, _DTYPES[dtype])
    if cell:
        module = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell}[kind](I, H, dtype=tdtype)
    else:
        module = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU}[kind](I, H, batch_first=True, dtype=tdtype)
    suffix = "" if cell else "_l0"
    with torch.no_grad():
        for k in WEIGHT_KEYS:
            getattr(module, k + suffix).copy_(torch.from_numpy(backend.to_numpy(params[k])))
    return module


def oracle(params, x, lengths=None, dstates=None):
    """PyTorch autograd's states and gradients for our sequence semantics, as NumPy arrays.

    Runs nn.RNN / nn.GRU on a packed batch (pack_padded_sequence), rebuilds our
    states (B, T, H) by carrying each sequence's final state past its length, and
    backpropagates L = sum(dstates * states). Returns (states, grads, dx) with
    grads keyed like params (s0 included). Independent of our backward code.
    """
    torch = require()
    rnn_utils = torch.nn.utils.rnn
    kind = kind_of(params)
    I, H, dtype = get_cell(kind).check_params(params)
    check_array(x, "x", shape=(None, None, I), dtype=dtype)
    B, T, _ = x.shape
    lengths = check_lengths(lengths, B, T)
    if lengths.min(initial=1) < 1:
        raise ValueError("lengths must be >= 1 for the torch oracle (pack_padded_sequence rejects "
                         "empty sequences)")
    module = params_to_torch(params)
    xt = torch.tensor(backend.to_numpy(x), requires_grad=True)
    h0 = torch.tensor(backend.to_numpy(params["s0"]), requires_grad=True)
    packed = rnn_utils.pack_padded_sequence(xt, torch.as_tensor(lengths), batch_first=True,
                                            enforce_sorted=False)
    out, h_n = module(packed, h0.expand(1, B, H).contiguous())
    out, _ = rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=T)
    active = torch.arange(T)[None, :, None] < torch.as_tensor(lengths)[:, None, None]
    states = torch.where(active, out, h_n[0][:, None, :])
    if dstates is not None:
        check_array(dstates, "dstates", shape=(B, T, H), dtype=dtype)
        (states * torch.tensor(backend.to_numpy(dstates))).sum().backward()
    grads = {k: getattr(module, k + "_l0").grad for k in WEIGHT_KEYS}
    grads["s0"] = h0.grad
    grads = {k: (None if g is None else g.numpy()) for k, g in grads.items()}
    dx = None if xt.grad is None else xt.grad.numpy()
    return states.detach().numpy(), grads, dx


def regularizer_oracle(reg, params, x, samples, lengths=None, through_state=True):
    """PyTorch autograd's value and gradients of R_SIRE (reg="sire") or R_SUB (reg="sub").

    Deliberately naive and independent of sire_ref.core.regularizers: row by row, one
    nn.RNNCell / nn.GRUCell call per input, the formula of Eq. 4.4 / Eq. 4.1 as
    written. Returns (value, grads keyed like params, dx (B, T, I)) as NumPy.
    """
    torch = require()
    from ...core.samples import check_samples

    cell_kind = kind_of(params)
    get_cell(cell_kind).check_params(params)
    smp = check_samples(samples, reg, x.shape[0], x.shape[1], lengths)
    module = params_to_torch(params, cell=True)
    xt = torch.tensor(backend.to_numpy(x), requires_grad=True)
    s0 = torch.tensor(backend.to_numpy(params["s0"]), requires_grad=True)

    def fold(s, b, positions):
        for t in positions:
            s = module(xt[b, t][None], s)
        return s

    diffs = regularizer_differences(reg, smp, fold, s0[None], None if through_state else torch.Tensor.detach)
    terms = [(d * d).sum() for d in diffs]
    value = torch.stack(terms).mean()
    value.backward()
    grads = {k: getattr(module, k).grad for k in WEIGHT_KEYS}
    grads["s0"] = s0.grad
    zeros = {k: np.zeros_like(backend.to_numpy(params[k])) for k in params}
    grads = {k: zeros[k] if g is None else g.numpy() for k, g in grads.items()}
    dx = np.zeros_like(backend.to_numpy(x)) if xt.grad is None else xt.grad.numpy()
    return float(value.detach()), grads, dx
