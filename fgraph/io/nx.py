"""networkx in and out: a compiled graph as a bipartite ``networkx.Graph`` with its dense tables, and back.

:func:`to_networkx` gives the bipartite graph of a compiled graph: variable
nodes ``('v', i)``, factor nodes ``('f', a)`` holding their dense log tables,
edges labelled with argument positions.  :func:`from_networkx` reads that
format back (as dense ``table`` factors), or builds an Ising model from a
plain graph (edge attribute ``J``, node attribute ``h``).  networkx is
imported only when :func:`to_networkx` is called.
"""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledGraph
from ..dtypes import FLOAT, INDEX
from ..wiring import Wiring
from ._common import offsets, table_graph

__all__ = ["to_networkx", "from_networkx"]


def to_networkx(graph: CompiledGraph):
    """The bipartite ``networkx.Graph`` of a compiled graph, with its dense tables.

    Nodes ``('v', i)`` carry ``card`` (int), ``name`` (str, or None when the
    graph has no names), ``unary`` (list of ``card`` floats: the log-evidence
    ``var_unary[i, :card]``, ``-inf`` allowed) and ``bipartite=0``.  Nodes
    ``('f', a)`` carry ``kind`` (the factor type name), ``log_table`` (float64
    array of shape ``scope_cards(a)``, a copy), ``params`` (a short text such
    as ``'ising(J=0.5)'``) and ``bipartite=1``.  Edges ``('f', a) - ('v', i)``
    carry ``slot``: the argument position of ``i`` in factor ``a``.

    Parameters
    ----------
    graph : CompiledGraph

    Returns
    -------
    networkx.Graph

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_ising([[0, 1], [1, 2]], J=0.5)
    >>> G = to_networkx(g.compile())
    >>> G.number_of_nodes(), G.number_of_edges()
    (5, 4)
    >>> G.nodes["f", 1]["kind"], G.nodes["f", 1]["log_table"].tolist()
    ('ising', [[0.5, -0.5], [-0.5, 0.5]])
    >>> G.edges[("f", 1), ("v", 2)]["slot"], G.nodes["v", 0]["unary"]
    (1, [0.0, 0.0])
    """
    import networkx as nx

    G = nx.Graph()
    names = graph.var_names
    card = graph.card.tolist()
    for i in range(graph.n_var):
        G.add_node(
            ("v", i), bipartite=0, card=card[i], name=None if names is None else names[i],
            unary=graph.var_unary[i, : card[i]].tolist(),
        )
    if graph.n_fac:
        block = graph.to_tables().params[0]
        tptr, logp = block["ptr"].tolist(), block["logp"]
    kinds = np.repeat(np.arange(len(graph.types)), np.diff(graph.type_ptr)).tolist()
    fp, ev = graph.fac_ptr.tolist(), graph.edge_var.tolist()
    for a in range(graph.n_fac):
        scope = ev[fp[a] : fp[a + 1]]
        G.add_node(
            ("f", a), bipartite=1, kind=graph.types[kinds[a]],
            log_table=np.array(logp[tptr[a] : tptr[a + 1]]).reshape([card[i] for i in scope]),
            params=graph.describe_factor(a),
        )
        G.add_edges_from((("f", a), ("v", i), {"slot": s}) for s, i in enumerate(scope))
    return G


def from_networkx(G) -> CompiledGraph:
    """Build a compiled graph from a networkx graph.

    Two inputs are accepted:

    * the bipartite format of :func:`to_networkx` (every node is ``('v', i)``
      or ``('f', a)``, numbered from 0): factors are rebuilt as dense
      ``table`` factors from ``log_table`` in the order ``a = 0, 1, ...``,
      arguments in ``slot`` order; ``card`` (else taken from the tables),
      ``unary`` (log-evidence, default 0) and ``name`` are read from the
      variable nodes.  The result equals ``graph.to_tables()`` except that
      ``fac_origin`` is ``0..n_fac-1``, so log Z and all marginals are kept;
    * any other graph is read as an **Ising model** on binary variables, one
      per node (in ``G.nodes`` order): each edge is a coupling
      ``exp(J s_i s_j)`` with edge attribute ``J`` (default 1.0), each node
      gets a field ``exp(h s_i)`` from node attribute ``h`` (default 0), with
      ``s = 2x - 1``.  Variable names are ``str(node)`` unless the nodes are
      exactly ``0..n-1`` in order.

    Parameters
    ----------
    G : networkx.Graph (or DiGraph, MultiGraph)

    Returns
    -------
    CompiledGraph

    Raises
    ------
    ValueError
        For an empty graph, a malformed bipartite graph (missing or
        mis-shaped ``log_table``, bad slots or numbering), or a self-loop.

    Examples
    --------
    >>> import networkx as nx
    >>> import fgraph
    >>> cg = from_networkx(nx.cycle_graph(4))            # a ferromagnetic ring, J = 1
    >>> cg.types, cg.n_fac, cg.var_names
    (('ising',), 4, None)
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(card=[2, 3])
    >>> _ = g.add_factor([1, 0], [[1, 2], [3, 4], [5, 6]])
    >>> g.add_log_evidence(1, [0.0, -1.0, 0.5])
    >>> cg = g.compile()
    >>> back = from_networkx(to_networkx(cg))
    >>> np.array_equal(back.log_table(0), cg.log_table(0)), back.var_unary.tolist() == cg.var_unary.tolist()
    (True, True)
    """
    nodes = list(G.nodes)
    if not nodes:
        raise ValueError("empty networkx graph: nothing to build")
    tagged = all(isinstance(n, tuple) and len(n) == 2 and n[0] in ("v", "f") for n in nodes)
    if tagged:
        return _from_bipartite(G, nodes)
    return _from_ising(G, nodes)


def _from_bipartite(G, nodes) -> CompiledGraph:
    vids = sorted(n[1] for n in nodes if n[0] == "v")
    fids = sorted(n[1] for n in nodes if n[0] == "f")
    for ids, tag in ((vids, "v"), (fids, "f")):
        if ids != list(range(len(ids))):
            raise ValueError(
                f"bipartite graph: nodes ({tag!r}, k) must be numbered 0..{len(ids) - 1}, got {ids[:10]}"
            )
    n_var, n_fac = len(vids), len(fids)
    if n_var == 0:
        raise ValueError("bipartite graph: no variable nodes ('v', i)")
    scopes, tables = [], []
    for a in range(n_fac):
        node = ("f", a)
        slots = {}
        for nb, data in G[node].items():
            if nb[0] != "v":
                raise ValueError(f"bipartite graph: factor node {node} is joined to factor node {nb}")
            s = data.get("slot")
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s in slots:
                raise ValueError(
                    f"bipartite graph: edge {node}-{nb} needs a unique integer 'slot', got {s!r}"
                )
            slots[int(s)] = nb[1]
        if sorted(slots) != list(range(len(slots))):
            raise ValueError(
                f"bipartite graph: the slots of {node} must be 0..{len(slots) - 1}, got {sorted(slots)}"
            )
        if not slots:
            raise ValueError(f"bipartite graph: factor node {node} has no variables")
        scopes.append([slots[s] for s in range(len(slots))])
        if "log_table" not in G.nodes[node]:
            raise ValueError(f"bipartite graph: factor node {node} has no 'log_table' attribute")
        t = np.asarray(G.nodes[node]["log_table"], dtype=FLOAT)
        if t.ndim != len(slots):
            raise ValueError(
                f"bipartite graph: log_table of {node} has {t.ndim} axes for {len(slots)} variables"
            )
        tables.append(t)
    for n in nodes:
        if n[0] == "v":
            for nb in G[n]:
                if nb[0] != "f":
                    raise ValueError(f"bipartite graph: variable node {n} is joined to variable node {nb}")
    card = np.zeros(n_var, dtype=INDEX)
    for i in range(n_var):
        c = G.nodes["v", i].get("card")
        if c is not None:
            card[i] = int(c)
    for a, (sc, t) in enumerate(zip(scopes, tables)):
        for s, i in enumerate(sc):
            if card[i] == 0:
                card[i] = t.shape[s]
            if t.shape[s] != card[i]:
                raise ValueError(
                    f"bipartite graph: log_table of ('f', {a}) has shape {t.shape} but variable {i} "
                    f"(slot {s}) has {int(card[i])} states"
                )
    if np.any(card < 1):
        i = int(np.flatnonzero(card < 1)[0])
        raise ValueError(f"bipartite graph: variable ('v', {i}) has no 'card' and is in no factor")
    q = int(card.max())
    vu = np.zeros((n_var, q), dtype=FLOAT)
    vu[np.arange(q)[None, :] >= card[:, None]] = -np.inf
    for i in range(n_var):
        u = G.nodes["v", i].get("unary")
        if u is not None:
            u = np.asarray(u, dtype=FLOAT)
            if u.shape != (card[i],):
                raise ValueError(f"bipartite graph: 'unary' of ('v', {i}) must have {int(card[i])} entries")
            vu[i, : card[i]] = u
    if np.any(np.isnan(vu) | (vu == np.inf)):
        raise ValueError("bipartite graph: 'unary' holds NaN or +inf")
    if np.any(np.all(np.isneginf(vu), axis=1)):
        i = int(np.flatnonzero(np.all(np.isneginf(vu), axis=1))[0])
        raise ValueError(f"bipartite graph: variable ('v', {i}) has zero evidence in every state (Z = 0)")
    logp = np.concatenate([t.ravel() for t in tables]) if tables else np.zeros(0, dtype=FLOAT)
    if np.any(np.isnan(logp) | (logp == np.inf)):
        raise ValueError("bipartite graph: a log_table holds NaN or +inf")
    for a, t in enumerate(tables):
        if np.all(np.isneginf(t)):
            raise ValueError(f"bipartite graph: log_table of ('f', {a}) is -inf everywhere (Z = 0)")
    deg = np.array([len(s) for s in scopes], dtype=INDEX)
    edge_var = np.array([i for s in scopes for i in s], dtype=INDEX)
    names = [G.nodes["v", i].get("name") for i in range(n_var)]
    var_names = None if all(nm is None for nm in names) else tuple(
        str(i) if nm is None else str(nm) for i, nm in enumerate(names)
    )
    Wiring.from_edges(n_var, offsets(deg), edge_var)  # refuses repeated variables in a scope
    tptr = offsets([t.size for t in tables])
    return table_graph(card, offsets(deg), edge_var, tptr, logp, var_names=var_names, var_unary=vu)


def _from_ising(G, nodes) -> CompiledGraph:
    from ..graph import FactorGraph

    n = len(nodes)
    index = {node: k for k, node in enumerate(nodes)}
    names = None
    if nodes != list(range(n)):
        names = [str(node) for node in nodes]
        if len(set(names)) != n:
            raise ValueError("Ising graph: two nodes have the same str() name")
    g = FactorGraph()
    g.add_variables(n, 2, names)
    edges, J = [], []
    for u, v, data in G.edges(data=True):
        if u == v:
            raise ValueError(f"Ising graph: self-loop on node {u!r}")
        edges.append((index[u], index[v]))
        J.append(data.get("J", 1.0))
    if edges:
        g.add_ising(np.array(edges, dtype=INDEX), np.array(J, dtype=FLOAT))
    h = np.array([G.nodes[node].get("h", 0.0) for node in nodes], dtype=FLOAT)
    nz = np.flatnonzero(h)
    if nz.size:
        g.add_field(nz, h[nz])
    return g.compile()
