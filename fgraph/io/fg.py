"""libDAI factor graphs (``.fg``): read and write.

**Format.**  The number of factors, then per factor: its number of variables,
their integer *labels*, their cardinalities, the number of listed entries and
that many ``index value`` lines.  Tables are in **Fortran** order (the
*first* variable changes fastest) and entries not listed are 0.  ``#``
starts a comment that runs to the end of the line.

**Reading** (:func:`read_fg`).  Labels may be any non-negative integers, not
necessarily contiguous: they are mapped to variables ``0..n_var-1`` in
increasing label order and kept as ``var_names`` (``"7"`` for label 7), so
writing the graph back gives the same labels.  One ``table`` factor per file
factor, in file order; factor scopes keep the file's argument order; tables
are converted to C order.

**Writing** (:func:`write_fg`).  Every factor as a dense table (see
:mod:`fgraph.io` for the exact potentials), listing its nonzero entries
only; then one arity-1 factor ``exp(var_unary[i])`` per variable whose row is
not all zero (by variable), plus an all-ones arity-1 factor for each variable
in no factor at all (a ``.fg`` file cannot list a variable outside a
factor).  ``var_names`` are reused as labels when they are non-negative
integers in canonical form (``"7"``, not ``"07"``) and increasing; otherwise
variables are labelled ``0..n_var-1``.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from ..compiled import CompiledGraph
from ..dtypes import FLOAT, INDEX
from ._common import (
    Source,
    atomic_write,
    check_graph,
    check_repeats,
    dense_tables,
    extra_unary,
    format_values,
    offsets,
    ragged,
    safe_log,
    table_graph,
    table_sizes,
)

__all__ = ["read_fg", "write_fg"]

_LABEL = re.compile(r"0|[1-9][0-9]*")
_MAX_DENSE = 2**31  # largest total number of dense table entries a .fg file may ask for


def _fortran_to_c(deg, fac_ptr, ecard, tptr) -> np.ndarray:
    """For every dense-table position in Fortran order, its C-order offset in the same table.

    ``out[tptr[a] + k]`` is the C-order offset of the entry whose Fortran-order
    (first argument fastest) offset is ``k``.  int64 (tptr[-1],).
    """
    out = np.empty(int(tptr[-1]), dtype=INDEX)
    sizes = np.diff(tptr)
    for d in np.unique(deg).tolist():
        facs = np.flatnonzero(deg == d)
        C = ecard[fac_ptr[facs][:, None] + np.arange(d)]  # (F_d, d)
        sF = np.ones_like(C)
        sF[:, 1:] = np.cumprod(C[:, :-1], axis=1)
        sC = np.ones_like(C)
        sC[:, :-1] = np.cumprod(C[:, :0:-1], axis=1)[:, ::-1]
        pos = ragged(tptr[facs], sizes[facs])
        row = np.repeat(np.arange(facs.size, dtype=INDEX), sizes[facs])
        k = pos - tptr[facs][row]
        digits = (k[:, None] // sF[row]) % C[row]
        out[pos] = (digits * sC[row]).sum(axis=1)
    return out


def read_fg(path) -> CompiledGraph:
    """Read a libDAI ``.fg`` file, whatever its extension.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    CompiledGraph
        One ``table`` factor per file factor, in file order; variables in
        increasing label order, ``var_names`` the labels as strings.

    Raises
    ------
    ValueError
        For a malformed file, naming the file and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> text = "1  # one factor\\n\\n2\\n7 3\\n2 2\\n2\\n0 0.5\\n3 2.0\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "pair.fg")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text)
    ...     g = read_fg(path)
    >>> g.var_names, g.edge_var.tolist()     # labels 3 and 7 become variables 0 and 1
    (('3', '7'), [1, 0])
    >>> np.exp(g.log_table(0)).tolist()       # entries not listed are 0
    [[0.5, 0.0], [0.0, 2.0]]
    """
    src = Source(path, comments=True)
    toks = src.tokens
    if not toks:
        raise src.error(0, "the file is empty (a .fg file starts with the number of factors)")
    v = src.numbers(0)
    lst = v.tolist()
    T = len(lst)
    n_fac = src.int_at(lst, 0, 0, "the number of factors", 0)
    pos = 1
    kpos, degs, npos, nnzs = [], [], [], []
    for a in range(n_fac):
        if pos >= T:
            raise src.eof(f"expected factor {a} (the file declares {n_fac} factors)")
        k = src.int_at(lst, pos, 0, f"the number of variables of factor {a}", 1)
        p = pos + 1 + 2 * k
        nnz = src.int_at(lst, p, 0, f"the number of nonzero entries of factor {a}", 0)
        size = 1.0
        for c in range(pos + 1 + k, p):
            size *= src.int_at(lst, c, 0, "a cardinality", 1)
        if nnz > size:
            raise src.error(p, f"factor {a} lists {nnz} entries but its table has only {int(size)}")
        kpos.append(pos)
        degs.append(k)
        npos.append(p)
        nnzs.append(nnz)
        pos = p + 1 + 2 * nnz
        if pos > T:
            raise src.eof(
                f"factor {a} lists {nnz} entries (index value pairs, line {src.line(p)}), "
                f"found {(T - (p + 1)) // 2}"
            )
    if pos < T:
        raise src.error(pos, f"unexpected content after the last factor: {toks[pos]!r}")
    deg = np.array(degs, dtype=INDEX)
    kpos = np.array(kpos, dtype=INDEX)
    npos = np.array(npos, dtype=INDEX)
    nnz = np.array(nnzs, dtype=INDEX)
    fac_ptr = offsets(deg)
    ltok = ragged(kpos + 1, deg)
    ctok = ragged(kpos + 1 + deg, deg)
    labels = src.check_ints(v[ltok], ltok, "a variable label", 0)
    ecard = v[ctok].astype(INDEX)  # checked during the walk
    if n_fac == 0:
        raise src.error(0, "the file has no factors, hence no variables")
    uniq, edge_var = np.unique(labels, return_inverse=True)
    edge_var = edge_var.astype(INDEX).ravel()
    check_repeats(src, edge_var, fac_ptr, ltok, label=labels)
    # one cardinality per label: compare every occurrence with the first one
    first = np.full(uniq.size, labels.size, dtype=INDEX)
    np.minimum.at(first, edge_var, np.arange(labels.size, dtype=INDEX))
    card = ecard[first]
    wrong = np.flatnonzero(ecard != card[edge_var])
    if wrong.size:
        e = int(wrong[0])
        e0 = int(first[edge_var[e]])
        raise src.error(
            int(ctok[e]),
            f"variable {int(labels[e])} has cardinality {int(ecard[e])} here but {int(ecard[e0])} "
            f"in factor {int(np.searchsorted(fac_ptr, e0, side='right') - 1)} "
            f"(line {src.line(int(ctok[e0]))})",
        )
    want = table_sizes(ecard, fac_ptr)
    if want.sum() > _MAX_DENSE:
        a = int(np.argmax(want))
        raise src.error(int(kpos[a]), f"factor {a} needs a dense table of {int(want[a])} entries: too large")
    sizes = want.astype(INDEX)
    tptr = offsets(sizes)
    itok = ragged(npos + 1, nnz, step=2)
    fac_of = np.repeat(np.arange(n_fac, dtype=INDEX), nnz)
    idx = src.check_ints(
        v[itok], itok, "table index", 0, want[fac_of],
        lambda j: f"the table of factor {int(fac_of[j])} has {int(sizes[fac_of[j]])} entries "
        f"(indices 0..{int(sizes[fac_of[j]]) - 1})",
    )
    vals = v[itok + 1]
    src.check_potentials(vals, itok + 1)
    flat = tptr[fac_of] + idx
    order = np.argsort(flat, kind="stable")
    dup = np.flatnonzero(flat[order][1:] == flat[order][:-1])
    if dup.size:
        j = int(order[dup + 1].min())
        raise src.error(int(itok[j]), f"index {int(idx[j])} of factor {int(fac_of[j])} is listed twice")
    f2c = _fortran_to_c(deg, fac_ptr, ecard, tptr)
    logp = np.full(int(tptr[-1]), -np.inf, dtype=FLOAT)
    logp[tptr[fac_of] + f2c[flat]] = safe_log(vals)
    dead = np.flatnonzero(np.maximum.reduceat(logp, tptr[:-1]) == -np.inf)
    if dead.size:
        a = int(dead[0])
        raise src.error(int(npos[a]), f"factor {a} has no nonzero entry (Z = 0)")
    names = tuple(str(x) for x in uniq.tolist())
    return table_graph(card, fac_ptr, edge_var, tptr, logp, var_names=names)


def _fg_labels(graph: CompiledGraph) -> list:
    """The label of every variable: its name when all names are increasing canonical integers."""
    names = graph.var_names
    if names is not None and all(isinstance(s, str) and _LABEL.fullmatch(s) for s in names):
        nums = [int(s) for s in names]
        if all(x < y for x, y in itertools.pairwise(nums)):
            return list(names)
    return [str(i) for i in range(graph.n_var)]


def _fg_text(graph: CompiledGraph) -> list:
    """The text of the ``.fg`` file, in chunks."""
    extra_vars, extra_rows = extra_unary(graph, {}, isolated=True)
    deg, fac_ptr, edge_var, tptr, p, logp = dense_tables(graph, extra_vars, extra_rows)
    n_fac = deg.size
    ecard = graph.card[edge_var]
    f2c = _fortran_to_c(deg, fac_ptr, ecard, tptr)
    sizes = np.diff(tptr)
    start = np.repeat(tptr[:-1], sizes)
    pF = p[start + f2c]  # the tables in Fortran order
    nz = np.flatnonzero(pF)
    kF = (nz - start[nz]).tolist()
    lines = [f"{k} {r}" for k, r in zip(kF, format_values(pF[nz], logp[start + f2c][nz]))]
    nptr = np.searchsorted(nz, tptr).tolist()
    labels = _fg_labels(graph)
    ev_lab = [labels[i] for i in edge_var.tolist()]
    ec = list(map(str, ecard.tolist()))
    fp = fac_ptr.tolist()
    out = [f"{n_fac}\n"]
    for a in range(n_fac):
        lo, hi = fp[a], fp[a + 1]
        body = "\n".join(lines[nptr[a] : nptr[a + 1]])
        out.append(
            f"\n{hi - lo}\n{' '.join(ev_lab[lo:hi])}\n{' '.join(ec[lo:hi])}\n{nptr[a + 1] - nptr[a]}\n"
            + (body + "\n" if body else "")
        )
    return out


def write_fg(graph: CompiledGraph, path) -> None:
    """Write a compiled graph as a libDAI ``.fg`` file (atomically), whatever the extension of ``path``.

    Parameters
    ----------
    graph : CompiledGraph
    path : str or os.PathLike

    Raises
    ------
    ValueError
        For a log-potential outside the range of linear floats.

    Examples
    --------
    >>> import os, tempfile
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2, names=["3", "7"])
    >>> _ = g.add_factor([1, 0], [[0.5, 0.0], [0.0, 2.0]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "pair.fg")
    ...     write_fg(g.compile(), path)
    ...     print(open(path).read())
    1
    <BLANKLINE>
    2
    7 3
    2 2
    2
    0 0.5
    3 2.0
    <BLANKLINE>
    """
    check_graph(graph)
    atomic_write(path, _fg_text(graph))
