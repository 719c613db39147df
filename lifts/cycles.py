"""Cycle statistics of factor graphs and of their M-covers (docs/theory.md §5).

Graphs
------
Every function works on the **factor graph** (``on="factor"``, the default): the
bipartite graph with one node per variable, ids ``0..n_var-1``, one node per factor,
ids ``n_var + a``, and one edge per factor-variable edge ``e`` (edge id ``e``).  A
:class:`~fgraph.wiring.Wiring` forbids a factor from listing a variable twice, so this
graph is simple and all its cycles are even, of length >= 4; a wiring built with
``check=False`` that breaks the rule is refused with ValueError.

``on="variables"`` selects the **variable graph** (primal graph, Markov network):
one node per variable, ``i ~ j`` when some factor contains both.  For a pairwise model
this is the coupling graph; a factor of arity d contributes a d-clique, unary factors
contribute nothing, and parallel couplings of the same pair merge into one edge.

Definitions
-----------
* **cycle**: a closed walk without repeated nodes, of length (number of edges) >= 3,
  counted once regardless of start and direction;
* **girth** g: the length of the shortest cycle, ``math.inf`` for a forest;
* **local girth** of a node v: the length of the shortest cycle through v (``inf``
  if none).  BFS from v labels every node by its *branch* (the neighbour of v it
  descends from); a non-tree edge (x, y) joining two branches closes the simple cycle
  v..x y..v of length d(x) + d(y) + 1, and the minimum over such edges is exactly the
  local girth (walk the shortest cycle through v from one neighbour of v to the
  other: the branch label changes on some edge (x, y), with d(x) + d(y) + 1 at most
  the cycle's length).  The girth is the minimum local girth;
* **N_k**: the number of cycles of length k, by depth-first search from each cycle's
  smallest node over larger nodes only, in one direction;
* **non-backtracking matrix** B on the 2|E| directed edges:
  B[(u->v), (v->w)] = 1 iff w != u.  A closed non-backtracking walk of length k < 2g
  goes once around a cycle, so **N_k = tr(B^k) / (2k) for k < 2g** (beyond, tr(B^k)
  also counts walks around two cycles and repeated windings).

Lifts (voltage view)
--------------------
Base cycles are written as sequences of edge ids ``(e_0, ..., e_{k-1})`` that start
at a variable: step t goes variable -> factor along ``e_t`` for even t and factor ->
variable for odd t.  In the cover given by ``perms`` (docs/theory.md §3.2: factor copy
(a, m) meets variable copy (i, pi_e(m)) through base edge e) a factor -> variable step
along e applies pi_e to the copy index and a variable -> factor step applies
pi_e^{-1}; composed in walk order they give the **holonomy** w_C, a permutation of
the copies 0..M-1.  A simple base k-cycle C lifts to one cycle of length k l for
every l-cycle of w_C; its #fix(w_C) fixed points give cycles of length k.  With
independent edge permutations of marginals P_e = E[permutation matrix of pi_e],

    E[#fix(w_C)] = tr(P_0^T P_1 P_2^T P_3 ...)  =  tr((P P^T)^{k/2})   (common kernel P),

which is M for the identity, 1 for the uniform lift (at every M) and tr(P^k) for a
symmetric P.  For k < 2g every k-cycle of the cover projects onto a simple base
k-cycle traversed once, so the cover has exactly sum_C #fix(w_C) cycles of length k.

Complexity
----------
Bridges are found first (no cycle uses one) and all searches run on the remaining
edges.  ``girth`` runs a BFS, stopped at depth g / 2, from every node of degree >= 3
(a shortest cycle avoiding them is a whole component); ``count_cycles`` visits the
simple paths of length < L that can still close within L (pruned by the distance
back to the start).  Both are Numba kernels, parallel over start nodes.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fgraph.compiled import CompiledGraph
from fgraph.dtypes import FLOAT, INDEX
from fgraph.wiring import Wiring

from . import _cycle_kernels as ck

__all__ = [
    "base_cycles",
    "count_cycles",
    "cycle_table",
    "cycle_types",
    "girth",
    "holonomy",
    "lift_cycle_table",
    "local_girth",
    "nonbacktracking_counts",
]

_ON = ("factor", "variables")


# =========================================================================== graphs
@dataclass(frozen=True)
class _Graph:
    """Undirected simple graph as symmetric CSR (see :mod:`lifts._cycle_kernels`)."""

    n: int  # nodes
    n_var: int  # nodes below n_var are variables
    n_e: int  # undirected edges
    ptr: np.ndarray
    nbr: np.ndarray
    eid: np.ndarray
    on: str

    @property
    def deg(self) -> np.ndarray:
        return np.diff(self.ptr)


def _wiring(g) -> Wiring:
    if isinstance(g, Wiring):
        return g
    if isinstance(g, CompiledGraph):
        return g.wiring
    raise TypeError(f"graph must be a CompiledGraph, a Lift or a Wiring, got {type(g).__name__}")


def _check_on(on) -> str:
    if on not in _ON:
        raise ValueError(f"on must be 'factor' or 'variables', got {on!r}")
    return on


def _check_length(max_length) -> int:
    if isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral):
        raise ValueError(f"max_length must be an int >= 2, got {max_length!r} ({type(max_length).__name__})")
    if max_length < 2:
        raise ValueError(f"max_length must be an int >= 2, got {max_length}")
    return int(max_length)


def _csr(n: int, u: np.ndarray, v: np.ndarray, n_var: int, on: str) -> _Graph:
    """Symmetric CSR of the undirected edges (u[t], v[t]) with ids t."""
    n_e = u.size
    a = np.concatenate([u, v])
    b = np.concatenate([v, u])
    ids = np.concatenate([np.arange(n_e, dtype=INDEX)] * 2)
    order = np.argsort(a, kind="stable")
    ptr = np.zeros(n + 1, dtype=INDEX)
    np.cumsum(np.bincount(a, minlength=n), out=ptr[1:])
    return _Graph(n=n, n_var=n_var, n_e=n_e, ptr=ptr, nbr=np.ascontiguousarray(b[order]),
                  eid=np.ascontiguousarray(ids[order]), on=on)


def _graph(g, on: str) -> _Graph:
    w = _wiring(g)
    on = _check_on(on)
    if on == "factor":
        if w.n_edge:
            key = w.edge_fac * max(w.n_var, 1) + w.edge_var
            srt = np.sort(key)
            dup = np.flatnonzero(srt[1:] == srt[:-1])
            if dup.size:
                a, i = divmod(int(srt[dup[0]]), max(w.n_var, 1))
                raise ValueError(f"factor {a} lists variable {i} more than once: the factor graph "
                                 "must be simple (Wiring.validate)")
        return _csr(w.n_var + w.n_fac, w.edge_var.astype(INDEX), w.n_var + w.edge_fac.astype(INDEX),
                    w.n_var, on)
    # variable (primal) graph: every pair of variables sharing a factor, once
    deg = np.diff(w.fac_ptr)
    keys = [np.zeros(0, dtype=INDEX)]
    n = max(w.n_var, 1)
    for d in np.unique(deg[deg >= 2]).tolist():
        fs = np.flatnonzero(deg == d)
        S = w.edge_var[w.fac_ptr[fs][:, None] + np.arange(d)]
        r, c = np.triu_indices(d, 1)
        x, y = S[:, r].ravel(), S[:, c].ravel()
        keys.append(np.minimum(x, y) * n + np.maximum(x, y))
    key = np.unique(np.concatenate(keys))
    key = key[key // n != key % n]  # only a malformed wiring repeats a variable
    return _csr(w.n_var, key // n, key % n, w.n_var, on)


def _cyclic(G: _Graph) -> _Graph:
    """The graph without its bridges (same nodes and edge ids): every cycle lives there."""
    if G.n_e == 0:
        return G
    br = ck.bridges(G.ptr, G.nbr, G.eid, G.n_e)
    keep = ~br[G.eid]
    if keep.all():
        return G
    src = np.repeat(np.arange(G.n, dtype=INDEX), G.deg)
    ptr = np.zeros(G.n + 1, dtype=INDEX)
    np.cumsum(np.bincount(src[keep], minlength=G.n), out=ptr[1:])
    return _Graph(n=G.n, n_var=G.n_var, n_e=G.n_e, ptr=ptr, nbr=np.ascontiguousarray(G.nbr[keep]),
                  eid=np.ascontiguousarray(G.eid[keep]), on=G.on)


def _n_chunks(n_work: int) -> int:
    """One chunk per thread (each holds O(n) work arrays); starts interleave across chunks."""
    return int(max(1, min(n_work, numba.get_num_threads())))


def _ring_components(R: _Graph):
    """Nodes on cycles, split into pure rings (components where every degree is 2) and the rest.

    Returns (ring_nodes, ring_sizes_per_node, other_nodes), int64 arrays.
    """
    deg = R.deg
    on_cycle = np.flatnonzero(deg > 0)
    if on_cycle.size == 0:
        e = np.zeros(0, dtype=INDEX)
        return e, e, e
    A = sp.csr_array((np.ones(R.nbr.size, dtype=np.int8), R.nbr, R.ptr), shape=(R.n, R.n))
    _, lab = connected_components(A, directed=False)
    size = np.bincount(lab[on_cycle], minlength=lab.max() + 1)
    has3 = np.bincount(lab[deg >= 3], minlength=lab.max() + 1) > 0
    ring = ~has3[lab[on_cycle]]
    return on_cycle[ring], size[lab[on_cycle[ring]]].astype(INDEX), on_cycle[~ring]


def _as_count(x: int):
    return math.inf if x >= ck.NO_CYCLE else int(x)


# =========================================================================== girth
def girth(g, on: str = "factor"):
    """Length of the shortest cycle.

    Parameters
    ----------
    g : CompiledGraph, Lift or Wiring
    on : {'factor', 'variables'}
        The bipartite factor graph (default) or the variable graph (module docstring).

    Returns
    -------
    int or math.inf
        ``math.inf`` for a forest.  Factor-graph girths are even.

    Raises
    ------
    TypeError
        ``g`` is not a graph.
    ValueError
        ``on`` is neither 'factor' nor 'variables'.

    Examples
    --------
    The Petersen graph as a pairwise model: its variable graph has girth 5, and every
    coupling becomes a factor node, doubling the length of every cycle.

    >>> import networkx as nx, fgraph
    >>> pet = fgraph.from_networkx(nx.petersen_graph())
    >>> girth(pet, on="variables"), girth(pet)
    (5, 10)
    >>> hea = fgraph.from_networkx(nx.heawood_graph())
    >>> girth(hea, on="variables"), girth(hea)
    (6, 12)
    >>> girth(fgraph.from_networkx(nx.path_graph(4)))
    inf
    """
    R = _cyclic(_graph(g, on))
    ring_nodes, ring_size, other = _ring_components(R)
    best = int(ring_size.min()) if ring_size.size else ck.NO_CYCLE
    src = np.ascontiguousarray(other[R.deg[other] >= 3])
    if src.size:
        best = int(ck.girth_bound(R.ptr, R.nbr, src, best, _n_chunks(src.size)))
    return _as_count(best)


def local_girth(g, on: str = "factor") -> np.ndarray:
    """Length of the shortest cycle through every node.

    Parameters
    ----------
    g : CompiledGraph, Lift or Wiring
    on : {'factor', 'variables'}

    Returns
    -------
    ndarray of float64, shape (n_var + n_fac,) or (n_var,)
        Entry v is the length of the shortest simple cycle through node v (an
        integer), ``inf`` when v lies on no cycle.  Factor-graph nodes are the
        variables ``0..n_var-1`` followed by the factors ``n_var + a``.  The minimum
        is the girth.

    Examples
    --------
    A triangle with a pendant variable: the pendant is on no cycle.

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(4)
    >>> _ = g.add_ising([[0, 1], [1, 2], [2, 0], [2, 3]])
    >>> local_girth(g.compile(), on="variables").tolist()
    [3.0, 3.0, 3.0, inf]
    >>> import networkx as nx
    >>> set(local_girth(fgraph.from_networkx(nx.petersen_graph())).tolist())
    {10.0}
    """
    R = _cyclic(_graph(g, on))
    out = np.full(R.n, np.inf, dtype=FLOAT)
    ring_nodes, ring_size, other = _ring_components(R)
    out[ring_nodes] = ring_size
    if other.size:
        src = np.ascontiguousarray(other)
        lg = ck.local_girths(R.ptr, R.nbr, src, _n_chunks(src.size))
        out[src] = np.where(lg >= ck.NO_CYCLE, np.inf, lg)
    return out


# =========================================================================== counts
def _lengths(on: str, max_length: int) -> list[int]:
    return list(range(4, max_length + 1, 2)) if on == "factor" else list(range(3, max_length + 1))


def _search(R: _Graph, L: int, write: bool):
    """Counts by chunk and length, int64 (n_chunks, L + 1); with ``write`` also (flat, block):
    the cycles of length k are ``flat[block[k]:block[k] + N_k k]`` (rows of k edge ids)."""
    C = _n_chunks(R.n)
    args = (R.ptr, R.nbr, R.eid, L, R.n_var, C)
    counts = ck.cycle_search(*args, False, np.zeros((C, L + 1), dtype=INDEX), np.zeros(1, dtype=INDEX))
    if not write:
        return counts, None
    lengths = np.arange(L + 1, dtype=INDEX)
    per_len = counts.sum(axis=0) * lengths  # entries used by each length
    block = np.concatenate([[0], np.cumsum(per_len)[:-1]])
    before = np.vstack([np.zeros(L + 1, dtype=INDEX), np.cumsum(counts, axis=0)[:-1]])  # earlier chunks
    offsets = np.ascontiguousarray(block[None, :] + before * lengths)
    flat = np.empty(max(int(per_len.sum()), 1), dtype=INDEX)
    ck.cycle_search(*args, True, offsets, flat)
    return counts, (flat, block)


def count_cycles(g, max_length: int, on: str = "factor") -> dict:
    """Exact numbers of simple cycles of each length up to ``max_length``.

    Parameters
    ----------
    g : CompiledGraph, Lift or Wiring
    max_length : int
        Largest cycle length counted, >= 2.
    on : {'factor', 'variables'}

    Returns
    -------
    dict of int -> int
        ``{k: N_k}`` for the even ``k = 4, 6, ..., max_length`` on the factor graph
        (odd cycles do not exist there) and for every ``k = 3, ..., max_length`` on
        the variable graph (empty when no length qualifies).

    Raises
    ------
    ValueError
        ``max_length`` is not an int >= 2, or ``on`` is invalid.

    Notes
    -----
    Each cycle is found once, from its smallest node, in the direction whose second
    node is smaller than its last; the search never leaves the nodes larger than the
    start and enters a node only if it can still close the cycle within
    ``max_length`` steps.  Numba, parallel over start nodes.  The 4-, 6- and 8-cycles
    of a (3, 6) LDPC code with 10^5 edges take well under a second.

    Examples
    --------
    >>> import networkx as nx, fgraph
    >>> pet = fgraph.from_networkx(nx.petersen_graph())
    >>> count_cycles(pet, 9, on="variables")
    {3: 0, 4: 0, 5: 12, 6: 10, 7: 0, 8: 15, 9: 20}
    >>> count_cycles(pet, 12)            # the same cycles, twice as long
    {4: 0, 6: 0, 8: 0, 10: 12, 12: 10}
    """
    L = _check_length(max_length)
    G = _graph(g, on)
    keys = _lengths(G.on, L)
    if not keys:
        return {}
    counts, _ = _search(_cyclic(G), L, write=False)
    tot = counts.sum(axis=0)
    return {k: int(tot[k]) for k in keys}


def nonbacktracking_counts(g, max_length: int, on: str = "factor") -> dict:
    """``tr(B^k) / (2k)`` for the non-backtracking matrix B: the cycle counts for k < 2 girth.

    Parameters
    ----------
    g : CompiledGraph, Lift or Wiring
    max_length : int
        Largest k, >= 2.
    on : {'factor', 'variables'}

    Returns
    -------
    dict of int -> float
        Same keys as :func:`count_cycles`.  For k < 2 g the value is the integer N_k;
        beyond, closed non-backtracking walks around several cycles add to it.

    Notes
    -----
    The oracle formula, by scipy.sparse products: B has ``sum_v d_v (d_v - 1)``
    non-zeros on ``2 |E|`` rows and ``tr(B^k) = sum(B^a * (B^b)^T)`` with
    ``a = ceil(k/2)``, ``b = floor(k/2)``, so only powers up to ``ceil(max_length/2)``
    are formed (their density grows like the branching factor to that power).

    Examples
    --------
    >>> import networkx as nx, fgraph
    >>> hea = fgraph.from_networkx(nx.heawood_graph())
    >>> nonbacktracking_counts(hea, 8, on="variables")      # girth 6: exact up to 11
    {3: 0.0, 4: 0.0, 5: 0.0, 6: 28.0, 7: 0.0, 8: 21.0}
    >>> count_cycles(hea, 8, on="variables")
    {3: 0, 4: 0, 5: 0, 6: 28, 7: 0, 8: 21}
    """
    L = _check_length(max_length)
    G = _graph(g, on)
    keys = _lengths(G.on, L)
    if not keys:
        return {}
    nd = G.nbr.size  # directed edges = adjacency positions p: src[p] -> nbr[p]
    if nd == 0:
        return {k: 0.0 for k in keys}
    src = np.repeat(np.arange(G.n, dtype=INDEX), G.deg)
    key = src * G.n + G.nbr
    order = np.argsort(key)
    rev = order[np.searchsorted(key[order], G.nbr * G.n + src)]
    head = G.nbr
    reps = G.deg[head]
    rows = np.repeat(np.arange(nd, dtype=INDEX), reps)
    starts = np.repeat(G.ptr[head] - np.concatenate([[0], np.cumsum(reps)[:-1]]), reps)
    cols = starts + np.arange(rows.size, dtype=INDEX)
    ok = cols != rev[rows]
    B = sp.csr_array((np.ones(int(ok.sum()), dtype=np.int64), (rows[ok], cols[ok])), shape=(nd, nd))
    powers = {1: B}
    for j in range(2, (L + 1) // 2 + 1):
        powers[j] = powers[j - 1] @ B
    out = {}
    for k in keys:
        a, b = (k + 1) // 2, k // 2
        tr = int(powers[a].multiply(powers[b].T).sum())
        out[k] = tr / (2 * k)
    return out


def cycle_table(g, max_length: int, on: str = "factor") -> dict:
    """A small readable summary for the command line: girth and cycle counts.

    Returns
    -------
    dict
        ``{"on", "n_nodes", "n_edges", "girth" (int, None for a forest),
        "max_length", "counts" ({k: N_k} as in :func:`count_cycles`)}``; JSON-ready.

    Examples
    --------
    >>> import networkx as nx, fgraph
    >>> t = cycle_table(fgraph.from_networkx(nx.heawood_graph()), 14)
    >>> t["n_nodes"], t["n_edges"], t["girth"]
    (35, 42, 12)
    >>> t["counts"]
    {4: 0, 6: 0, 8: 0, 10: 0, 12: 28, 14: 0}
    """
    L = _check_length(max_length)
    G = _graph(g, on)
    gi = girth(g, on)
    return {"on": G.on, "n_nodes": G.n, "n_edges": G.n_e, "girth": None if gi == math.inf else gi,
            "max_length": L, "counts": count_cycles(g, L, on)}


# =========================================================================== lifts
def base_cycles(g, max_length: int) -> dict:
    """The simple cycles of the factor graph up to ``max_length``, as edge sequences.

    Parameters
    ----------
    g : CompiledGraph, Lift or Wiring
    max_length : int
        >= 2.

    Returns
    -------
    dict of int -> ndarray of int64, shape (N_k, k)
        For every even ``k = 4..max_length``, one row per cycle: the edge ids
        ``(e_0, ..., e_{k-1})`` of a closed walk that starts at a variable; step t goes
        variable -> factor along ``e_t`` for even t and factor -> variable for odd t.
        Each cycle appears once, in a canonical start and direction (from its smallest
        node, or the variable after it when that node is a factor), rows sorted.

    Examples
    --------
    A 2 x 2 grid: one 8-cycle through 4 variables and 4 couplings.

    >>> import fgraph
    >>> cg = fgraph.problems.ising_grid(2).graph
    >>> cyc = base_cycles(cg, 8)
    >>> {k: v.shape for k, v in cyc.items()}
    {4: (0, 4), 6: (0, 6), 8: (1, 8)}
    >>> e = cyc[8][0]
    >>> cg.edge_var[e].tolist(), cg.edge_fac[e].tolist()
    ([0, 1, 1, 3, 3, 2, 2, 0], [0, 0, 3, 3, 1, 1, 2, 2])
    """
    L = _check_length(max_length)
    G = _graph(g, "factor")
    keys = _lengths("factor", L)
    if not keys:
        return {}
    counts, (flat, block) = _search(_cyclic(G), L, write=True)
    tot = counts.sum(axis=0)
    out = {}
    for k in keys:
        arr = flat[block[k]: block[k] + tot[k] * k].reshape(int(tot[k]), k)
        out[k] = arr[np.lexsort(arr.T[::-1])] if arr.shape[0] > 1 else arr.copy()
    return out


def _lift_parts(lift):
    """(base Wiring, perms int64 (n_edge, M), M) from a Lift-like object or a (base, perms) pair."""
    if isinstance(lift, tuple) and len(lift) == 2:
        base, perms = lift
    elif hasattr(lift, "base") and hasattr(lift, "perms"):
        base, perms = lift.base, lift.perms
    else:
        raise TypeError(f"expected a Lift (with .base and .perms) or a (base, perms) pair, got "
                        f"{type(lift).__name__}")
    w = _wiring(base)
    p = np.asarray(perms)
    if p.ndim != 2 or p.shape[0] != w.n_edge or not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"perms must be an int array of shape (n_edge, M) = ({w.n_edge}, M), got "
                         f"{p.dtype} {p.shape}")
    M = p.shape[1]
    if p.size and not np.array_equal(np.sort(p, axis=1), np.broadcast_to(np.arange(M), p.shape)):
        raise ValueError("every row of perms must be a permutation of 0..M-1")
    return w, p.astype(INDEX, copy=False), M


def _check_walks(w: Wiring, cyc: np.ndarray) -> None:
    k = cyc.shape[1]
    if k == 0 or k % 2:
        raise ValueError(f"a closed walk on the factor graph has an even length >= 2, got {k}")
    if cyc.size and (cyc.min() < 0 or cyc.max() >= w.n_edge):
        raise ValueError(f"cycle edge ids must lie in 0..{w.n_edge - 1}")
    ef, ev = w.edge_fac[cyc], w.edge_var[cyc]
    ok = np.all(ef[:, 0::2] == ef[:, 1::2], axis=1) & np.all(ev[:, 1::2] == np.roll(ev[:, 0::2], -1, axis=1),
                                                             axis=1)
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"cycle {cyc[r].tolist()} is not a closed walk variable -> factor -> variable ... "
                         "(edges 2t and 2t+1 share a factor, edges 2t+1 and 2t+2 a variable)")


def _holonomies(perms: np.ndarray, cyc: np.ndarray) -> np.ndarray:
    n_edge, M = perms.shape
    inv = np.empty_like(perms)
    np.put_along_axis(inv, perms, np.broadcast_to(np.arange(M, dtype=INDEX), perms.shape), axis=1)
    W = np.broadcast_to(np.arange(M, dtype=INDEX), (cyc.shape[0], M))
    for t in range(cyc.shape[1]):
        e = cyc[:, t][:, None]
        W = (inv if t % 2 == 0 else perms)[e, W]
    return np.ascontiguousarray(W)


def holonomy(lift, cycle) -> np.ndarray:
    """The permutation of the copies picked up along a closed walk of the base factor graph.

    Parameters
    ----------
    lift : Lift, or an object with ``.base`` and ``.perms``, or a pair (base, perms)
        ``perms`` int (base.n_edge, M); row e is pi_e.
    cycle : array_like of int, shape (k,) or (n, k)
        Edge ids of closed walks in the convention of :func:`base_cycles` (start at a
        variable, even steps variable -> factor), k even.

    Returns
    -------
    ndarray of int64, shape (M,) or (n, M)
        ``w[m]``: the copy of the start variable reached by walking the lifted path
        from its copy m (pi_e^{-1} on variable -> factor steps, pi_e on factor ->
        variable steps, in walk order).

    Raises
    ------
    ValueError
        ``perms`` is not (n_edge, M) permutations, or ``cycle`` is not such a walk.

    Examples
    --------
    A quasi-cyclic lift of the 2 x 2 grid's 8-cycle: shifts s_e pick up their
    alternating sum S = -s_0 + s_1 - s_2 + ...

    >>> import numpy as np, fgraph
    >>> cg = fgraph.problems.ising_grid(2).graph
    >>> C = base_cycles(cg, 8)[8][0]
    >>> s = np.zeros(cg.n_edge, dtype=np.int64); s[C[1]] = 2      # one shifted edge
    >>> perms = (np.arange(5) + s[:, None]) % 5
    >>> holonomy((cg, perms), C).tolist()                          # m -> m + 2 mod 5
    [2, 3, 4, 0, 1]
    """
    w, perms, M = _lift_parts(lift)
    c = np.asarray(cycle)
    if not np.issubdtype(c.dtype, np.integer) or c.ndim not in (1, 2):
        raise ValueError(f"cycle must be an int array of shape (k,) or (n, k), got {c.dtype} {c.shape}")
    c2 = np.atleast_2d(c).astype(INDEX, copy=False)
    _check_walks(w, c2)
    W = _holonomies(perms, c2)
    return W[0] if c.ndim == 1 else W


def cycle_types(lift, max_length: int, cycles: dict | None = None) -> dict:
    """Cycle type of the holonomy of every short base cycle.

    Parameters
    ----------
    lift : Lift, or an object with ``.base`` and ``.perms``, or a pair (base, perms)
    max_length : int
        Base cycles up to this length, >= 2.
    cycles : dict, optional
        ``base_cycles(lift.base, max_length)``, if already at hand.

    Returns
    -------
    dict of int -> ndarray of int64, shape (N_k, M)
        Row c of entry k belongs to ``cycles[k][c]``; column l - 1 counts the l-cycles
        of its holonomy w_C, i.e. the cycles of length k l of the cover above it.
        Column 0 is #fix(w_C), and ``sum_l l * types[k][c, l - 1] == M``.

    Examples
    --------
    >>> import numpy as np, fgraph
    >>> cg = fgraph.problems.ising_grid(2).graph
    >>> perms = np.tile(np.arange(4), (cg.n_edge, 1))
    >>> perms[0] = [1, 0, 3, 2]                  # one edge swaps copies in pairs
    >>> cycle_types((cg, perms), 8)[8].tolist()  # the 8-cycle lifts to two 16-cycles
    [[0, 2, 0, 0]]
    """
    w, perms, M = _lift_parts(lift)
    L = _check_length(max_length)
    cyc = base_cycles(w, L) if cycles is None else cycles
    out = {}
    for k in _lengths("factor", L):
        c = np.asarray(cyc[k], dtype=INDEX).reshape(-1, k)
        out[k] = ck.cycle_type_counts(_holonomies(perms, c)) if c.shape[0] else np.zeros((0, M), dtype=INDEX)
    return out


def _cover_wiring(w: Wiring, perms: np.ndarray, M: int) -> Wiring:
    """Reference cover (docs/theory.md §3.2): slot s of factor copy (a, m) joins edge_var[e] M +
    perms[e, m]."""
    deg = np.diff(w.fac_ptr)
    fac_ptr = np.concatenate([[0], np.cumsum(np.repeat(deg, M))])
    a = w.edge_fac
    slot = np.arange(w.n_edge) - w.fac_ptr[a]
    pos = M * w.fac_ptr[a][:, None] + np.arange(M) * deg[a][:, None] + slot[:, None]
    edge_var = np.empty(w.n_edge * M, dtype=INDEX)
    edge_var[pos] = w.edge_var[:, None] * M + perms
    return Wiring.from_edges(w.n_var * M, fac_ptr, edge_var, check=False)


def _kernel_expectations(P, w: Wiring, M: int, cyc: dict, keys) -> dict:
    P = np.asarray(P, dtype=FLOAT)
    if P.shape == (M, M):
        PPt = P @ P.T
        return {k: cyc[k].shape[0] * float(np.trace(np.linalg.matrix_power(PPt, k // 2))) for k in keys}
    if P.shape == (w.n_edge, M, M):
        out = {}
        for k in keys:
            c = cyc[k]
            if c.shape[0] == 0:
                out[k] = 0.0
                continue
            X = P[c[:, 0]].transpose(0, 2, 1)
            for t in range(1, k):
                Pt = P[c[:, t]]
                X = X @ (Pt if t % 2 else Pt.transpose(0, 2, 1))
            out[k] = float(np.trace(X, axis1=1, axis2=2).sum())
        return out
    raise ValueError(f"P must have shape (M, M) = ({M}, {M}) or (n_edge, M, M) = ({w.n_edge}, {M}, {M}), "
                     f"got {P.shape}")


def lift_cycle_table(lift, max_length: int, P=None, cover: bool = True) -> dict:
    """Short cycles of a base graph and of one of its covers, with their expectations.

    Parameters
    ----------
    lift : Lift, or an object with ``.base`` and ``.perms``, or a pair (base, perms)
    max_length : int
        >= 2; lengths ``k = 4, 6, ..., max_length`` of the factor graph.
    P : array_like of float, shape (M, M) or (n_edge, M, M), optional
        Marginal ``P[m, m'] = Pr[pi_e(m) = m']`` of the kernel that drew the
        permutations: one for all edges, or one per base edge.
    cover : bool
        Also count the k-cycles of the cover itself (the lift's own wiring if it has
        one, else the reference cover built from ``perms``).

    Returns
    -------
    dict of int -> dict
        For every k: ``"base"`` N_k; ``"lifted_k"`` = sum over base k-cycles of
        #fix(w_C), the cover's k-cycles that go once around a base k-cycle;
        ``"wrapped"`` the cover's k-cycles that wind k/j >= 2 times around a base
        j-cycle; ``"exact"`` = k < 2 girth(base), when the cover's k-cycles are
        exactly the ``lifted_k`` ones; ``"expected_uniform"`` = N_k (the uniform-lift
        mean of ``lifted_k``, at every M); ``"expected_identity"`` = M N_k; with
        ``P``, ``"expected_kernel"`` = N_k tr((P P^T)^{k/2}) (tr(P^k) for a symmetric
        P), or the sum over base cycles of tr(P_0^T P_1 P_2^T ...) for per-edge P;
        with ``cover``, ``"cover"`` the cover's k-cycle count (always >= lifted_k +
        wrapped, equal for k < 2 girth).

    Examples
    --------
    >>> import numpy as np, fgraph
    >>> cg = fgraph.problems.ising_grid(2).graph
    >>> ident = np.tile(np.arange(3), (cg.n_edge, 1))
    >>> row = lift_cycle_table((cg, ident), 8, P=np.eye(3))[8]      # M = 3 disjoint copies
    >>> row["base"], row["lifted_k"], row["cover"], row["exact"]
    (1, 3, 3, True)
    >>> row["expected_uniform"], row["expected_identity"], row["expected_kernel"]
    (1.0, 3.0, 3.0)
    """
    w, perms, M = _lift_parts(lift)
    L = _check_length(max_length)
    keys = _lengths("factor", L)
    if not keys:
        return {}
    cyc = base_cycles(w, L)
    types = cycle_types((w, perms), L, cycles=cyc)
    g = girth(w)
    expect = _kernel_expectations(P, w, M, cyc, keys) if P is not None else None
    if cover:
        cw = getattr(lift, "wiring", None)
        cw = cw if isinstance(cw, Wiring) else _cover_wiring(w, perms, M)
        cover_counts = count_cycles(cw, L)
    table = {}
    for k in keys:
        N = int(cyc[k].shape[0])
        wrapped = sum(int(types[j][:, k // j - 1].sum()) for j in keys
                      if j < k and k % j == 0 and k // j <= M)
        row = {"base": N, "lifted_k": int(types[k][:, 0].sum()), "wrapped": wrapped, "exact": k < 2 * g,
               "expected_uniform": float(N), "expected_identity": float(M * N)}
        if expect is not None:
            row["expected_kernel"] = expect[k]
        if cover:
            row["cover"] = cover_counts[k]
        table[k] = row
    return table
