r"""Elman tanh RNN, the equations of PyTorch nn.RNN / nn.RNNCell (nonlinearity='tanh').

One application of the update f of Eq. 2.1, for a batch (a, s, s_next: (B, H); x_t: (B, I) or tokens (B,)):

\[ a = x_t W_{ih}^\top + b_{ih} + s W_{hh}^\top + b_{hh}, \qquad s_{\mathrm{next}} = \tanh(a) \]

with W_ih = params["weight_ih"] (H, I), W_hh = params["weight_hh"] (H, H),
b_ih = params["bias_ih"] (H,), b_hh = params["bias_hh"] (H,), and s_0 = params["s0"] (H,).

Backward, the forward read in reverse, one chain-rule step per line
(\( da = ds_{\mathrm{next}} \odot (1 - s_{\mathrm{next}}^2) \), then the products):

    da    = ds_next * (1 - s_next**2)
    dW_ih = da^T x_t      db_ih = sum_b da      dx_t = da W_ih
    dW_hh = da^T s        db_hh = sum_b da      ds   = da W_hh

`forward`/`backward` run this over (B, T, I) sequences with optional lengths;
see `recurrence.py` for the sequence semantics shared with the GRU. Integer tokens in
0..I-1 are read as one-hot rows (`nn.inputs`): x_t W_ih^T is then a column gather, and
they get no dx.
"""
from ...base import backend
from ...nn.inputs import project, project_backward
from . import recurrence


def _step(params, s, x_t):
    a = project(x_t, params["weight_ih"]) + params["bias_ih"] + s @ params["weight_hh"].T + params["bias_hh"]
    s_next = backend.array_module(a).tanh(a)
    return s_next, {"cell": "rnn", "s": s, "x_t": x_t, "s_next": s_next}


def _step_backward(params, cache, ds_next):
    s, x_t, s_next = cache["s"], cache["x_t"], cache["s_next"]
    da = ds_next * (1 - s_next * s_next)
    d_w_ih, dx_t = project_backward(da, x_t, params["weight_ih"])
    grads = {"weight_ih": d_w_ih, "weight_hh": da.T @ s,
             "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
    return grads, da @ params["weight_hh"], dx_t


# This module is the cell's one public face: the whole Cell interface as module attributes.
CELL = recurrence.Cell(name="rnn", gates=1, step=_step, step_backward=_step_backward)
(name, gates, init_params, check_params, check_forward_args, step, step_backward, forward,
 backward) = CELL.interface()
(unchecked_step, unchecked_step_backward, unchecked_forward, unchecked_backward,
 unchecked_backward_rows) = CELL.unchecked_interface()
