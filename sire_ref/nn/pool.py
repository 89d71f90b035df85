r"""2 x 2 max pooling with stride 2 (PyTorch nn.MaxPool2d(2)), on NumPy or CuPy.

x (B, C, H, W), H and W even -> y (B, C, H/2, W/2): y[b, c, i, j] = max of the window
x[b, c, 2i:2i+2, 2j:2j+2]. The gradient goes to the window's maximum only (the first one in
row-major order on a tie, as PyTorch).
"""
from ..base import backend


def _windows(x):
    """(B, C, H/2, W/2, 4): each 2 x 2 window's entries in row-major order."""
    B, C, H, W = x.shape
    return x.reshape(B, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, C, H // 2, W // 2, 4)


def forward(x):
    """y (B, C, H/2, W/2) and the cache (which entry of each window won, x's shape)."""
    if x.ndim != 4 or x.shape[2] % 2 or x.shape[3] % 2:
        raise ValueError(f"x must be (B, C, H, W) with H and W even, got shape {x.shape}")
    win = _windows(x)
    winner = win.argmax(axis=-1)
    xp = backend.array_module(x)
    return xp.take_along_axis(win, winner[..., None], axis=-1)[..., 0], (winner, x.shape)


def backward(cache, dy):
    """dx (B, C, H, W): dy routed to each window's winner, zeros elsewhere."""
    winner, (B, C, H, W) = cache
    xp = backend.array_module(dy)
    d_win = (xp.arange(4) == winner[..., None]) * dy[..., None]
    return d_win.reshape(B, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, C, H, W)
