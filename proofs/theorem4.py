r"""Theorem 4: parity needs Omega(K) units in DeepSets but 3 neurons in an RNN (n = 2^K).

RNN side (Eq. 3.2): s_{t+1} = W1^T relu(W2 x_t + W3 s_t + B), W1 = [1,-1,-1],
W2 = W3 = [2,2,2], B = [0,-1,-3], s_0 = 0, i.e. relu(a) - relu(a-1) - relu(a-3) with
a = 2x + 2s, which is XOR on {0,1}. Checked on every binary sequence up to length 14
and on random sequences up to length 10,000; 12 parameters.

DeepSets side (Eq. 3.3-3.4): phi can be taken as the identity, so rho: R -> R must
map each count n1 in 0..n to n1 mod 2. The checks count rho's linear pieces exactly
(proofs.relu_pieces) and test three statements:
(a) a continuous piecewise-linear rho with rho(k) = k mod 2 on 0..n has >= n pieces.
    Argument: at each interior k the averaged slopes on [k-1, k] and [k, k+1] are +1 and -1
    (or -1 and +1), so rho has a kink in (k-1, k+1) where the slope drops (at a peak) or
    rises (at a valley). Same-kind k's are 2 apart, so their intervals are disjoint; the
    n-1 kinks are distinct and make >= n pieces. The check finds these kinks in every
    parity-computing rho built here, and the interpolating zigzag attains exactly n.
(b) the piece bound for depth L, width r: the proof quotes r^L; a single layer of r units
    already makes r + 1 pieces, so r^L is not an upper bound. Each layer can cut each
    piece at most r times, so (r + 1)^L is. The check measures random and constructed nets.
(c) a width-2, depth-K sawtooth rho (the tent map composed K times) computes parity on
    0..2^K exactly, so Theta(K) units suffice and the bound is attained up to a constant.
With (r+1)^L >= n and r / log2(r+1) >= 1, rho needs r L >= log2 n = K units.
"""
import bisect
from fractions import Fraction

import numpy as np

from sire_ref.core import constructions
from sire_ref.core.constructions import PARITY_B, PARITY_W1, PARITY_W2, PARITY_W3

from . import check
from .relu_pieces import evaluate, pieces, size

W1, W2, W3, B = PARITY_W1, PARITY_W2, PARITY_W3, PARITY_B


def parity_rnn(x):
    """The Eq. 3.2 RNN (sire_ref.core.constructions) with this module's weights, so a test can break them."""
    return constructions.parity_rnn(x, W1=W1, W2=W2, W3=W3, B=B)


def check_parity_rnn(report, max_exhaustive=14, long_len=10_000, seed=0):
    n_params = sum(v.size for v in (W1, W2, W3, B))
    check(n_params == 12, f"the parity RNN should have 12 parameters, counted {n_params}")
    total = 0
    for n in range(max_exhaustive + 1):
        x = (np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]) & 1   # every binary sequence
        got = parity_rnn(x.astype(np.float64))
        check(np.array_equal(got, x.sum(axis=1) % 2), f"parity RNN wrong at length {n}")
        total += 2 ** n
    rng = np.random.default_rng(seed)
    lengths = [long_len, long_len - 1] + rng.integers(1, long_len, size=30).tolist()
    for n in lengths:
        x = rng.integers(0, 2, size=(1, n))
        check(parity_rnn(x.astype(np.float64))[0] == x.sum() % 2, f"parity RNN wrong at length {n}")
    report(f"parity RNN (Eq. 3.2): 3 neurons, {n_params} parameters; exact on all {total} binary "
           f"sequences of length 0..{max_exhaustive} and {len(lengths)} random ones up to {long_len}")


def zigzag_rho(n):
    """rho(z) = z + sum_{k=1}^{n-1} 2 (-1)^k relu(z - k), with z = relu(z) - relu(-z) (no kink):
    one hidden layer of n + 1 units, the piecewise-linear interpolant of k -> k mod 2."""
    return [([[1], [-1]] + [[1]] * (n - 1), [0, 0] + [-k for k in range(1, n)]),
            ([[1, -1] + [2 * (-1) ** k for k in range(1, n)]], [0])]


def tooth_rho(r, L, scale=1):
    """L layers of r units, each the tooth map y -> r relu(y) - 2r relu(y - 1/r) + ... on [0, 1].

    The input z is scaled by 1/scale first. With r = 2 it is the tent map, and
    tooth_rho(2, K, 2**K) maps the count n1 in 0..2^K to n1 mod 2.
    """
    shifts = [-Fraction(k, r) for k in range(r)]
    coef = [Fraction(r) * (1 if k == 0 else 2 * (-1) ** k) for k in range(r)]
    layers = [([[Fraction(1, scale)]] * r, shifts)]
    layers += [([coef] * r, shifts) for _ in range(L - 1)]
    return layers + [([coef], [0])]


def kinks(pcs):
    """(location, slope change) of every breakpoint between consecutive pieces."""
    return [(p[1], q[2] - p[2]) for p, q in zip(pcs[:-1], pcs[1:])]


def has_parity_kinks(pcs, n):
    """True when each interior k in 1..n-1 has a kink in (k-1, k+1) whose slope change has the sign
    argument (a) demands: a drop at a peak (k odd), a rise at a valley (k even)."""
    ks = kinks(pcs)
    where = [z for z, _ in ks]
    for k in range(1, n):
        sign = -1 if k % 2 else 1
        lo, hi = bisect.bisect_right(where, k - 1), bisect.bisect_left(where, k + 1)
        if not any(d * sign > 0 for _, d in ks[lo:hi]):
            return False
    return True


def computes_parity(layers, n):
    return all(evaluate(layers, Fraction(k)) == k % 2 for k in range(n + 1))


def check_lower_bound(report, ns=(2, 3, 4, 5, 8, 16, 33)):
    for n in ns:
        rho = zigzag_rho(n)
        check(computes_parity(rho, n), f"zigzag rho does not compute parity on 0..{n}")
        pcs = pieces(rho)
        check(len(pcs) == n, f"zigzag rho for n={n} has {len(pcs)} pieces, expected exactly n")
        check(has_parity_kinks(pcs, n), f"kink argument fails on zigzag n={n}")
        # One piece fewer cannot work: drop the last kink of the zigzag and parity breaks.
        (W_h, b_h), (W_o, b_o) = rho
        fewer = [(W_h[:-1], b_h[:-1]), ([W_o[0][:-1]], b_o)]
        check(not computes_parity(fewer, n), f"a rho with {n - 1} pieces computed parity on 0..{n}")
    report(f"(a) rho computing parity on 0..n needs >= n pieces: zigzag attains exactly n and every "
           f"kink the argument needs is present, for n in {list(ns)}; dropping one kink breaks parity")


def random_net(rng, r, L):
    layers = [(rng.normal(size=(r, 1)).tolist(), rng.normal(size=r).tolist())]
    layers += [(rng.normal(size=(r, r)).tolist(), rng.normal(size=r).tolist()) for _ in range(L - 1)]
    return layers + [(rng.normal(size=(1, r)).tolist(), [0.0])]


def check_piece_bound(report, widths=(1, 2, 3, 4), depths=(1, 2, 3, 4), draws=150, seed=0):
    rng = np.random.default_rng(seed)
    rows, exceeds_rL = [], []
    for r in widths:
        for L in depths:
            random_max = max(len(pieces(random_net(rng, r, L))) for _ in range(draws))
            built = len(pieces(tooth_rho(r, L)))
            top = max(random_max, built)
            check(top <= (r + 1) ** L, f"r={r}, L={L}: {top} pieces exceed (r+1)^L = {(r + 1) ** L}")
            if top > r ** L:
                exceeds_rL.append((r, L, top))
            rows.append(f"    r={r} L={L}: r^L={r ** L:>4} (r+1)^L={(r + 1) ** L:>4} "
                        f"random max={random_max:>4} constructed={built:>4}")
    check(exceeds_rL, "no net exceeded r^L: the quoted bound could not be refuted here")
    witness = max(exceeds_rL, key=lambda w: w[0] ** w[1])
    report("(b) pieces of depth-L width-r ReLU nets (exact count; random: max over "
           f"{draws} Gaussian draws; constructed: tooth maps):\n" + "\n".join(rows) +
           f"\n    r^L is exceeded in {len(exceeds_rL)} of {len(rows)} cases, e.g. r={witness[0]}, "
           f"L={witness[1]}: {witness[2]} > {witness[0] ** witness[1]} pieces. The bound that holds is "
           f"(r+1)^L (each layer cuts each piece at most r times).")


def check_sawtooth(report, Ks=range(2, 13)):
    lines = [f"    {'K':>3} {'n=2^K':>6} {'RNN neurons/params':>19} {'rho units >= K':>15} "
             f"{'paper 4K':>9} {'sawtooth units/params':>22} {'pieces':>7}"]
    for K in Ks:
        n = 2 ** K
        rho = tooth_rho(2, K, scale=n)
        check(computes_parity(rho, n), f"sawtooth rho does not compute parity on 0..{n} (K={K})")
        pcs = pieces(rho)
        n_pieces = len(pcs)
        check(n_pieces >= n and has_parity_kinks(pcs, n),
              f"sawtooth rho for K={K}: {n_pieces} pieces or a missing kink contradicts (a)")
        units, params = size(rho)
        lines.append(f"    {K:>3} {n:>6} {'3 / 12':>19} {K:>15} {4 * K:>9} "
                     f"{f'{units} / {params}':>22} {n_pieces:>7}")
    report("(c) width-2 depth-K sawtooth rho computes parity exactly on 0..2^K (and has the kinks of "
           "(a)); size comparison:\n"
           + "\n".join(lines))


def run(report):
    """Run every Theorem 4 check; `report(text)` receives the findings."""
    check_parity_rnn(report)
    check_lower_bound(report)
    check_piece_bound(report)
    check_sawtooth(report)
