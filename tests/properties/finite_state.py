r"""Models that commute only where Theorem 5 asks them to: on the states reachable from a data set D.

All arithmetic is on small integers held in float64, so "zero" below is exactly zero. Inputs
are tokens 0..k-1 stored as x (B, T, 1) floats (the layout `proofs.invariance` folds over).
The state's coordinate 0 counts the elements folded so far (the depth); the others carry
the model's information. Each token x has a vector v[x] (first entry 1, the rest small ints).

    additive step   s + v[x]                               (commutes everywhere)
    twisted step    (s[0] + 1,  K s[1:] + x),  K = 10      (a base-K record of the order)

Why the twisted step never commutes for tokens a != c: two twisted steps from s give
K^2 s + K a + c against K^2 s + K c + a, apart by (K - 1)(a - c); an additive then a twisted
step give K (s + v_a) + c against K (s + v_c) + a, apart by K (v_a - v_c) + (c - a), which
is nonzero because |c - a| < K.

- `ReachableOnly`: additive on S_D (the states f(s_0, x_S), S an ordered subset of a
  sequence of D; Definition 3), twisted everywhere else. Theorem 5's premise holds, so it
  is invariant on D, yet a swap at any state off S_D is not (why Eq. 4.4 samples s from S_D).
- `ShallowOnly`: additive while the depth is <= 1, twisted deeper. Every swap at s_0
  commutes; a swap of distinct tokens at a depth-1 state does not, nor do those orders.
- `OneBadTransition`: additive everywhere except the single transition (s*, token a*), s*
  a reachable state of depth >= 2, which adds 1/2. Only (state, pair) terms one of whose
  orders passes through that transition have a nonzero gap, none at s_0.
"""
import itertools

import numpy as np


def reachable_states(s0, v, x, lengths):
    """S_D of the additive model as a set of tuples: s0 + sum of v over every subset of every
    sequence (the order does not matter for sums, so subsets suffice)."""
    states = set()
    for b, L in enumerate(np.asarray(lengths).tolist()):
        tokens = x[b, :L, 0].astype(int)
        for m in range(L + 1):
            for S in itertools.combinations(range(L), m):
                states.add(tuple(s0 + v[tokens[list(S)]].sum(axis=0)))
    return states


class TokenModel:
    """Token vectors v, the start state s0, and the two kinds of step; subclasses choose per state."""
    K = 10.0

    def __init__(self, rng, n_tokens, H):
        if n_tokens >= self.K:
            raise ValueError(f"n_tokens must be < {self.K:g} for the twisted step's record")
        self.v = np.concatenate([np.ones((n_tokens, 1)), rng.integers(-3, 4, size=(n_tokens, H - 1))], axis=1)
        self.s0 = np.concatenate([[0.0], rng.integers(-3, 4, size=H - 1)]).astype(float)

    def additive(self, s, token):
        return s + self.v[token]

    def twisted(self, s, token):
        return np.concatenate([[s[0] + 1], self.K * s[1:] + token])

    def additive_here(self, s, token):
        """Whether the step from state s by `token` is the additive one (the subclass's rule)."""
        raise NotImplementedError

    def __call__(self, s, x):
        """Batched update(s (N, H), x (N, 1)) -> (N, H), the signature proofs.invariance folds."""
        tokens = x[:, 0].astype(int)
        return np.stack([self.additive(row, t) if self.additive_here(row, t) else self.twisted(row, t)
                         for row, t in zip(s, tokens)])


class ReachableOnly(TokenModel):
    def __init__(self, rng, n_tokens, H, x, lengths):
        super().__init__(rng, n_tokens, H)
        self.reachable = reachable_states(self.s0, self.v, x, lengths)

    def additive_here(self, s, token):
        return tuple(s) in self.reachable


class ShallowOnly(TokenModel):
    def additive_here(self, s, token):
        return s[0] <= 1


class OneBadTransition(TokenModel):
    """Additive everywhere except one transition: from s* = f(s_0, x_S*) by the token a* at a
    position outside S*, which adds 1/2 to the information coordinates. Sequence 0 must hold two
    positions a, c with distinct tokens and at least 2 more; S* (|S*| >= 2) is an ordered subset
    of the others, so the orders (S*, a, c) and (S*, c, a) of one subset disagree.
    `witness` = (S*, a, c) in sequence 0."""

    def __init__(self, rng, n_tokens, H, x, lengths):
        super().__init__(rng, n_tokens, H)
        tokens = x[0, :int(lengths[0]), 0].astype(int)
        pairs = [(a, c) for a in range(len(tokens)) for c in range(len(tokens)) if tokens[a] != tokens[c]]
        if len(tokens) < 4 or not pairs:
            raise ValueError("sequence 0 needs length >= 4 and two distinct tokens")
        a, c = pairs[rng.integers(len(pairs))]
        rest = rng.permutation([i for i in range(len(tokens)) if i not in (a, c)])
        S = rest[:rng.integers(2, len(rest) + 1)]
        self.s_star, self.a_star = tuple(self.s0 + self.v[tokens[S]].sum(axis=0)), int(tokens[a])
        self.witness = (tuple(int(i) for i in S), a, c)

    def additive_here(self, s, token):
        return not (tuple(s) == self.s_star and token == self.a_star)

    def twisted(self, s, token):
        return self.additive(s, token) + np.concatenate([[0.0], np.full(s.shape[0] - 1, 0.5)])


def swap_gap(update, s, a, c):
    """|| f(s, a, c) - f(s, c, a) || for one state s (H,) and tokens a, c."""
    xa, xc = np.array([[float(a)]]), np.array([[float(c)]])
    s = s[None]
    return float(np.linalg.norm(update(update(s, xa), xc) - update(update(s, xc), xa)))
