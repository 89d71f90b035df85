r"""GRU with exactly the equations of PyTorch nn.GRU / nn.GRUCell (gate order r, z, n).

One application of the update f of Eq. 2.1, for a batch (s is PyTorch's h):

\[ r = \sigma(W_{ir} x_t + b_{ir} + W_{hr} s + b_{hr}) \]

\[ z = \sigma(W_{iz} x_t + b_{iz} + W_{hz} s + b_{hz}) \]

\[ n = \tanh(W_{in} x_t + b_{in} + r \odot (W_{hn} s + b_{hn})) \]

\[ s_{\mathrm{next}} = (1 - z) \odot n + z \odot s \]

as the code computes it, a row per sequence:

    gi = x_t W_ih^T + b_ih = [gi_r, gi_z, gi_n]        each block (B, H); x_t (B, I) or tokens (B,)
    gh = s   W_hh^T + b_hh = [gh_r, gh_z, gh_n]        s (B, H)
    r  = sigmoid(gi_r + gh_r)
    z  = sigmoid(gi_z + gh_z)
    n  = tanh(gi_n + r * gh_n)                          r multiplies (W_hn s + b_hn)
    s_next = (1 - z) * n + z * s

W_ih = params["weight_ih"] (3H, I), W_hh = params["weight_hh"] (3H, H),
b_ih = params["bias_ih"] (3H,), b_hh = params["bias_hh"] (3H,), s_0 = params["s0"] (H,).

Backward, the forward read in reverse:

    dn  = ds_next * (1 - z)          dz = ds_next * (s - n)      ds = ds_next * z
    dan = dn * (1 - n**2)                                        (pre-activation of n)
    dgi_n = dan      dgh_n = dan * r      dr = dan * gh_n
    dgi_r = dgh_r = dr * r * (1 - r)      dgi_z = dgh_z = dz * z * (1 - z)
    dW_ih = dgi^T x_t   db_ih = sum_b dgi   dx_t = dgi W_ih
    dW_hh = dgh^T s     db_hh = sum_b dgh   ds  += dgh W_hh

Hence dL/db_ir == dL/db_hr and dL/db_iz == dL/db_hz, while dL/db_hn = r * dL/db_in
row by row, which differs from dL/db_in in general. Integer tokens in 0..I-1 are read as
one-hot rows (`nn.inputs`): x_t W_ih^T is then a column gather, and they get no dx.
"""
from ...base import backend
from ...nn.activations import sigmoid
from ...nn.inputs import project, project_backward
from . import recurrence


def _step(params, s, x_t):
    xp = backend.array_module(x_t)
    gi = project(x_t, params["weight_ih"]) + params["bias_ih"]
    gh = s @ params["weight_hh"].T + params["bias_hh"]
    gi_r, gi_z, gi_n = xp.split(gi, 3, axis=1)
    gh_r, gh_z, gh_n = xp.split(gh, 3, axis=1)
    r = sigmoid(gi_r + gh_r)
    z = sigmoid(gi_z + gh_z)
    n = xp.tanh(gi_n + r * gh_n)
    s_next = (1 - z) * n + z * s
    cache = {"cell": "gru", "s": s, "x_t": x_t, "r": r, "z": z, "n": n, "gh_n": gh_n}
    return s_next, cache


def _step_backward(params, cache, ds_next):
    xp = backend.array_module(ds_next)
    s, x_t, r, z, n, gh_n = (cache[k] for k in ("s", "x_t", "r", "z", "n", "gh_n"))
    dn = ds_next * (1 - z)
    dz = ds_next * (s - n)
    ds = ds_next * z
    dan = dn * (1 - n * n)
    dr = dan * gh_n
    dar = dr * r * (1 - r)
    daz = dz * z * (1 - z)
    dgi = xp.concatenate([dar, daz, dan], axis=1)
    dgh = xp.concatenate([dar, daz, dan * r], axis=1)
    d_w_ih, dx_t = project_backward(dgi, x_t, params["weight_ih"])
    grads = {"weight_ih": d_w_ih, "weight_hh": dgh.T @ s,
             "bias_ih": dgi.sum(axis=0), "bias_hh": dgh.sum(axis=0)}
    ds = ds + dgh @ params["weight_hh"]
    return grads, ds, dx_t


# This module is the cell's one public face: the whole Cell interface as module attributes.
CELL = recurrence.Cell(name="gru", gates=3, step=_step, step_backward=_step_backward)
(name, gates, init_params, check_params, check_forward_args, step, step_backward, forward,
 backward) = CELL.interface()
(unchecked_step, unchecked_step_backward, unchecked_forward, unchecked_backward,
 unchecked_backward_rows) = CELL.unchecked_interface()
