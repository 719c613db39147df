"""Base graph and M-cover side by side: BP fixed points, free energies, copies, cycles.

:func:`compare` runs BP on a base graph and on one of its covers and reports
what docs/theory.md §3.4-3.7 says to look at:

* **cover invariance**: from uniform messages the lifted run equals the base
  run copy by copy, and ``log Z_Bethe(cover) = M log Z_Bethe(base)``
  (``invariance_error`` and ``log_z_per_copy``);
* **symmetry breaking**: from random or copy-specific initial messages the
  copies may settle on different fixed points -- the spread between copies,
  their overlap, the distance of the projected (copy-averaged) beliefs to the
  base fixed point, and the Bethe log Z carried by each copy;
* **cycles**: counts of short cycles of base and lift (:mod:`lifts.cycles`).

:func:`cover_log_z` computes exact partition functions of covers of small
graphs -- every cover when there are few enough, else a sample with a standard
error -- to show ``<Z(G~)>^(1/M)`` approaching the Bethe partition function as
M grows (Vontobel 2013).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from algorithms import BPConfig, BPResult, bethe_terms, run_bp
from fgraph import exact
from fgraph.compiled import CompiledGraph
from fgraph.dtypes import INDEX, FrozenPickle, as_generator

from .cover import Lift, copies, copy_overlap, copy_spread, edge_copies, lift, lift_messages

__all__ = ["Comparison", "compare", "copy_log_z", "CoverLogZ", "cover_log_z", "INITS"]

INITS = ("uniform", "random", "asymmetric", "base")


@dataclass(frozen=True, eq=False)
class Comparison(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Outcome of :func:`compare` (arrays read-only).

    Attributes
    ----------
    lift : Lift
    base_result, cover_result : BPResult
    init : str
        How the cover's messages started (see :func:`compare`).
    copy_beliefs : ndarray of float64, shape (n_var, M, q_max)
        Beliefs of every copy of every base variable.
    projected : ndarray of float64, shape (n_var, q_max)
        Copy-averaged beliefs (the cover's pseudo-marginals).
    spread : ndarray of float64, shape (n_var,)
        Largest total-variation distance of a copy's belief from the copy mean.
    overlap : float or None
        Binary models: mean over variables and pairs of distinct copies of
        ``s_m s_m'``, with ``s = p(1) - p(0)`` the copy's magnetisation (None
        otherwise, or when M = 1).
    distance_to_base : float
        Largest total-variation distance between projected and base beliefs.
    invariance_error : float
        Largest |copy belief - base belief| over copies, variables and states
        (0 to round-off when the cover run stays lifted).
    log_z_base : float
        Bethe log Z of the base run.
    log_z_per_copy : ndarray of float64, shape (M,)
        Bethe log Z of the cover run split by copy (factor copies (a, m),
        variable copies (i, m) and the edges of the factor copies); their sum is
        the cover's Bethe log Z.
    cycles : dict
        ``{"base": {length: count}, "lift": {length: count}}`` up to
        ``max_length`` (empty when not computed).
    """

    lift: Lift
    base_result: BPResult
    cover_result: BPResult
    init: str
    copy_beliefs: np.ndarray
    projected: np.ndarray
    spread: np.ndarray
    overlap: float | None
    distance_to_base: float
    invariance_error: float
    log_z_base: float
    log_z_per_copy: np.ndarray
    cycles: dict = field(default_factory=dict)

    @property
    def M(self) -> int:
        return self.lift.M

    def to_dict(self) -> dict:
        """A JSON-ready summary (no per-variable arrays)."""
        lz = self.log_z_per_copy
        return {
            "M": int(self.M),
            "kernel": self.lift.kernel,
            "init": self.init,
            "base": {"log_z": _num(self.log_z_base), "iterations": int(self.base_result.n_iter),
                     "converged": bool(self.base_result.converged)},
            "cover": {"log_z": _num(lz.sum()), "log_z_per_copy": [_num(v) for v in lz],
                      "iterations": int(self.cover_result.n_iter),
                      "converged": bool(self.cover_result.converged)},
            "mean_spread": float(self.spread.mean()) if self.spread.size else 0.0,
            "max_spread": float(self.spread.max()) if self.spread.size else 0.0,
            "overlap": None if self.overlap is None else float(self.overlap),
            "distance_to_base": float(self.distance_to_base),
            "invariance_error": float(self.invariance_error),
            "cycles": {part: {str(k): int(v) for k, v in counts.items()}
                       for part, counts in self.cycles.items()},
        }

    def table(self) -> str:
        """A short readable report."""
        d = self.to_dict()
        lines = [
            f"M = {d['M']}, kernel {d['kernel']}, cover messages start {d['init']}",
            f"{'':24} {'base':>14} {'cover / M':>14}",
            f"{'Bethe log Z':24} {_fmt(d['base']['log_z']):>14} "
            f"{_fmt(_num(self.log_z_per_copy.sum() / self.M)):>14}",
            f"{'iterations':24} {d['base']['iterations']:>14} {d['cover']['iterations']:>14}",
            f"{'converged':24} {str(d['base']['converged']):>14} {str(d['cover']['converged']):>14}",
            f"spread between copies: mean {d['mean_spread']:.3g}, max {d['max_spread']:.3g}"
            + ("" if d["overlap"] is None else f"; overlap {d['overlap']:.4f}"),
            f"projected beliefs vs base fixed point: max TV {d['distance_to_base']:.3g}; "
            f"copies vs base: max |dp| {d['invariance_error']:.3g}",
        ]
        if self.cycles:
            lengths = sorted(set(self.cycles["base"]) | set(self.cycles["lift"]))
            lines.append("cycles by length: " + ", ".join(
                f"{k}: {self.cycles['base'].get(k, 0)} -> {self.cycles['lift'].get(k, 0)}" for k in lengths))
        return "\n".join(lines)


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _fmt(x):
    return "-inf" if x is None else f"{x:.6f}"


def _edge_copy_index(cover: Lift) -> np.ndarray:
    """int64 (n_edge_lift,): the copy m of the factor copy that owns each lifted edge."""
    owner = np.empty(cover.n_edge, dtype=INDEX)
    owner[edge_copies(cover)] = np.arange(cover.M, dtype=INDEX)[None, :]
    return owner


def copy_log_z(result: BPResult, cover: Lift) -> np.ndarray:
    """Bethe log Z of a BP result on a cover, split by copy.

    Copy m collects ``log Z_a`` of the factor copies (a, m), ``log Z_i`` of the
    variable copies (i, m), minus ``log Z_ai`` of the edges of the factor copies
    (a, m); the M parts sum to the cover's Bethe log Z.

    Returns
    -------
    ndarray of float64, shape (M,)

    Examples
    --------
    >>> import fgraph, lifts
    >>> g = fgraph.problems.ising_grid(3, J=0.4, seed=0).graph
    >>> cov = lifts.lift(g, 2, seed=1)
    >>> r = run_bp(cov)
    >>> parts = copy_log_z(r, cov)
    >>> bool(np.allclose(parts, r.log_z / 2))  # from uniform messages: every copy carries log Z_base
    True
    """
    M = cover.M
    za, zi, zai = bethe_terms(cover, result.f2v)
    part = za.reshape(-1, M).sum(axis=0) + zi.reshape(-1, M).sum(axis=0)
    with np.errstate(invalid="ignore"):
        part = part - np.bincount(_edge_copy_index(cover), weights=zai, minlength=M)
    return np.where(np.isnan(part), -np.inf, part)


def _init_cover(cover: Lift, init: str, base_result: BPResult, rng, tilt: float):
    """Initial f2v messages of the cover run (None for uniform)."""
    if init == "uniform":
        return None
    if init == "random":
        return "random"
    if init == "base":
        return lift_messages(base_result.f2v, cover)
    # asymmetric: uniform messages tilted by `tilt` nats toward state (m mod card) in copy m
    card_e = cover.card[cover.edge_var]
    msgs = np.zeros((cover.n_edge, cover.q_max))
    msgs[np.arange(cover.n_edge), _edge_copy_index(cover) % card_e] = tilt
    msgs += 1e-3 * rng.standard_normal(msgs.shape)  # break exact ties between equal copies
    return msgs


def compare(graph: CompiledGraph, cover: Lift | None = None, *, M: int = 4, kernel=None, seed=None,
            init: str = "uniform", config: BPConfig | None = None, max_length: int | None = 8,
            tilt: float = 1.0) -> Comparison:
    """Run BP on ``graph`` and on a cover of it, and compare.

    Parameters
    ----------
    graph : CompiledGraph
        The base graph.
    cover : Lift, optional
        A cover of ``graph``; built with ``lifts.lift(graph, M, kernel, seed)`` when None.
    M, kernel, seed
        Cover degree, kernel (object or spec string such as ``"ring:1.0"``) and
        seed, used when ``cover`` is None; ``seed`` also seeds the cover's
        random initial messages.
    init : {'uniform', 'random', 'asymmetric', 'base'}
        The cover's initial messages: uniform (the run stays lifted), random
        (seeded, copy-specific), asymmetric (uniform tilted by ``tilt`` nats
        toward state ``m mod q`` in copy m), or the base fixed point lifted.
    config : BPConfig, optional
        BP settings for both runs (sum-product).
    max_length : int or None
        Count cycles up to this length in base and lift (None: skip).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.problems.ising_grid(4, J=0.3, h=0.1, seed=0).graph
    >>> c = compare(g, M=3, kernel="uniform", seed=1)
    >>> c.invariance_error < 1e-9, bool(abs(c.log_z_per_copy.sum() - 3 * c.log_z_base) < 1e-9)
    (True, True)
    """
    if not isinstance(graph, CompiledGraph):
        raise TypeError(f"graph must be a CompiledGraph, got {type(graph).__name__}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if config is None:
        config = BPConfig()
    if config.mode != "sum":
        raise ValueError(f"compare runs sum-product BP; got config.mode={config.mode!r}")
    rng = as_generator(seed)
    if cover is None:
        cover = lift(graph, M, kernel=kernel, seed=rng)
    elif not isinstance(cover, Lift):
        raise TypeError(f"cover must be a Lift, got {type(cover).__name__}")
    elif cover.base is not graph and not _same_graph(cover.base, graph):
        raise ValueError("cover is not a lift of graph")
    M = cover.M
    base_result = run_bp(graph, config)
    start = _init_cover(cover, init, base_result, rng, tilt)
    cover_result = run_bp(cover, config, init=start, seed=rng)
    copy_beliefs = copies(cover_result.beliefs, cover)
    projected = copy_beliefs.mean(axis=1)
    spread = copy_spread(cover_result, cover)
    base_b = np.asarray(base_result.beliefs)
    distance = float(0.5 * np.abs(projected - base_b).sum(axis=1).max()) if graph.n_var else 0.0
    invariance = float(np.abs(copy_beliefs - base_b[:, None, :]).max()) if graph.n_var else 0.0
    binary = M > 1 and graph.n_var > 0 and bool(np.all(graph.card == 2))
    overlap = float(copy_overlap(cover_result, cover).mean()) if binary else None
    cycles = {}
    if max_length is not None:
        from .cycles import count_cycles

        cycles = {"base": count_cycles(graph, max_length), "lift": count_cycles(cover, max_length)}
    parts = copy_log_z(cover_result, cover)
    for arr in (projected, spread, parts):
        arr.flags.writeable = False
    return Comparison(
        lift=cover, base_result=base_result, cover_result=cover_result, init=init,
        copy_beliefs=copy_beliefs, projected=projected, spread=spread, overlap=overlap,
        distance_to_base=distance, invariance_error=invariance, log_z_base=float(base_result.log_z),
        log_z_per_copy=parts, cycles=cycles,
    )


def _same_graph(a: CompiledGraph, b: CompiledGraph) -> bool:
    return (a.n_var == b.n_var and a.n_fac == b.n_fac and np.array_equal(a.edge_var, b.edge_var)
            and np.array_equal(a.fac_ptr, b.fac_ptr))


# ----------------------------------------------------------------- Vontobel
@dataclass(frozen=True)
class CoverLogZ:
    """``(1/M) log <Z(G~)>`` over the uniform M-covers of a graph.

    Attributes
    ----------
    M : int
    log_z : float
        ``(1/M) log`` of the average partition function of the covers.
    stderr : float
        Standard error of ``log_z`` (0 when every cover was enumerated).
    n_covers : int
        Covers evaluated.
    exhaustive : bool
        Whether every cover (up to relabelling of copies) was enumerated.
    """

    M: int
    log_z: float
    stderr: float
    n_covers: int
    exhaustive: bool


def _spanning_forest(graph: CompiledGraph) -> np.ndarray:
    """Boolean mask of edges in a spanning forest of the bipartite factor graph (union-find)."""
    parent = list(range(graph.n_var + graph.n_fac))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tree = np.zeros(graph.n_edge, dtype=bool)
    for e in range(graph.n_edge):
        u, v = find(int(graph.edge_var[e])), find(graph.n_var + int(graph.edge_fac[e]))
        if u != v:
            parent[u] = v
            tree[e] = True
    return tree


def cover_log_z(graph: CompiledGraph, M: int, *, max_covers: int = 2000, n_samples: int = 200, seed=None,
                max_width: int = exact.DEFAULT_MAX_WIDTH) -> CoverLogZ:
    """Exact ``(1/M) log <Z(G~)>`` over uniform M-covers: all of them, or a sample.

    Relabelling the copies of a node maps covers to isomorphic covers and keeps
    the uniform law, so the permutations on a spanning forest can be fixed to
    the identity: the average over all ``(M!)^n_edge`` covers equals the
    average over the ``(M!)^c`` covers with free permutations on the ``c``
    edges outside the forest (c is the cycle rank).  These are enumerated when
    there are at most ``max_covers``; otherwise ``n_samples`` uniform covers
    are drawn and the standard error of the log of the mean is reported (delta
    method).  Each cover's log Z is exact (:func:`fgraph.exact.log_z`).

    Parameters
    ----------
    graph : CompiledGraph
        A small graph: every cover must pass ``fgraph.exact`` within ``max_width``.
    M : int >= 1

    Returns
    -------
    CoverLogZ

    Examples
    --------
    On a tree every cover is M disjoint copies, so the average is Z^M:

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3); _ = g.add_ising([[0, 1], [1, 2]], J=0.7)
    >>> c = g.compile()
    >>> r = cover_log_z(c, 3)
    >>> r.exhaustive, r.n_covers, bool(abs(r.log_z - fgraph.exact.log_z(c)) < 1e-12)
    (True, 1, True)
    """
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        raise ValueError(f"M must be an int >= 1, got {M!r}")
    M = int(M)
    for name, v in (("max_covers", max_covers), ("n_samples", n_samples)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    tree = _spanning_forest(graph)
    free = np.flatnonzero(~tree)
    ident = np.tile(np.arange(M, dtype=INDEX), (graph.n_edge, 1))
    n_all = math.factorial(M) ** len(free)
    logs = []
    if n_all <= max_covers:
        for combo in itertools.product(itertools.permutations(range(M)), repeat=len(free)):
            perms = ident.copy()
            if len(free):
                perms[free] = np.asarray(combo, dtype=INDEX)
            logs.append(exact.log_z(lift(graph, M, perms=perms), max_width=max_width))
        exhaustive = True
    else:
        rng = as_generator(seed)
        for _ in range(n_samples):
            perms = ident.copy()
            perms[free] = np.argsort(rng.random((len(free), M)), axis=1)
            logs.append(exact.log_z(lift(graph, M, perms=perms), max_width=max_width))
        exhaustive = False
    logs = np.asarray(logs, dtype=float)
    top = logs.max()
    if not np.isfinite(top):
        return CoverLogZ(M, -math.inf, 0.0, len(logs), exhaustive)
    w = np.exp(logs - top)
    log_mean = top + math.log(w.mean())
    stderr = 0.0
    if not exhaustive and len(w) > 1:
        stderr = float(w.std(ddof=1) / math.sqrt(len(w)) / w.mean()) / M
    return CoverLogZ(M, float(log_mean / M), stderr, len(logs), exhaustive)
