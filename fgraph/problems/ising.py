"""Ising models as factor graphs: any graph, square grids, random regular graphs, SK.

Binary variables ``x_i in {0, 1}`` stand for spins ``s_i = 2 x_i - 1`` (state 1
is ``s = +1``).  Every builder returns a :class:`~fgraph.problems.Problem` whose
graph has the weight

    p(x) ∝ exp( beta * ( sum_(ij) J_ij s_i s_j + sum_i h_i s_i ) )

with one ``ising`` factor ``exp(beta J_ij s_i s_j)`` per edge (parameter
``beta * J_ij``) and the fields folded into the variables' evidence
``var_unary[i] = (-beta h_i, +beta h_i)``.  All-zero fields add no evidence.

Couplings and fields
--------------------
``J`` (one value per edge) and ``h`` (one value per variable) are given as

* a number -- the same value everywhere;
* an array of shape ``(n_edges,)`` / ``(n_var,)``;
* ``"gauss"`` -- i.i.d. ``J_scale * N(0, 1)`` (``h_scale * N(0, 1)`` for h);
* ``"pm"`` -- i.i.d. ``±J_scale`` with probability 1/2 each (``±h_scale``).

Random draws come from ``seed`` (int, None or ``numpy.random.Generator``) in a
fixed order -- first the graph (for random graphs), then ``J``, then ``h`` -- so
the same seed always gives the same problem.  ``meta['couplings']`` (float64
(n_edges,)) and ``meta['fields']`` (float64 (n_var,)) hold the values used,
before the factor ``beta``.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..dtypes import FLOAT, INDEX, as_float, as_index
from ..graph import FactorGraph
from ._problem import Problem, _seeded

__all__ = ["ising", "ising_grid", "random_regular_ising", "sk"]

_RANDOM = ("gauss", "pm")


# ---------------------------------------------------------------- helpers
def _check_beta(beta) -> float:
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta must be a real number, got {type(beta).__name__}")
    beta = float(beta)
    if not np.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    return beta


def _check_scale(scale, name: str) -> float:
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(scale).__name__}")
    scale = float(scale)
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {scale}")
    return scale


def _is_random(spec) -> bool:
    if isinstance(spec, str):
        if spec not in _RANDOM:
            raise ValueError(f"unknown random draw {spec!r}; use one of {', '.join(map(repr, _RANDOM))}")
        return True
    return False


def _values(spec, size: int, name: str, scale: float, rng) -> tuple[np.ndarray, object]:
    """Resolve a J/h specification to float64 (size,) and its record for meta.

    ``rng`` is a zero-argument callable returning the Generator (so that
    deterministic specifications never create one).
    """
    if isinstance(spec, str):
        _is_random(spec)
        g = rng()
        if spec == "gauss":
            vals = g.standard_normal(size)
        else:
            vals = np.where(g.random(size) < 0.5, -1.0, 1.0)
        if scale != 1.0:
            vals *= scale
        return vals, spec
    arr = as_float(spec, name)
    if arr.ndim == 0:
        v = float(arr)
        if not np.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v}")
        return np.full(size, v, dtype=FLOAT), v
    if arr.shape != (size,):
        raise ValueError(
            f"{name} must be a scalar, 'gauss', 'pm' or have shape ({size},), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        k = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name}[{k}] = {arr[k]} is not finite")
    return arr.astype(FLOAT, copy=True), "array"


def _check_simple(edges: np.ndarray, n: int) -> None:
    """Refuse self-loops and repeated (unordered) pairs, naming the first offender."""
    if edges.size == 0:
        return
    loops = np.flatnonzero(edges[:, 0] == edges[:, 1])
    if loops.size:
        k = int(loops[0])
        raise ValueError(f"edges[{k}] = {edges[k].tolist()} is a self-loop; Ising couplings need two spins")
    lo = np.minimum(edges[:, 0], edges[:, 1])
    hi = np.maximum(edges[:, 0], edges[:, 1])
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    ks = key[order]
    dup = np.flatnonzero(ks[1:] == ks[:-1])
    if dup.size:
        k1, k2 = int(order[dup[0]]), int(order[dup[0] + 1])
        raise ValueError(
            f"edges[{k1}] = {edges[k1].tolist()} and edges[{k2}] = {edges[k2].tolist()} join the same "
            "pair of spins; merge repeated edges by adding their couplings"
        )


def _build(n: int, edges: np.ndarray, Jv: np.ndarray, hv: np.ndarray, beta: float):
    """One batched add_ising and (if any field is nonzero) one add_field, then compile."""
    g = FactorGraph()
    g.add_variables(n)
    if edges.shape[0]:
        g.add_ising(edges, Jv * beta)
    if beta != 0.0 and np.any(hv != 0.0):
        g.add_field(np.arange(n, dtype=INDEX), hv * beta)
    return g.compile()


def _problem(kind, n, edges, J, h, beta, J_scale, h_scale, seed, extra, rng=None):
    """Resolve J and h (drawing from one Generator if needed), build, wrap."""
    state = {"rng": rng, "seed": None}

    def get_rng():
        if state["rng"] is None:
            state["rng"], state["seed"] = _seeded(seed)
        return state["rng"]

    Jv, Jrec = _values(J, edges.shape[0], "J", J_scale, get_rng)
    hv, hrec = _values(h, n, "h", h_scale, get_rng)
    graph = _build(n, edges, Jv, hv, beta)
    meta = {"kind": kind, "n": n, "n_edges": int(edges.shape[0]), "beta": beta, "J": Jrec, "h": hrec}
    if isinstance(J, str):
        meta["J_scale"] = J_scale
    if isinstance(h, str):
        meta["h_scale"] = h_scale
    meta.update(extra)
    if state["rng"] is not None and "seed" not in meta:
        meta["seed"] = state["seed"]
    meta["couplings"] = Jv
    meta["fields"] = hv
    return Problem(graph=graph, truth=None, meta=meta)


# ---------------------------------------------------------------- builders
def ising(edges, J=1.0, h=0.0, beta=1.0, n=None, *, J_scale=1.0, h_scale=1.0, seed=None) -> Problem:
    """Ising model on any graph.

    Parameters
    ----------
    edges : array_like of int, shape (E, 2), or networkx.Graph
        Couplings between spins.  A networkx graph has its nodes relabelled
        ``0..n-1`` in sorted order (insertion order if the nodes cannot be
        sorted); ``meta['nodes']`` lists the node of each variable and
        ``meta['node_index']`` maps nodes back.  Its edges are taken in
        ``G.edges()`` order.  Self-loops and repeated pairs are refused.
    J : float, array_like of float, shape (E,), or {'gauss', 'pm'}
        Couplings (module docstring), in the order of ``edges``.
    h : float, array_like of float, shape (n,), or {'gauss', 'pm'}
        Fields.
    beta : float
        Inverse temperature, >= 0.
    n : int, optional
        Number of spins (default: ``edges.max() + 1``; the node count for a
        networkx graph).  Spins without edges are allowed.
    J_scale, h_scale : float
        Scale of random couplings / fields.
    seed : int, numpy.random.Generator or None
        Used only for random ``J`` or ``h``.

    Returns
    -------
    Problem
        ``truth`` is None; ``meta`` holds ``kind='ising'``, ``n``, ``n_edges``,
        ``beta``, ``J``, ``h``, ``couplings`` float64 (E,), ``fields`` float64
        (n,), ``edges`` int64 (E, 2) and, for random draws, ``seed``.

    Examples
    --------
    A triangle with a field:

    >>> p = ising([[0, 1], [1, 2], [0, 2]], J=0.5, h=0.1)
    >>> p.graph.n_var, p.graph.n_fac
    (3, 3)
    >>> p.graph.log_score([1, 1, 1])   # 3 * 0.5 + 3 * 0.1
    1.8

    A networkx graph, nodes relabelled in sorted order:

    >>> import networkx as nx
    >>> q = ising(nx.path_graph(["c", "a", "b"]), J=-1.0)
    >>> q.meta["nodes"], q.meta["edges"].tolist()
    (('a', 'b', 'c'), [[2, 0], [0, 1]])
    """
    extra = {}
    if hasattr(edges, "nodes") and hasattr(edges, "edges") and hasattr(edges, "is_directed"):
        G = edges
        if G.is_directed():
            raise ValueError("edges: ising needs an undirected graph; pass G.to_undirected()")
        nodes = list(G.nodes())
        try:
            nodes = sorted(nodes)
        except TypeError:
            pass  # unorderable node labels: keep insertion order
        index = {v: i for i, v in enumerate(nodes)}
        if n is not None and n != len(nodes):
            raise ValueError(f"n = {n} disagrees with the graph's {len(nodes)} nodes; leave n out")
        n = len(nodes)
        pairs = [(index[u], index[v]) for u, v in G.edges()]
        e = np.array(pairs, dtype=INDEX).reshape(-1, 2)
        extra["nodes"] = tuple(nodes)
        extra["node_index"] = index
    else:
        e = as_index(edges, "edges")
        if e.ndim != 2 or e.shape[1] != 2:
            raise ValueError(f"edges must have shape (E, 2) (or be a networkx graph), got shape {e.shape}")
        if e.size and e.min() < 0:
            raise ValueError(f"edges hold a negative spin index {int(e.min())}")
        top = int(e.max()) + 1 if e.size else 0
        if n is None:
            if not e.size:
                raise ValueError("n is required when there are no edges")
            n = top
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        n = int(n)
        if top > n:
            raise ValueError(f"edges refer to spin {top - 1} but n = {n}")
    if n < 1:
        raise ValueError("the graph has no nodes")
    _check_simple(e, n)
    extra["edges"] = e
    return _problem("ising", n, e, J, h, _check_beta(beta), _check_scale(J_scale, "J_scale"),
                    _check_scale(h_scale, "h_scale"), seed, extra)


def _grid_shape(L) -> tuple[int, int]:
    if isinstance(L, numbers.Integral) and not isinstance(L, bool):
        L1 = L2 = int(L)
    else:
        try:
            L1, L2 = L
        except (TypeError, ValueError):
            raise TypeError(f"L must be an int or a pair (L1, L2), got {L!r}") from None
        for v in (L1, L2):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"L must be an int or a pair of ints, got {L!r}")
        L1, L2 = int(L1), int(L2)
    if L1 < 1 or L2 < 1:
        raise ValueError(f"L must be >= 1, got {(L1, L2)}")
    return L1, L2


def _grid_periodic(periodic) -> tuple[bool, bool]:
    if isinstance(periodic, (bool, np.bool_)):
        return bool(periodic), bool(periodic)
    try:
        p1, p2 = periodic
    except (TypeError, ValueError):
        raise TypeError(f"periodic must be a bool or a pair of bools, got {periodic!r}") from None
    if not all(isinstance(p, (bool, np.bool_)) for p in (p1, p2)):
        raise TypeError(f"periodic must be a bool or a pair of bools, got {periodic!r}")
    return bool(p1), bool(p2)


def grid_edges(L, periodic=False) -> np.ndarray:
    """Edges of an ``L1 x L2`` square grid, variables row-major (``i = r * L2 + c``).

    Parameters
    ----------
    L : int or (int, int)
        Side(s) of the grid.
    periodic : bool or (bool, bool)
        Wrap around (torus); a pair wraps the rows / the columns separately
        (a cylinder).  A periodic side must be >= 3, since wrapping a side of 2
        would repeat an edge and a side of 1 would make a self-loop.

    Returns
    -------
    ndarray of int64, shape (E, 2)
        First the horizontal edges ``(r, c) - (r, c+1)``, row-major, then the
        vertical edges ``(r, c) - (r+1, c)``, row-major; wrap-around edges
        join ``(r, L2-1) - (r, 0)`` and ``(L1-1, c) - (0, c)``.
        ``E = L1 (L2-1) + (L1-1) L2`` for an open grid, ``2 L1 L2`` for a torus.

    Examples
    --------
    >>> grid_edges(2).tolist()
    [[0, 1], [2, 3], [0, 2], [1, 3]]
    >>> grid_edges(3, periodic=True).shape
    (18, 2)
    """
    L1, L2 = _grid_shape(L)
    p1, p2 = _grid_periodic(periodic)
    for side, per, name in ((L2, p2, "columns"), (L1, p1, "rows")):
        if per and side < 3:
            raise ValueError(
                f"periodic grid with {side} {name}: a periodic side must be >= 3 "
                "(2 would repeat an edge, 1 would make a self-loop); use periodic=False"
            )
    idx = np.arange(L1 * L2, dtype=INDEX).reshape(L1, L2)
    nh = L2 if p2 else L2 - 1
    nv = L1 if p1 else L1 - 1
    E = L1 * nh + nv * L2
    out = np.empty((E, 2), dtype=INDEX)
    h = out[: L1 * nh].reshape(L1, nh, 2)
    h[:, :, 0] = idx[:, :nh]
    h[:, :, 1] = idx[:, 1 : nh + 1] if nh < L2 else np.roll(idx, -1, axis=1)
    v = out[L1 * nh :].reshape(nv, L2, 2)
    v[:, :, 0] = idx[:nv]
    v[:, :, 1] = idx[1 : nv + 1] if nv < L1 else np.roll(idx, -1, axis=0)
    return out


def ising_grid(
    L, J=1.0, h=0.0, beta=1.0, periodic=False, seed=None, *, J_scale=1.0, h_scale=1.0
) -> Problem:
    """Ising model on an ``L x L`` (or ``L1 x L2``) square grid.

    Parameters
    ----------
    L : int or (int, int)
        Side(s); spins are row-major, ``i = r * L2 + c``.
    J : float, array_like of float, shape (E,), or {'gauss', 'pm'}
        Couplings, in the edge order of :func:`grid_edges` (horizontal edges,
        then vertical edges, each row-major).  ``J='gauss', J_scale=0.4`` gives
        an Edwards-Anderson spin glass with ``J_ij ~ N(0, 0.4^2)``.
    h : float, array_like of float, shape (L1 * L2,), or {'gauss', 'pm'}
        Fields.
    beta : float
        Inverse temperature, >= 0.
    periodic : bool or (bool, bool)
        Torus (or cylinder); periodic sides must be >= 3.
    seed : int, numpy.random.Generator or None
        Used only for random ``J`` or ``h``.
    J_scale, h_scale : float
        Scale of random couplings / fields.

    Returns
    -------
    Problem
        ``truth`` is None; ``meta`` holds ``kind='ising_grid'``, ``shape``
        (L1, L2), ``periodic``, ``n``, ``n_edges``, ``beta``, ``J``, ``h``,
        ``couplings`` float64 (E,), ``fields`` float64 (n,) and, for random
        draws, ``seed``.  The edges are ``grid_edges(L, periodic)``, also
        ``graph.edge_var.reshape(-1, 2)``.

    Examples
    --------
    >>> p = ising_grid(3, J=0.5)
    >>> p.graph.n_var, p.graph.n_fac     # 2 * 3 * 2 edges
    (9, 12)
    >>> ising_grid((3, 4), periodic=True).graph.n_fac
    24
    >>> sg = ising_grid(4, J="gauss", J_scale=0.4, seed=1)
    >>> bool((sg.meta["couplings"] == ising_grid(4, J="gauss", J_scale=0.4, seed=1).meta["couplings"]).all())
    True
    """
    L1, L2 = _grid_shape(L)
    per = _grid_periodic(periodic)
    e = grid_edges((L1, L2), per)
    extra = {"shape": (L1, L2), "periodic": per if per[0] != per[1] else per[0]}
    return _problem("ising_grid", L1 * L2, e, J, h, _check_beta(beta), _check_scale(J_scale, "J_scale"),
                    _check_scale(h_scale, "h_scale"), seed, extra)


def random_regular_edges(n: int, d: int, seed=None) -> np.ndarray:
    """Edges of a random simple ``d``-regular graph on ``n`` nodes.

    A configuration model (a uniformly random pairing of the ``n d`` half-edges)
    whose self-loops and repeated edges are then removed by random
    degree-preserving switches ``(a, b), (c, d) -> (a, d), (c, b)`` with
    uniformly chosen partner edges, each accepted only if it creates neither a
    self-loop nor an existing edge.  Vectorised; the law is close to, but not
    exactly, uniform over d-regular graphs.  Dense graphs (``2 d > n - 1``)
    are the complements of random ``(n - 1 - d)``-regular graphs.

    Parameters
    ----------
    n : int
        Number of nodes, >= 1.
    d : int
        Degree, ``0 <= d < n`` with ``n d`` even.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of int64, shape (n d / 2, 2)
        Each row ``(i, j)`` with ``i < j``, rows sorted lexicographically.

    Examples
    --------
    >>> e = random_regular_edges(10, 3, seed=0)
    >>> e.shape, sorted(set(np.bincount(e.ravel()).tolist()))
    ((15, 2), [3])
    """
    for v, name in ((n, "n"), (d, "d")):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    n, d = int(n), int(d)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if d < 0 or d >= n:
        raise ValueError(f"d must satisfy 0 <= d < n = {n}, got d = {d}")
    if (n * d) % 2:
        raise ValueError(f"n * d must be even for a d-regular graph, got n = {n}, d = {d}")
    rng = seed if isinstance(seed, np.random.Generator) else _seeded(seed)[0]
    E = n * d // 2
    if E == 0:
        return np.zeros((0, 2), dtype=INDEX)
    if 2 * d > n - 1:  # dense: the complement of a sparse random regular graph
        comp = random_regular_edges(n, n - 1 - d, seed=rng)
        i, j = np.triu_indices(n, 1)
        present = np.ones(i.size, dtype=bool)
        c0, c1 = comp[:, 0], comp[:, 1]  # row-major position of (c0, c1), c0 < c1, in triu order
        present[c0 * n - c0 * (c0 + 1) // 2 + (c1 - c0 - 1)] = False
        return np.stack([i[present], j[present]], axis=1).astype(INDEX, copy=False)
    stubs = rng.permutation(np.repeat(np.arange(n, dtype=INDEX), d))
    a, b = stubs[:E].copy(), stubs[E:].copy()
    for _ in range(10_000):
        existing, bad = _bad_pairs(a, b, n)
        if bad.size == 0:
            break
        part = rng.integers(0, E, size=bad.size)
        # orient the partner at random so that both kinds of switch are proposed
        flip = rng.random(bad.size) < 0.5
        # one switch per edge per round: partners distinct and not bad themselves
        keep = ~np.isin(part, bad)
        uniq = np.zeros(bad.size, dtype=bool)
        uniq[np.unique(part, return_index=True)[1]] = True
        keep &= uniq
        k, l, f = bad[keep], part[keep], flip[keep]
        al = np.where(f, b[l], a[l])
        bl = np.where(f, a[l], b[l])
        # the new edges (a_k, bl) and (al, b_k): no self-loop, not present yet
        ok = (a[k] != bl) & (al != b[k])
        for x, y in ((a[k], bl), (al, b[k])):
            key = np.minimum(x, y) * n + np.maximum(x, y)
            pos = np.minimum(np.searchsorted(existing, key), existing.size - 1)
            ok &= existing[pos] != key
        k, l = k[ok], l[ok]
        a[l], b[l] = al[ok], bl[ok]
        b[k], b[l] = b[l], b[k].copy()
    else:  # pragma: no cover - practically unreachable for d < n
        raise RuntimeError(f"could not remove repeated edges of a random {d}-regular graph on {n} nodes")
    e = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    order = np.lexsort((e[:, 1], e[:, 0]))
    return e[order]


def _bad_pairs(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted pair keys ``min * n + max``, and the indices (sorted) of the self-loops and of
    every repeat of an earlier unordered pair."""
    key = np.minimum(a, b) * n + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    rep = order[1:][ks[1:] == ks[:-1]]
    loops = np.flatnonzero(a == b)
    return ks, np.union1d(loops, rep)


def random_regular_ising(
    n, d, J=1.0, h=0.0, beta=1.0, seed=None, *, J_scale=1.0, h_scale=1.0
) -> Problem:
    """Ising model on a random ``d``-regular graph (see :func:`random_regular_edges`).

    Parameters
    ----------
    n : int
        Number of spins.
    d : int
        Degree, ``0 <= d < n``, ``n d`` even.
    J : float, array_like of float, shape (n d / 2,), or {'gauss', 'pm'}
        Couplings, in the (sorted) edge order of ``meta['edges']``.
        ``J='pm'`` gives the Viana-Bray ±J spin glass.
    h : float, array_like of float, shape (n,), or {'gauss', 'pm'}
    beta : float
    seed : int, numpy.random.Generator or None
        Draws, in order: the graph, then ``J``, then ``h``.
    J_scale, h_scale : float

    Returns
    -------
    Problem
        ``meta``: ``kind='random_regular_ising'``, ``n``, ``d``, ``n_edges``,
        ``beta``, ``J``, ``h``, ``seed``, ``edges`` int64 (E, 2),
        ``couplings`` float64 (E,), ``fields`` float64 (n,).

    Examples
    --------
    >>> p = random_regular_ising(20, 3, J="pm", seed=0)
    >>> p.graph.n_fac, sorted(set(p.graph.wiring.var_degree().tolist()))
    (30, [3])
    """
    rng, recorded = _seeded(seed)
    e = random_regular_edges(n, d, seed=rng)
    extra = {"d": int(d), "seed": recorded, "edges": e}
    return _problem("random_regular_ising", int(n), e, J, h, _check_beta(beta),
                    _check_scale(J_scale, "J_scale"), _check_scale(h_scale, "h_scale"), None, extra, rng=rng)


def sk(n, beta=1.0, h=0.0, seed=None, *, h_scale=1.0) -> Problem:
    """Sherrington-Kirkpatrick spin glass on ``n`` spins.

    All ``n (n-1) / 2`` pairs ``i < j`` are coupled (in the order of
    ``numpy.triu_indices(n, 1)``) with ``J_ij ~ N(0, 1/n)`` i.i.d., and the
    weight is ``exp(beta (sum_{i<j} J_ij s_i s_j + sum_i h_i s_i))``.  With this
    convention (each pair counted once, variance 1/n) the spin-glass transition
    at ``h = 0`` is at ``beta = 1``.

    Parameters
    ----------
    n : int
        Number of spins, >= 2.
    beta : float
    h : float, array_like of float, shape (n,), or {'gauss', 'pm'}
    seed : int, numpy.random.Generator or None
        Draws, in order: the couplings, then ``h`` if random.
    h_scale : float

    Returns
    -------
    Problem
        ``meta``: ``kind='sk'``, ``n``, ``n_edges``, ``beta``, ``J='gauss'``,
        ``J_scale = 1/sqrt(n)``, ``h``, ``seed``, ``couplings`` float64 (E,),
        ``fields`` float64 (n,).

    Examples
    --------
    >>> p = sk(5, beta=0.5, seed=0)
    >>> p.graph.n_fac
    10
    >>> bool(abs(p.meta["couplings"]).max() > 0)
    True
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    rng, recorded = _seeded(seed)
    i, j = np.triu_indices(n, 1)
    e = np.stack([i, j], axis=1).astype(INDEX, copy=False)
    scale = 1.0 / np.sqrt(n)
    return _problem("sk", n, e, "gauss", h, _check_beta(beta), scale, _check_scale(h_scale, "h_scale"),
                    None, {"seed": recorded}, rng=rng)
