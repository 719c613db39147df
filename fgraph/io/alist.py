"""MacKay's ``.alist`` format for sparse parity-check matrices (LDPC codes): read and write.

**Format.**  ``N M``; the largest column and row weights; the N column
weights; the M row weights; for each variable the (1-based) checks it is in;
for each check the (1-based) variables it contains.  Zeros are padding
(irregular codes) and are skipped; tabs and line breaks are ordinary
whitespace.

**Reading** (:func:`read_alist`).  The check lists may be missing (then they
are derived from the variable lists); when both lists are present they must
describe the same matrix.  The reader gives N binary variables and M hard
``parity`` factors (``weight=inf``, ``target=0``) whose scopes follow the
check lists.

**Writing** (:func:`write_alist`).  Only binary variables whose factors are
all hard parity checks with target 0 and no ``var_unary`` can be written;
anything else raises ValueError naming the first obstacle.  Both lists are
written, padded with zeros to the largest weights; alist files carry no
names.
"""

from __future__ import annotations

import numpy as np

from ..compiled import CompiledGraph
from ..dtypes import FLOAT, INDEX, readonly
from ..factors import freeze_params
from ..wiring import Wiring
from ._common import Source, atomic_write, check_graph, offsets

__all__ = ["read_alist", "write_alist"]


def read_alist(path) -> CompiledGraph:
    """Read an ``.alist`` parity-check matrix, whatever the extension of ``path``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    CompiledGraph
        N binary variables and M hard ``parity`` factors (target 0), factor
        ``c`` over the variables of check ``c``.

    Raises
    ------
    ValueError
        For a malformed file, naming the file and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> text = "3 2\\n2 2\\n1 2 1\\n2 2\\n1 0\\n1 2\\n2 0\\n1 2\\n2 3\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "tiny.alist")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text)
    ...     g = read_alist(path)
    >>> g
    CompiledGraph(n_var=3, n_fac=2, n_edge=4, q_max=2, factors: parity=2)
    >>> g.edge_var.tolist()      # checks {x0, x1} and {x1, x2}
    [0, 1, 1, 2]
    """
    src = Source(path)
    toks = src.tokens
    if not toks:
        raise src.error(0, "the file is empty (an alist file starts with N M)")
    v = src.numbers(0)
    T = v.size
    head = 4
    if T < head:
        raise src.eof("expected N M and the largest column and row weights")
    N, M, max_col, max_row = src.check_ints(v[:head], np.arange(head), "a header entry", 0).tolist()
    if N < 1:
        raise src.error(0, f"the number of variables N must be >= 1, got {toks[0]}")
    if T < head + N + M:
        raise src.eof(f"expected {N} column weights and {M} row weights")
    wtok = np.arange(head, head + N + M, dtype=INDEX)
    w = src.check_ints(v[wtok], wtok, "a weight", 0)
    col_w, row_w = w[:N], w[N:]
    for ws, mx, base, what in ((col_w, max_col, head, "column"), (row_w, max_row, head + N, "row")):
        if ws.size and ws.max() > mx:
            j = int(np.argmax(ws))
            raise src.error(
                base + j, f"{what} weight {int(ws[j])} exceeds the declared largest {what} weight {mx}"
            )
    E = int(col_w.sum())
    if int(row_w.sum()) != E:
        raise src.error(
            head + N, f"the row weights add up to {int(row_w.sum())} but the column weights to {E}"
        )
    rtok = np.arange(head + N + M, T, dtype=INDEX)
    rest = src.check_ints(v[rtok], rtok, "an alist entry", 0)
    keep = np.flatnonzero(rest)  # zeros are padding
    ent, etok = rest[keep], rtok[keep]
    if ent.size < E:
        raise src.eof(f"the variable lists need {E} nonzero entries, found {ent.size}")
    if ent.size > 2 * E:
        k = int(etok[2 * E])
        raise src.error(k, f"unexpected content after the check lists: {toks[k]!r}")
    if E < ent.size < 2 * E:
        raise src.eof(f"the check lists need {E} nonzero entries, found {ent.size - E}")
    var_of = np.repeat(np.arange(N, dtype=INDEX), col_w)
    chk = ent[:E] - 1
    if np.any(chk >= M):
        j = int(np.flatnonzero(chk >= M)[0])
        raise src.error(
            int(etok[j]), f"check index {int(ent[j])} of variable {int(var_of[j]) + 1} is out of range 1..{M}"
        )
    key_v = chk * N + var_of
    if ent.size == 2 * E:
        chk_of = np.repeat(np.arange(M, dtype=INDEX), row_w)
        var = ent[E:] - 1
        if np.any(var >= N):
            j = int(np.flatnonzero(var >= N)[0])
            raise src.error(
                int(etok[E + j]),
                f"variable index {int(var[j]) + 1} of check {int(chk_of[j]) + 1} is out of range 1..{N}",
            )
        edge_var = var
        key_c = chk_of * N + var
        for key, toff in ((key_c, E), (key_v, 0)):
            order = np.argsort(key, kind="stable")
            dup = np.flatnonzero(key[order][1:] == key[order][:-1])
            if dup.size:
                j = int(order[dup + 1].min())
                c, i = divmod(int(key[j]), N)
                raise src.error(
                    int(etok[toff + j]), f"check {c + 1} and variable {i + 1} are listed together twice"
                )
        miss_v = np.flatnonzero(~np.isin(key_v, key_c))
        if miss_v.size:
            j = int(miss_v[0])
            c, i = divmod(int(key_v[j]), N)
            raise src.error(
                int(etok[j]), f"the two lists disagree: variable {i + 1} lists check {c + 1}, "
                f"but check {c + 1} does not list variable {i + 1}",
            )
    else:  # check lists missing: derive them, variables in increasing order
        order = np.argsort(key_v, kind="stable")
        sk = key_v[order]
        dup = np.flatnonzero(sk[1:] == sk[:-1])
        if dup.size:
            j = int(order[dup + 1].min())
            c, i = divmod(int(key_v[j]), N)
            raise src.error(int(etok[j]), f"variable {i + 1} lists check {c + 1} twice")
        edge_var = sk % N
        got = np.bincount(sk // N, minlength=M)
        if not np.array_equal(got, row_w):
            c = int(np.flatnonzero(got != row_w)[0])
            raise src.error(
                head + N + c, f"check {c + 1} has row weight {int(row_w[c])} but the variable lists put "
                f"{int(got[c])} variables in it",
            )
    if M and row_w.min() < 1:
        c = int(np.argmin(row_w))
        raise src.error(head + N + c, f"check {c + 1} has no variables")
    card = np.full(N, 2, dtype=INDEX)
    fac_ptr = offsets(row_w)
    wiring = Wiring.from_edges(N, fac_ptr, edge_var.astype(INDEX), check=False)
    if M:
        block = {"weight": np.full(M, np.inf, dtype=FLOAT), "target": np.zeros(M, dtype=INDEX)}
        params = (freeze_params(block),)
        types, type_ptr = ("parity",), np.array([0, M], dtype=INDEX)
    else:
        params, types, type_ptr = (), (), np.zeros(1, dtype=INDEX)
    return CompiledGraph(
        wiring=wiring,
        card=readonly(card),
        var_unary=readonly(np.zeros((N, 2), dtype=FLOAT)),
        types=types,
        type_ptr=readonly(type_ptr),
        params=params,
        fac_param=readonly(np.arange(M, dtype=INDEX)),
        fac_origin=readonly(np.arange(M, dtype=INDEX)),
        var_names=None,
    )


def _alist_text(graph: CompiledGraph) -> list:
    """The lines of the ``.alist`` file; ValueError when the graph is not a hard parity-check code."""
    if np.any(graph.card != 2):
        i = int(np.flatnonzero(graph.card != 2)[0])
        raise ValueError(f"alist holds binary variables only; variable {i} has {int(graph.card[i])} states")
    if np.any(graph.var_unary[:, :2] != 0):
        i = int(np.flatnonzero(np.any(graph.var_unary[:, :2] != 0, axis=1))[0])
        raise ValueError(
            "alist cannot hold evidence or fields (var_unary); "
            f"variable {i} has {graph.var_unary[i].tolist()}"
        )
    for t, name in enumerate(graph.types):
        lo = int(graph.type_ptr[t])
        if name != "parity":
            raise ValueError(f"alist holds hard parity checks only; factor {lo} is of type {name!r}")
        rows = graph.fac_param[lo : int(graph.type_ptr[t + 1])]
        wts, tgt = graph.params[t]["weight"][rows], graph.params[t]["target"][rows]
        if np.any(wts != np.inf):
            a = lo + int(np.flatnonzero(wts != np.inf)[0])
            raise ValueError(
                f"alist holds hard parity checks only; factor {a} is soft ({graph.describe_factor(a)})"
            )
        if np.any(tgt != 0):
            a = lo + int(np.flatnonzero(tgt != 0)[0])
            raise ValueError(f"alist holds parity checks with target 0 only; factor {a} has target 1")
    N, M = graph.n_var, graph.n_fac
    col_w, row_w = graph.wiring.var_degree(), graph.wiring.fac_degree()
    mc = int(col_w.max()) if N else 0
    mr = int(row_w.max()) if M else 0
    out = [f"{N} {M}\n", f"{mc} {mr}\n", " ".join(map(str, col_w.tolist())) + "\n",
           " ".join(map(str, row_w.tolist())) + "\n"]
    checks = (graph.edge_fac[graph.var_edges] + 1).tolist()  # increasing within each variable
    vp = graph.var_ptr.tolist()
    for i in range(N):
        ent = checks[vp[i] : vp[i + 1]]
        out.append(" ".join(map(str, ent + [0] * (mc - len(ent)))) + "\n")
    vars1 = (graph.edge_var + 1).tolist()
    fp = graph.fac_ptr.tolist()
    for a in range(M):
        ent = vars1[fp[a] : fp[a + 1]]
        out.append(" ".join(map(str, ent + [0] * (mr - len(ent)))) + "\n")
    return out


def write_alist(graph: CompiledGraph, path) -> None:
    """Write a parity-check code as an ``.alist`` file (atomically), whatever the extension of ``path``.

    Parameters
    ----------
    graph : CompiledGraph
        Binary variables, hard ``parity`` factors with target 0, no ``var_unary``.
    path : str or os.PathLike

    Raises
    ------
    ValueError
        Naming the first variable or factor the format cannot hold; the
        target file is then left untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_parity([[0, 1], [1, 2]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "tiny.alist")
    ...     write_alist(g.compile(), path)
    ...     print(open(path).read())
    3 2
    2 2
    1 2 1
    2 2
    1 0
    1 2
    2 0
    1 2
    2 3
    <BLANKLINE>
    """
    check_graph(graph)
    atomic_write(path, _alist_text(graph))
