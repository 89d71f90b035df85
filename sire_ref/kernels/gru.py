r"""numba fast path of the GRU (same math as sire_ref.core.cells.gru, time-major inside).

Two jitted calls, time-major inside. In the loop gh = s W_hh^T + b_hh calls BLAS and the
gates are fused elementwise loops (kernels.mathfn). What does not depend on the recurrence
is grouped C steps at a time (C * B * 3H <= 2^21 elements): gi = x W_ih^T in forward, and in
backward dW_ih, dW_hh, the biases and dx from the saved dgi_t, dgh_t of C steps, as a few
large products. Grouping keeps BLAS efficient without holding (T, B, 3H) buffers, which at
T = 1000 cost more in memory traffic than they saved; only ds_{t-1} = ds_t z + dgh_t W_hh is
sequential.
Rows are in order of non-increasing length (the wrapper reorders a batch that is not, and puts
its outputs back): a step's product and gate loops run on its live rows 0..live-1 only, the ended
ones carry their state (their gates are neither computed nor read).
Each step writes its gates r, z, n, gh_n and its state straight into the saved (5, T, B, H) arrays the
backward reads, from the previous step's saved state: no per-step copies (measured: the forward 10%
faster at B 128, H 80, T 10 and 16% at B 64, H 32, T 784 than computing into buffers and copying them).
Symbols as in cells/gru.py: r, z, n, gh_n = W_hn s + b_hn.
Integer tokens (one-hot rows, sire_ref.nn.inputs) skip the input products: gi_t is a row
gather from W_ih^T, and dW_ih a scatter-add of dgi_t by token (no dx).
"""
import numpy as np
from numba import njit

from ..nn.inputs import is_tokens
from .layout import (caller_rows, dw_hh, from_time_major, kernel_batch, live_rows, project_steps,
                     project_steps_backward, rows_of, weights)
from .mathfn import SIGMOID, TANH, activate, flush_floor


@njit(error_model="numpy", cache=True)
def _forward(inputs, weights, s_init, lengths, gi_chunk, saved, single):
    w_ih, b_ih, w_hh, b_hh = weights
    T, B = saved.shape[1], saved.shape[2]
    H = s_init.shape[1]
    H3, n_el, C = 3 * H, B * H, gi_chunk.shape[0]
    w_ih_t = np.ascontiguousarray(w_ih.T)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    states, r_all, z_all, n_all, ghn_all = saved[0], saved[1], saved[2], saved[3], saved[4]
    gh = np.empty((B, H3), s_init.dtype)
    pre = np.empty((3, B, H), s_init.dtype)
    pre_r, pre_z, pre_n = pre[0], pre[1], pre[2]
    q, bits = np.empty(n_el), np.empty(n_el, np.int64)
    for t in range(T):
        if t % C == 0:                                  # x W_ih^T for the next C steps at once
            project_steps(inputs, w_ih_t, t, min(C, T - t), gi_chunk)
        gi = gi_chunk[t % C]                            # b_ih is added below
        s_prev = states[t - 1] if t > 0 else s_init
        r, z, n, ghn, s = r_all[t], z_all[t], n_all[t], ghn_all[t], states[t]
        live = live_rows(lengths, t)                    # rows 0..live-1 step; the others carry their state
        np.dot(s_prev[:live], w_hh_t, gh[:live])
        for b in range(live):                           # one output per loop: each one vectorizes
            for h in range(H):
                pre_r[b, h] = gi[b, h] + b_ih[h] + gh[b, h] + b_hh[h]
            for h in range(H):
                pre_z[b, h] = gi[b, H + h] + b_ih[H + h] + gh[b, H + h] + b_hh[H + h]
            for h in range(H):
                ghn[b, h] = gh[b, 2 * H + h] + b_hh[2 * H + h]
        m = live * H
        activate(SIGMOID, pre_r.reshape(n_el)[:m], r.reshape(n_el)[:m], q, bits, single)
        activate(SIGMOID, pre_z.reshape(n_el)[:m], z.reshape(n_el)[:m], q, bits, single)
        for b in range(live):
            for h in range(H):
                pre_n[b, h] = gi[b, 2 * H + h] + b_ih[2 * H + h] + r[b, h] * ghn[b, h]
        activate(TANH, pre_n.reshape(n_el)[:m], n.reshape(n_el)[:m], q, bits, single)
        for b in range(live):
            for h in range(H):
                s[b, h] = (1 - z[b, h]) * n[b, h] + z[b, h] * s_prev[b, h]
        for b in range(live, B):                        # ended: its gates are not computed (nor read)
            for h in range(H):
                s[b, h] = s_prev[b, h]


@njit(error_model="numpy", cache=True)
def _backward(inputs, weights, saved, s_init, lengths, dstates, rows, scratch, floor):
    """dstates (B, T, H) in the caller's row order, rows: the caller's row of each kernel row;
    scratch: (dgi_chunk, dgh_chunk (C, B, 3H): the gate gradients of C steps, dx_tm like x_tm)."""
    w_ih, w_hh = weights.w_ih, weights.w_hh
    states, r_all, z_all, n_all, ghn_all = saved[0], saved[1], saved[2], saved[3], saved[4]
    dgi_chunk, dgh_chunk, dx_tm = scratch
    T, B, H = states.shape
    C = dgi_chunk.shape[0]
    d_w_ih_t, d_w_hh = np.zeros((w_ih.shape[1], 3 * H), states.dtype), np.zeros((3 * H, H), states.dtype)
    db_ih, db_hh = np.zeros(3 * H, states.dtype), np.zeros(3 * H, states.dtype)
    ones = np.ones(C * B, states.dtype)          # column sums as BLAS gemv: numba's sum(axis=0) is slow
    ds = np.zeros((B, H), states.dtype)
    back = np.empty((B, H), states.dtype)
    for t in range(T - 1, -1, -1):
        dgi, dgh = dgi_chunk[t % C], dgh_chunk[t % C]
        s_prev = states[t - 1] if t > 0 else s_init
        r, z, n, ghn = r_all[t], z_all[t], n_all[t], ghn_all[t]
        live = live_rows(lengths, t)
        for b in range(B):
            for h in range(H):
                ds[b, h] += dstates[rows[b], t, h]
            if b >= live:                  # carried: no gate gradients, ds passes through
                dgi[b] = 0
                dgh[b] = 0
                continue
            # dan = ds (1 - z)(1 - n^2), dar = dan gh_n r (1 - r), daz = ds (s_prev - n) z (1 - z):
            # one output per loop, so that each one vectorizes
            for h in range(H):
                dgi[b, 2 * H + h] = ds[b, h] * (1 - z[b, h]) * (1 - n[b, h] * n[b, h])
            for h in range(H):
                dgi[b, h] = dgi[b, 2 * H + h] * ghn[b, h] * r[b, h] * (1 - r[b, h])
            for h in range(H):
                dgi[b, H + h] = ds[b, h] * (s_prev[b, h] - n[b, h]) * z[b, h] * (1 - z[b, h])
            for h in range(2 * H):
                dgh[b, h] = dgi[b, h]
            for h in range(H):
                dgh[b, 2 * H + h] = dgi[b, 2 * H + h] * r[b, h]
        np.dot(dgh[:live], w_hh, back[:live])
        for b in range(live):
            for h in range(H):
                v = ds[b, h] * z[b, h] + back[b, h]
                ds[b, h] = v if abs(v) >= floor else 0.0          # no subnormals (mathfn.flush_floor)
        if t % C == 0:                           # steps t..t+n-1 done: their weight gradients at once
            n_t = min(C, T - t)
            gi_blk = dgi_chunk[:n_t].reshape(n_t * B, 3 * H)
            gh_blk = dgh_chunk[:n_t].reshape(n_t * B, 3 * H)
            project_steps_backward(dgi_chunk, inputs, w_ih, t, n_t, d_w_ih_t, dx_tm)
            d_w_hh += dw_hh(dgh_chunk[:n_t], states, s_init, t)
            db_ih += np.dot(ones[:n_t * B], gi_blk)
            db_hh += np.dot(ones[:n_t * B], gh_blk)
    return d_w_ih_t.T.copy(), d_w_hh, db_ih, db_hh, ds


CHUNK_ELEMENTS = 1 << 21        # per-step products are grouped C steps at a time, C * B * 3H <= this


def _chunk(T, B, H):
    return max(1, min(T, CHUNK_ELEMENTS // max(1, B * 3 * H)))     # B = 0: an empty batch


def forward(params, x, lengths, s_init):
    """x (B, T, I) floats or (B, T) tokens, lengths (B,) host ints, s_init (B, H) each row's
    initial state -> (states (B, T, H), cache).

    The large buffers are allocated here by NumPy, which asks the kernel for huge pages:
    first-touching them costs a quarter of what numba's own allocator costs at T = 1000.
    Rows of unequal lengths run longest first (layout.kernel_batch) and come back in x's order.
    """
    B, T = x.shape[:2]
    H, dtype = params["s0"].shape[0], params["s0"].dtype
    order, inputs, lengths, s_init = kernel_batch(x, lengths, s_init, dtype)
    gi = np.empty((_chunk(T, B, H), B, 3 * H), dtype)
    saved = np.empty((5, T, B, H), dtype)            # states, r, z, n, gh_n for every step
    _forward(inputs, weights(params), s_init, lengths, gi, saved, dtype == np.float32)
    return caller_rows(saved[0], order, axis=1).transpose(1, 0, 2), {
        "inputs": inputs, "saved": saved, "lengths": lengths, "tokens": is_tokens(x), "s_init": s_init,
        "order": order}


def backward(params, cache, dstates):
    """dstates (B, T, H) -> (grads of the four weights, dx (B, T, I) or None for tokens,
    ds_init (B, H): the gradient on each row's initial state)."""
    saved, inputs = cache["saved"], cache["inputs"]
    T, B, H = saved.shape[1:]
    C = _chunk(T, B, H)
    dgi, dgh = np.empty((C, B, 3 * H), saved.dtype), np.empty((C, B, 3 * H), saved.dtype)
    dx_tm = np.empty_like(inputs.x_tm)
    order = cache["order"]
    d_w_ih, d_w_hh, db_ih, db_hh, ds_init = _backward(
        inputs, weights(params), saved, cache["s_init"], cache["lengths"], dstates, rows_of(order, B),
        (dgi, dgh, dx_tm), flush_floor(saved.dtype))
    dx = None if cache["tokens"] else from_time_major(caller_rows(dx_tm, order, axis=1))
    return ({"weight_ih": d_w_ih, "weight_hh": d_w_hh, "bias_ih": db_ih, "bias_hh": db_hh}, dx,
            caller_rows(ds_init, order))
