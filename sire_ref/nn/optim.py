r"""Optimizers with explicit state, updating the params dict in place.

Adam (PyTorch torch.optim.Adam, L2 weight decay added to the gradient):
    g <- g + wd * theta;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
SGD with momentum mu (PyTorch convention): buf <- mu buf + g; theta <- theta - lr buf.
"""
from ..base import backend


def adam_init(params):
    return {"t": 0, "m": {k: v * 0 for k, v in params.items()}, "v": {k: v * 0 for k, v in params.items()}}


def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, fused_update=None):
    """Adam's update of every param in place. fused_update(theta, g, m, v, lr, betas, eps,
    weight_decay, t) -> bool, if given, may do an array's whole update itself and return True
    (kernels.adam.fused_update: one jitted pass, the same numbers bit for bit); else (or when it
    returns False) the lines below run."""
    b1, b2 = betas
    state["t"] += 1
    t = state["t"]
    xp = backend.array_module(*params.values())
    for k, theta in params.items():
        m, v = state["m"][k], state["v"][k]
        if fused_update is not None and fused_update(theta, grads[k], m, v, lr, betas, eps, weight_decay, t):
            continue
        g = grads[k] + weight_decay * theta if weight_decay else grads[k]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        theta -= lr * (m / (1 - b1 ** t)) / (xp.sqrt(v / (1 - b2 ** t)) + eps)


def sgd_init(params):
    return {"buf": {k: v * 0 for k, v in params.items()}}


def sgd_step(params, grads, state, lr, momentum=0.0, weight_decay=0.0):
    for k, theta in params.items():
        g = grads[k] + weight_decay * theta if weight_decay else grads[k]
        buf = state["buf"][k]
        buf *= momentum
        buf += g
        theta -= lr * buf


def clip_grad_norm(grads, max_norm):
    """Scale all gradients in place so their joint 2-norm is at most max_norm; return the norm before
    (a 0-d array: the scaling never reads it back to the host, no synchronization on CuPy)."""
    xp = backend.array_module(*grads.values())
    total = xp.sqrt(sum((g * g).sum() for g in grads.values()))
    if max_norm is not None:
        scale = xp.where(total > max_norm, max_norm / (total + 1e-12), 1.0).astype(total.dtype)
        for g in grads.values():
            g *= scale
    return total


def step_lr(lr, epoch, step_size, gamma):
    """The step schedule lr * gamma^(epoch // step_size) (step_size None: constant)."""
    return lr if not step_size else lr * gamma ** (epoch // step_size)


OPTIMIZERS = {"adam": (adam_init, adam_step), "sgd": (sgd_init, sgd_step)}
