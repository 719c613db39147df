"""Dense learning factors: the output of a generalised linear model (``glm``) and of a committee.

A GLM sample ``mu`` ties all N weights through one factor of arity N::

    psi_mu(x_1..x_N) = P_out(y_mu | z_mu),    z_mu = sum_i F_mui * level(x_i)

where variable ``i`` has ``q_i`` states and state ``x`` stands for the weight
value ``levels[x]`` (a finite alphabet: ``(-1, +1)`` for binary weights, the
quantization levels for quantized weights).  The channels (codes shared with
``algorithms.denoisers.kernels``, which fgraph does not import)::

    CHANNEL_GAUSSIAN   = 0    log psi = log N(y; z, noise)                 (noise = Delta > 0)
    CHANNEL_SIGN       = 1    log psi = 0 if sign(z) == y else -inf        (sign(0) = +1)
    CHANNEL_NOISY_SIGN = 2    log psi = log Phi(y z / sqrt(noise))         (noise = Delta > 0)

Parameters of a ``glm`` block (one row per factor; ``P`` rows)::

    F        float64 (P, N)   data row of each sample (factor a uses F[r, :deg(a)])
    y        float64 (P,)     observation (+-1 for the sign channels)
    channel  int64   (P,)     channel code
    noise    float64 (P,)     channel variance Delta (0 for the sign channel)
    levels   float64 (P, L)   weight value of each state (state x -> levels[r, x]);
                              rows of mixed width are padded with NaN

Every factor of a GLM has the same arity N, so the rows are dense (not
``ptr``/flat ragged arrays, which :meth:`fgraph.FactorGraph.add` does not take);
blocks of different N are concatenated by zero-padding ``F`` (columns beyond a
factor's arity are never read).

A ``committee`` factor (a committee machine with K hidden units, K odd) has
arity K*N; argument ``k*N + i`` is the weight ``W_ki``::

    log psi = 0 if sign(sum_k sign(z_k)) == y else -inf,   z_k = sum_i F_i level(x_ki)

with parameters ``F`` (P, N), ``y`` (P,), ``k`` int64 (P,) and ``levels`` (P, L).

:meth:`GLMType.log_table` enumerates every joint state: it is the exact
oracle, feasible for tiny N only (at most ``MAX_TABLE_ENTRIES`` entries).  BP
on large GLM graphs uses the relaxed-BP rule of :mod:`algorithms.bp.glm`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_ndtr

from .dtypes import FLOAT, INDEX, as_float, as_index
from .factors import FactorType, register_factor_type

__all__ = [
    "CHANNEL_GAUSSIAN",
    "CHANNEL_SIGN",
    "CHANNEL_NOISY_SIGN",
    "CHANNEL_CODES",
    "MAX_TABLE_ENTRIES",
    "GLMType",
    "CommitteeType",
    "channel_code",
    "glm_log_likelihood",
    "sign0",
    "add_glm",
    "add_committee",
]

CHANNEL_GAUSSIAN = 0
CHANNEL_SIGN = 1
CHANNEL_NOISY_SIGN = 2

#: Channel names and their integer codes (the one definition: the denoiser kernels of
#: ``algorithms`` read these constants).
CHANNEL_CODES = {"gaussian": CHANNEL_GAUSSIAN, "sign": CHANNEL_SIGN, "noisy_sign": CHANNEL_NOISY_SIGN}
_CHANNEL_NAMES = {v: k for k, v in CHANNEL_CODES.items()}

#: Largest dense table :meth:`GLMType.log_table` / :meth:`CommitteeType.log_table` will build.
MAX_TABLE_ENTRIES = 1 << 22


def channel_code(channel) -> int:
    """Integer code of a channel given by name or code.

    Examples
    --------
    >>> channel_code("noisy_sign"), channel_code(0)
    (2, 0)
    >>> channel_code("probit")
    Traceback (most recent call last):
    ...
    ValueError: unknown channel 'probit'; valid channels: 'gaussian', 'sign', 'noisy_sign'
    """
    if isinstance(channel, str):
        if channel not in CHANNEL_CODES:
            valid = ", ".join(repr(c) for c in CHANNEL_CODES)
            raise ValueError(f"unknown channel {channel!r}; valid channels: {valid}")
        return CHANNEL_CODES[channel]
    is_int = isinstance(channel, (int, np.integer)) and not isinstance(channel, bool)
    if is_int and int(channel) in _CHANNEL_NAMES:
        return int(channel)
    raise ValueError(f"unknown channel {channel!r}; valid channels: {', '.join(map(repr, CHANNEL_CODES))}")


def sign0(z):
    """``sign`` with ``sign(0) = +1`` (the label convention of every sign channel here).

    Examples
    --------
    >>> sign0(np.array([-0.5, 0.0, 2.0])).tolist()
    [-1.0, 1.0, 1.0]
    """
    return np.where(np.asarray(z) >= 0.0, 1.0, -1.0)


def glm_log_likelihood(code: int, y: float, z, noise: float) -> np.ndarray:
    """Exact ``log P_out(y | z)`` of a channel, elementwise over ``z``.

    Parameters
    ----------
    code : int
        ``CHANNEL_GAUSSIAN``, ``CHANNEL_SIGN`` or ``CHANNEL_NOISY_SIGN``.
    y : float
        Observation.
    z : array_like of float
        Pre-activations.
    noise : float
        Channel variance Delta (ignored by the sign channel).

    Returns
    -------
    ndarray of float64, shape of ``z``
        ``-inf`` where the sign channel forbids ``z``.

    Examples
    --------
    >>> glm_log_likelihood(CHANNEL_SIGN, 1.0, [-1.0, 0.0, 1.0], 0.0).tolist()
    [-inf, 0.0, 0.0]
    >>> bool(np.isclose(glm_log_likelihood(CHANNEL_NOISY_SIGN, -1.0, [0.0], 1.0)[0], np.log(0.5)))
    True
    """
    z = np.asarray(z, dtype=FLOAT)
    if code == CHANNEL_GAUSSIAN:
        return -0.5 * (y - z) ** 2 / noise - 0.5 * math.log(2.0 * math.pi * noise)
    if code == CHANNEL_SIGN:
        return np.where(sign0(z) == y, 0.0, -np.inf)
    if code == CHANNEL_NOISY_SIGN:
        return log_ndtr(y * z / math.sqrt(noise))
    raise ValueError(f"unknown channel code {code!r}")


def _check_table_size(cards, what: str) -> tuple:
    cards = tuple(int(c) for c in cards)
    size = math.prod(cards)
    if size > MAX_TABLE_ENTRIES:
        raise ValueError(
            f"{what}: the dense table over {len(cards)} arguments has {size:.3g} entries (more than "
            f"MAX_TABLE_ENTRIES = {MAX_TABLE_ENTRIES}); exact enumeration is for tiny instances only "
            "(use the relaxed-BP rule of algorithms.bp.glm for GLM factors)"
        )
    return cards


def _preactivation(F_row: np.ndarray, lev: np.ndarray, cards: tuple, offset: int = 0) -> np.ndarray:
    """z(x) = sum_j F_row[j] * lev[x_(offset + j)] over the full grid ``cards`` (broadcast sums)."""
    d = len(cards)
    z = np.zeros(cards, dtype=FLOAT)
    for j in range(F_row.size):
        shape = [1] * d
        shape[offset + j] = cards[offset + j]
        z = z + (F_row[j] * lev[: cards[offset + j]]).reshape(shape)
    return z


def _pad_cat(arrs, fill) -> np.ndarray:
    """Concatenate 2-D arrays along axis 0, padding columns to the widest with ``fill``."""
    width = max(a.shape[1] for a in arrs)
    out = []
    for a in arrs:
        if a.shape[1] < width:
            pad = np.full((a.shape[0], width - a.shape[1]), fill, dtype=FLOAT)
            a = np.concatenate([a.astype(FLOAT, copy=False), pad], axis=1)
        out.append(a)
    return np.concatenate(out)


def _check_levels_rows(name, levels, ptr, cards, rows) -> None:
    """Every state used by a factor has a finite level in the factor's row."""
    if levels.ndim != 2:
        raise ValueError(f"{name}: levels must be 2-D (rows, L), got shape {levels.shape}")
    if rows.size == 0:
        return
    max_card = np.maximum.reduceat(cards, ptr[:-1])
    if np.any(max_card > levels.shape[1]):
        k = int(np.flatnonzero(max_card > levels.shape[1])[0])
        raise ValueError(
            f"{name}: factor {k} of the block has a variable with {int(max_card[k])} states but only "
            f"{levels.shape[1]} levels"
        )
    finite = np.isfinite(levels)
    n_lev = np.where(finite.all(axis=1), levels.shape[1], np.argmin(finite, axis=1))
    bad = max_card > n_lev[rows]
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: factor {k} of the block uses {int(max_card[k])} states but levels row "
            f"{int(rows[k])} has only {int(n_lev[rows[k]])} finite leading entries"
        )


def _check_labels(name, y, codes) -> None:
    if not np.all(np.isfinite(y)):
        k = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"{name}: y[{k}] = {float(y[k])!r} is not finite")
    sgn = codes != CHANNEL_GAUSSIAN
    bad = sgn & (y != 1.0) & (y != -1.0)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: y[{k}] = {float(y[k])!r}; sign channels need labels +1 or -1")


class GLMType(FactorType):
    """GLM output factor ``log psi = log P_out(y | sum_i F_i level(x_i))`` (module docstring).

    Examples
    --------
    A sign-channel factor on two binary weights (levels -1, +1):

    >>> p = {"F": np.array([[1.0, 0.5]]), "y": np.array([1.0]), "channel": np.array([1]),
    ...      "noise": np.array([0.0]), "levels": np.array([[-1.0, 1.0]])}
    >>> GLMType().log_table(p, 0, [2, 2]).tolist()    # z = x1 + x2/2 must be >= 0
    [[-inf, -inf], [0.0, 0.0]]
    """

    name = "glm"

    def log_table(self, params, row, cards):
        cards = _check_table_size(cards, "glm factor")
        F_row = np.asarray(params["F"][row, : len(cards)], dtype=FLOAT)
        lev = np.asarray(params["levels"][row], dtype=FLOAT)
        z = _preactivation(F_row, lev, cards)
        return glm_log_likelihood(int(params["channel"][row]), float(params["y"][row]), z,
                                  float(params["noise"][row]))

    def log_values(self, params, rows, x, cards) -> np.ndarray:
        """``log psi`` of many factors at given states, without dense tables.

        Parameters
        ----------
        params : mapping
        rows : ndarray of int64, shape (n_f,)
        x : ndarray of int64, shape (S, n_f, d)
        cards : ndarray of int64, shape (n_f, d)

        Returns
        -------
        ndarray of float64, shape (S, n_f)
        """
        d = x.shape[2]
        F = np.asarray(params["F"], dtype=FLOAT)[rows, :d]  # (n_f, d)
        lev = np.asarray(params["levels"], dtype=FLOAT)[rows]  # (n_f, L)
        vals = np.take_along_axis(lev[None, :, :], x, axis=2) if d else np.zeros(x.shape)
        z = np.einsum("sfd,fd->sf", vals, F)
        out = np.empty(z.shape, dtype=FLOAT)
        for k in range(rows.size):
            r = int(rows[k])
            out[:, k] = glm_log_likelihood(int(params["channel"][r]), float(params["y"][r]), z[:, k],
                                           float(params["noise"][r]))
        return out

    def concat(self, blocks):
        if not blocks:
            return {}
        return {
            "F": _pad_cat([b["F"] for b in blocks], 0.0),
            "y": np.concatenate([b["y"] for b in blocks]).astype(FLOAT),
            "channel": np.concatenate([b["channel"] for b in blocks]).astype(INDEX),
            "noise": np.concatenate([b["noise"] for b in blocks]).astype(FLOAT),
            "levels": _pad_cat([b["levels"] for b in blocks], np.nan),
        }

    def check_block(self, params, ptr, cards, rows):
        missing = {"F", "y", "channel", "noise", "levels"} - set(params)
        if missing:
            raise ValueError(
                f"glm: missing parameter(s) {sorted(missing)}; need F, y, channel, noise, levels"
            )
        super().check_block(params, ptr, cards, rows)
        F, y = np.asarray(params["F"]), np.asarray(params["y"])
        codes, noise = np.asarray(params["channel"]), np.asarray(params["noise"])
        n = self.n_rows(params)
        if F.ndim != 2 or F.shape[0] != n:
            raise ValueError(f"glm: F must have shape ({n}, N), got {F.shape}")
        if not np.all(np.isfinite(F)):
            raise ValueError("glm: F holds NaN or inf")
        if y.shape != (n,) or codes.shape != (n,) or noise.shape != (n,):
            raise ValueError(f"glm: y, channel and noise need shape ({n},)")
        if codes.dtype.kind not in "iu" or np.any(~np.isin(codes, list(_CHANNEL_NAMES))):
            raise ValueError(f"glm: channel codes must be integers in {sorted(_CHANNEL_NAMES)}")
        if np.any(~np.isfinite(noise)) or np.any(noise < 0):
            raise ValueError("glm: noise (the channel variance) must be finite and >= 0")
        needs = codes != CHANNEL_SIGN
        if np.any(needs & (noise <= 0)):
            k = int(np.flatnonzero(needs & (noise <= 0))[0])
            raise ValueError(
                f"glm: row {k} has channel {_CHANNEL_NAMES[int(codes[k])]!r} with noise {float(noise[k])}; "
                "it needs noise > 0"
            )
        _check_labels("glm", y, codes)
        deg = np.diff(ptr)
        if np.any(deg > F.shape[1]):
            k = int(np.flatnonzero(deg > F.shape[1])[0])
            raise ValueError(
                f"glm: factor {k} of the block has arity {int(deg[k])} > F.shape[1] = {F.shape[1]}"
            )
        _check_levels_rows("glm", np.asarray(params["levels"], dtype=FLOAT), ptr, cards, rows)

    def describe(self, params, row):
        code = int(params["channel"][row])
        noise = "" if code == CHANNEL_SIGN else f", noise={float(params['noise'][row]):g}"
        return f"glm({_CHANNEL_NAMES[code]}, y={float(params['y'][row]):g}{noise})"


class CommitteeType(FactorType):
    """Committee-machine output: ``y = sign(sum_k sign(z_k))`` over K hidden units (module docstring).

    Its ``log_table`` enumerates (tiny K*N only); BP uses the
    Gaussian-approximation rule of ``algorithms.bp.committee``.

    Examples
    --------
    K = 3 units with one binary weight each and F = (1,): y = +1 iff a majority is +1.

    >>> p = {"F": np.array([[1.0]]), "y": np.array([1.0]), "k": np.array([3]),
    ...      "levels": np.array([[-1.0, 1.0]])}
    >>> t = CommitteeType().log_table(p, 0, [2, 2, 2])
    >>> int(np.isfinite(t).sum())     # 4 of the 8 states have a majority of +1
    4
    """

    name = "committee"

    def log_table(self, params, row, cards):
        cards = _check_table_size(cards, "committee factor")
        K = int(params["k"][row])
        n = len(cards) // K
        F_row = np.asarray(params["F"][row, :n], dtype=FLOAT)
        lev = np.asarray(params["levels"][row], dtype=FLOAT)
        vote = np.zeros(cards, dtype=FLOAT)
        for k in range(K):
            vote = vote + sign0(_preactivation(F_row, lev, cards, offset=k * n))
        return np.where(sign0(vote) == float(params["y"][row]), 0.0, -np.inf)

    def concat(self, blocks):
        if not blocks:
            return {}
        return {
            "F": _pad_cat([b["F"] for b in blocks], 0.0),
            "y": np.concatenate([b["y"] for b in blocks]).astype(FLOAT),
            "k": np.concatenate([b["k"] for b in blocks]).astype(INDEX),
            "levels": _pad_cat([b["levels"] for b in blocks], np.nan),
        }

    def check_block(self, params, ptr, cards, rows):
        missing = {"F", "y", "k", "levels"} - set(params)
        if missing:
            raise ValueError(f"committee: missing parameter(s) {sorted(missing)}; need F, y, k, levels")
        super().check_block(params, ptr, cards, rows)
        F, y, K = np.asarray(params["F"]), np.asarray(params["y"]), np.asarray(params["k"])
        if F.ndim != 2 or not np.all(np.isfinite(F)):
            raise ValueError("committee: F must be a finite 2-D array (rows, N)")
        if K.dtype.kind not in "iu" or np.any(K < 1) or np.any(K % 2 == 0):
            raise ValueError("committee: k (hidden units) must be odd positive integers")
        _check_labels("committee", np.asarray(y, dtype=FLOAT), np.full(y.shape, CHANNEL_SIGN))
        deg = np.diff(ptr)
        Kr = K[rows]
        if np.any(deg % Kr != 0) or np.any(deg // Kr > F.shape[1]):
            k = int(np.flatnonzero((deg % Kr != 0) | (deg // Kr > F.shape[1]))[0])
            raise ValueError(
                f"committee: factor {k} of the block has arity {int(deg[k])}, which is not k * N with "
                f"k = {int(Kr[k])} and N <= {F.shape[1]}"
            )
        _check_levels_rows("committee", np.asarray(params["levels"], dtype=FLOAT), ptr, cards, rows)

    def describe(self, params, row):
        return f"committee(k={int(params['k'][row])}, y={float(params['y'][row]):g})"


register_factor_type(GLMType())
register_factor_type(CommitteeType())


# ------------------------------------------------------------------ builder helpers
def _levels_block(levels, P: int) -> np.ndarray:
    lev = as_float(levels, "levels", ndim=1)
    if lev.size < 1 or not np.all(np.isfinite(lev)):
        raise ValueError(f"levels must be a non-empty 1-D array of finite values, got {lev.tolist()}")
    return np.broadcast_to(lev, (P, lev.size))


def add_glm(g, F, y, channel, noise, levels, variables=None) -> np.ndarray:
    """Add one ``glm`` factor per row of ``F`` to a :class:`~fgraph.FactorGraph`.

    Parameters
    ----------
    g : FactorGraph
        Builder holding the weight variables.
    F : array_like of float, shape (P, N)
        Data matrix; row ``mu`` is the factor's ``F`` row.
    y : array_like of float, shape (P,)
        Observations (+-1 for the sign channels).
    channel : str or int
        ``'gaussian'``, ``'sign'``, ``'noisy_sign'`` or the code.
    noise : float
        Channel variance Delta (0 for ``'sign'``).
    levels : array_like of float, shape (L,)
        Weight value of each state.
    variables : array_like of int, shape (N,), optional
        The weights, in the order of F's columns (default ``0..N-1``).

    Returns
    -------
    ndarray of int64, shape (P,)
        Builder ids of the factors.

    Examples
    --------
    >>> from fgraph import FactorGraph
    >>> g = FactorGraph(); _ = g.add_variables(3)
    >>> add_glm(g, np.ones((2, 3)), [1.0, -1.0], "noisy_sign", 0.5, [-1.0, 1.0]).tolist()
    [0, 1]
    """
    F = as_float(F, "F", ndim=2)
    P, N = F.shape
    y = as_float(y, "y", ndim=1)
    if y.shape != (P,):
        raise ValueError(f"y must have shape ({P},), got {y.shape}")
    code = channel_code(channel)
    var = np.arange(N, dtype=INDEX) if variables is None else as_index(variables, "variables", ndim=1)
    if var.shape != (N,):
        raise ValueError(f"variables must have shape ({N},), got {var.shape}")
    scopes = np.broadcast_to(var, (P, N))
    return g.add("glm", scopes, F=F, y=y, channel=np.full(P, code, dtype=INDEX),
                 noise=np.full(P, float(noise), dtype=FLOAT), levels=_levels_block(levels, P))


def add_committee(g, F, y, k: int, levels, variables=None) -> np.ndarray:
    """Add one ``committee`` factor per row of ``F`` (K hidden units, K odd).

    Parameters
    ----------
    g : FactorGraph
    F : array_like of float, shape (P, N)
    y : array_like of float, shape (P,)
        Labels +-1.
    k : int
        Number of hidden units (odd).
    levels : array_like of float, shape (L,)
    variables : array_like of int, shape (k * N,), optional
        Weights ``W_ki`` at position ``k*N + i`` (default ``0..k*N-1``).

    Returns
    -------
    ndarray of int64, shape (P,)

    Examples
    --------
    >>> from fgraph import FactorGraph
    >>> g = FactorGraph(); _ = g.add_variables(6)
    >>> add_committee(g, np.ones((1, 2)), [1.0], 3, [-1.0, 1.0]).tolist()
    [0]
    """
    F = as_float(F, "F", ndim=2)
    P, N = F.shape
    y = as_float(y, "y", ndim=1)
    if y.shape != (P,):
        raise ValueError(f"y must have shape ({P},), got {y.shape}")
    var = np.arange(k * N, dtype=INDEX) if variables is None else as_index(variables, "variables", ndim=1)
    if var.shape != (k * N,):
        raise ValueError(f"variables must have shape ({k * N},), got {var.shape}")
    return g.add("committee", np.broadcast_to(var, (P, k * N)), F=F, y=y, k=np.full(P, k, dtype=INDEX),
                 levels=_levels_block(levels, P))
