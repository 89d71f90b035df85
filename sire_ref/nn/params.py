"""Flat parameter dicts: models name a sub-layer's arrays "<prefix>.<name>"."""


def prefixed(prefix, params):
    """{name: a} -> {"prefix.name": a}."""
    return {f"{prefix}.{k}": v for k, v in params.items()}


def take(prefix, params):
    """The arrays under "prefix.", with the prefix removed (views, not copies)."""
    start = prefix + "."
    return {k[len(start):]: v for k, v in params.items() if k.startswith(start)}


def add_into(total, prefix, grads):
    """total["prefix.name"] += grads[name] for every name (the gradients of a sub-layer)."""
    for k, g in grads.items():
        total[f"{prefix}.{k}"] += g
