"""Numba kernels for :mod:`lifts.cycles`: bridges, bounded BFS and bounded DFS on a CSR graph.

Every kernel takes the undirected, *simple* graph as a symmetric CSR adjacency:

* ``ptr`` int64 (n + 1,) -- the neighbours of node ``u`` are ``nbr[ptr[u]:ptr[u+1]]``;
* ``nbr`` int64 (2 n_e,) -- neighbour node ids;
* ``eid`` int64 (2 n_e,) -- id of the undirected edge behind each adjacency entry.

Parallel kernels split their work into ``n_chunks`` interleaved chunks of start nodes
(``s = c, c + n_chunks, ...``), so that the expensive low-numbered starts of the
"smallest node" convention are spread over the threads; each chunk allocates its own
work arrays and writes only its own output row (the Numba policy of fgraph.jit).

``NO_CYCLE`` (a large int) stands for "no cycle within the bound".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

__all__ = [
    "NO_CYCLE",
    "bridges",
    "shortest_cycle_through",
    "local_girths",
    "girth_bound",
    "cycle_search",
    "cycle_type_counts",
]

NO_CYCLE = 1 << 62


@njit
def bridges(ptr, nbr, eid, n_e):
    """Bridges of an undirected simple graph (iterative Tarjan lowlink); bool (n_e,)."""
    n = ptr.size - 1
    tin = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    is_bridge = np.zeros(n_e, dtype=np.bool_)
    stk_node = np.empty(n, dtype=np.int64)
    stk_pos = np.empty(n, dtype=np.int64)
    stk_pe = np.empty(n, dtype=np.int64)
    timer = 0
    for root in range(n):
        if tin[root] >= 0:
            continue
        tin[root] = timer
        low[root] = timer
        timer += 1
        sp = 1
        stk_node[0] = root
        stk_pos[0] = ptr[root]
        stk_pe[0] = -1
        while sp > 0:
            u = stk_node[sp - 1]
            k = stk_pos[sp - 1]
            if k < ptr[u + 1]:
                stk_pos[sp - 1] = k + 1
                e = eid[k]
                if e == stk_pe[sp - 1]:
                    continue
                w = nbr[k]
                if tin[w] < 0:
                    tin[w] = timer
                    low[w] = timer
                    timer += 1
                    stk_node[sp] = w
                    stk_pos[sp] = ptr[w]
                    stk_pe[sp] = e
                    sp += 1
                elif tin[w] < low[u]:
                    low[u] = tin[w]
            else:
                sp -= 1
                if sp > 0:
                    p = stk_node[sp - 1]
                    if low[u] < low[p]:
                        low[p] = low[u]
                    if low[u] > tin[p]:
                        is_bridge[stk_pe[sp]] = True
    return is_bridge


@njit
def shortest_cycle_through(v, bound, ptr, nbr, dist, parent, branch, queue):
    """Length of the shortest cycle through ``v`` if it is < ``bound``, else ``bound``.

    BFS from ``v``; every node carries the neighbour of ``v`` it descends from (its
    branch).  A non-tree edge (x, y) joining two branches closes the simple cycle
    v..x y..v of length d(x) + d(y) + 1, and the shortest cycle through v contains such
    an edge with d(x) + d(y) + 1 <= its length.  Candidates met from a node at depth d
    are >= 2 d, so the search stops when 2 d >= the best so far.  ``dist`` must be -1
    everywhere on entry and is restored before returning.
    """
    best = bound
    dist[v] = 0
    parent[v] = -1
    branch[v] = -1
    queue[0] = v
    head = 0
    tail = 1
    while head < tail:
        x = queue[head]
        head += 1
        dx = dist[x]
        if 2 * dx >= best:
            break
        px = parent[x]
        bx = branch[x]
        for k in range(ptr[x], ptr[x + 1]):
            y = nbr[k]
            if dist[y] < 0:
                dist[y] = dx + 1
                parent[y] = x
                branch[y] = y if x == v else bx
                queue[tail] = y
                tail += 1
            elif y != px and branch[y] != bx:
                c = dx + dist[y] + 1
                if c < best:
                    best = c
    for t in range(tail):
        dist[queue[t]] = -1
    return best


@pjit
def local_girths(ptr, nbr, sources, n_chunks):
    """Shortest cycle through each node of ``sources`` (NO_CYCLE if none); int64 (len(sources),)."""
    n = ptr.size - 1
    n_src = sources.size
    out = np.empty(n_src, dtype=np.int64)
    for c in prange(n_chunks):
        dist = np.full(n, -1, dtype=np.int64)
        parent = np.empty(n, dtype=np.int64)
        branch = np.empty(n, dtype=np.int64)
        queue = np.empty(n, dtype=np.int64)
        for t in range(c, n_src, n_chunks):
            out[t] = shortest_cycle_through(sources[t], NO_CYCLE, ptr, nbr, dist, parent, branch, queue)
    return out


@pjit
def girth_bound(ptr, nbr, sources, bound, n_chunks):
    """min(bound, shortest cycle through any node of ``sources``); each chunk prunes by its own best."""
    n = ptr.size - 1
    n_src = sources.size
    best = np.full(n_chunks, bound, dtype=np.int64)
    for c in prange(n_chunks):
        dist = np.full(n, -1, dtype=np.int64)
        parent = np.empty(n, dtype=np.int64)
        branch = np.empty(n, dtype=np.int64)
        queue = np.empty(n, dtype=np.int64)
        b = bound
        for t in range(c, n_src, n_chunks):
            r = shortest_cycle_through(sources[t], b, ptr, nbr, dist, parent, branch, queue)
            if r < b:
                b = r
        best[c] = b
    return best.min()


class Adjacency(NamedTuple):
    """The node graph the cycle search walks (variables first, then factors).

    ``ptr`` int64 (n + 1,), ``nbr`` int64 (2 n_edge,): the neighbours of node u are
    ``nbr[ptr[u]:ptr[u + 1]]``, reached through the edge ids ``eid`` int64 (2 n_edge,).
    """

    ptr: np.ndarray
    nbr: np.ndarray
    eid: np.ndarray


class SearchScratch(NamedTuple):
    """One thread's work arrays of :func:`_search_from`: ``dist``, ``touched``, ``link`` int64 (n,),
    ``onpath`` bool (n,), and the current path ``pnode``, ``ppos``, ``pedge`` int64 (L + 1,)."""

    dist: np.ndarray
    touched: np.ndarray
    link: np.ndarray
    onpath: np.ndarray
    pnode: np.ndarray
    ppos: np.ndarray
    pedge: np.ndarray


@njit
def _search_from(s, L, adj, n_var, w_, counts, write, flat, wpos):
    """Count (and optionally write) the simple cycles of length <= L whose smallest node is ``s``.

    ``adj`` is the :class:`Adjacency`, ``w_`` the thread's :class:`SearchScratch`;
    ``counts`` int64 (L + 1,) by length; with ``write`` the cycles go to ``flat``
    from ``wpos[k]`` on (one position per length k).

    1. BFS from ``s`` over nodes > s up to radius L // 2: ``dist`` (lower bound of the
       distance back to s along any path avoiding smaller nodes), ``link[w]`` the edge
       s-w for the neighbours w of s.
    2. DFS over simple paths s = p0, p1, ..., pd through nodes > s, entering w at depth
       d only if dist[w] <= L - d (it can still get back in time).  A path whose end is
       a neighbour of s closes a cycle of length d + 1; it is counted in one direction
       only, p1 < pd.
    3. Written cycles (``write``) are edge sequences starting at a variable node
       (ids < n_var): the walk from s, rotated by one step when s is a factor.
    """
    ptr, nbr, eid = adj.ptr, adj.nbr, adj.eid
    dist, touched, link, onpath = w_.dist, w_.touched, w_.link, w_.onpath
    pnode, ppos, pedge = w_.pnode, w_.ppos, w_.pedge
    R = L // 2
    dist[s] = 0
    touched[0] = s
    nt = 1
    head = 0
    while head < nt:
        u = touched[head]
        head += 1
        du = dist[u]
        if du >= R:
            continue
        for k in range(ptr[u], ptr[u + 1]):
            w = nbr[k]
            if w > s and dist[w] < 0:
                dist[w] = du + 1
                if du == 0:
                    link[w] = eid[k]
                touched[nt] = w
                nt += 1
    depth = 0
    pnode[0] = s
    ppos[0] = ptr[s]
    onpath[s] = True
    while depth >= 0:
        u = pnode[depth]
        k = ppos[depth]
        if k >= ptr[u + 1]:
            onpath[u] = False
            depth -= 1
            continue
        ppos[depth] = k + 1
        w = nbr[k]
        if w <= s or onpath[w]:
            continue
        dw = dist[w]
        d = depth + 1
        if dw < 0 or dw > L - d:
            continue
        pedge[depth] = eid[k]
        if d >= 2 and dw == 1 and w > pnode[1]:
            c = d + 1
            counts[c] += 1
            if write:
                pos = wpos[c]
                rot = 1 if s >= n_var else 0
                for t in range(c):
                    j = t + rot
                    if j == c:
                        j = 0
                    flat[pos + t] = link[w] if j == d else pedge[j]
                wpos[c] = pos + c
        if d <= L - 2:
            pnode[d] = w
            ppos[d] = ptr[w]
            onpath[w] = True
            depth = d
    for t in range(nt):
        dist[touched[t]] = -1


@pjit
def cycle_search(ptr, nbr, eid, L, n_var, n_chunks, write, offsets, flat):
    """Simple cycles of length <= L, each once, by DFS from its smallest node.

    Returns int64 (n_chunks, L + 1): row c counts, by length, the cycles found by
    chunk c.  With ``write``, chunk c writes its cycles of length k (as edge id
    sequences, see :func:`_search_from`) into ``flat`` from ``offsets[c, k]`` on;
    otherwise ``offsets`` and ``flat`` are ignored.
    """
    n = ptr.size - 1
    adj = Adjacency(ptr, nbr, eid)
    counts = np.zeros((n_chunks, L + 1), dtype=np.int64)
    for c in prange(n_chunks):
        scratch = SearchScratch(np.full(n, -1, dtype=np.int64), np.empty(n, dtype=np.int64),
                                np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.bool_),
                                np.empty(L + 1, dtype=np.int64), np.empty(L + 1, dtype=np.int64),
                                np.empty(L + 1, dtype=np.int64))
        wpos = offsets[c].copy()
        row = counts[c]
        for s in range(c, n, n_chunks):
            if ptr[s + 1] - ptr[s] >= 2:
                _search_from(s, L, adj, n_var, scratch, row, write, flat, wpos)
    return counts


@pjit
def cycle_type_counts(W):
    """Cycle type of every row of W, a (n, M) array of permutations of 0..M-1.

    Returns int64 (n, M): entry [r, l - 1] is the number of cycles of length l of W[r].
    """
    n, M = W.shape
    out = np.zeros((n, M), dtype=np.int64)
    for r in prange(n):
        seen = np.zeros(M, dtype=np.bool_)
        for m in range(M):
            if seen[m]:
                continue
            length = 0
            x = m
            while not seen[x]:
                seen[x] = True
                x = W[r, x]
                length += 1
            out[r, length - 1] += 1
    return out
