"""Hand-written layers, losses and optimizers in the pure style of the cells.

Every layer is `init(...) -> params`, `forward(params, x, ...) -> (y, cache)`,
`backward(params, cache, dy) -> (grads, dx)`, with params a flat dict of arrays.
Models compose layers by prefixing names (`params.prefixed`, `params.take`).
"""
