"""UAI models (``.uai``, ``MARKOV`` and ``BAYES``) and UAI evidence files (``.evid``): read and write.

**UAI** (``.uai``, UAI inference competitions).  Whitespace-separated tokens:
a preamble ``MARKOV`` or ``BAYES`` (both read, the same way), the number of
variables, their cardinalities, the number of factors, one scope per factor
(its size, then variable indices 0-based), then one table per factor (its
number of entries, then the entries).  Tables list *linear* potentials in C
order: the **last** variable of the scope changes fastest.  A ``BAYES`` file
lists each CPT's child last; it is read as a Markov network of the same
tables.  :func:`read_uai` gives one ``table`` factor per file factor, in file
order (arity-1 factors too), ``var_unary`` all zero, ``var_names`` None.

:func:`write_uai` writes ``MARKOV`` files: every factor as a dense table (see
:mod:`fgraph.io` for the exact potentials), then one arity-1 factor
``exp(var_unary[i])`` per variable whose row is not all zero, by variable.
With ``evidence_path``, hard evidence (a variable with one allowed state)
goes to that ``.evid`` file instead; reading both files back,
``fgraph.read(path, evidence=evidence_path)``, restores ``var_unary``
exactly.  UAI files carry no variable names.

**UAI evidence** (``.evid``).  Either ``n v_1 s_1 ... v_n s_n`` (one line) or
the older layout with a leading sample count, ``1`` then ``n v_1 s_1 ...``
(only one sample is supported); ``0`` (or an empty file) means no evidence.
Evidence is hard: :meth:`CompiledGraph.with_evidence` keeps one state of each
observed variable in ``var_unary``.  :func:`read_evidence` and
:func:`write_evidence` read and write these files; :func:`apply_evidence`
applies a file or a mapping to a graph of any format.
"""

from __future__ import annotations

import os

import numpy as np

from ..compiled import CompiledGraph
from ..dtypes import INDEX
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

__all__ = ["read_uai", "write_uai", "read_evidence", "write_evidence", "apply_evidence"]


def read_uai(path) -> CompiledGraph:
    """Read a UAI ``MARKOV`` or ``BAYES`` file, whatever its extension.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    CompiledGraph
        One ``table`` factor per file factor, in file order; ``var_unary``
        all zero; no variable names.

    Raises
    ------
    ValueError
        For a malformed file, naming the file and the line.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "pair.uai")
    ...     with open(path, "w") as f:
    ...         _ = f.write("BAYES 2 2 2 2 1 0 2 0 1 2 0.25 0.75 4 0.5 0.5 0.9 0.1")
    ...     g = read_uai(path)
    >>> g.card.tolist(), g.fac_ptr.tolist(), g.edge_var.tolist()
    ([2, 2], [0, 1, 3], [0, 0, 1])
    >>> round(float(np.exp(g.log_table(1)[1, 0])), 12)   # C order: P(x1 = 0 | x0 = 1)
    0.9
    """
    src = Source(path)
    toks = src.tokens
    if not toks:
        raise src.error(0, "the file is empty (a UAI file starts with MARKOV or BAYES)")
    if toks[0].upper() not in ("MARKOV", "BAYES"):
        raise src.error(0, f"unknown preamble {toks[0]!r}: expected MARKOV or BAYES")
    off = 1
    v = src.numbers(off)
    lst = v.tolist()
    T = len(lst)
    n_var = src.int_at(lst, 0, off, "the number of variables", 1)
    if 1 + n_var > T:
        raise src.eof(f"expected {n_var} cardinalities, found {T - 1}")
    ctok = np.arange(1, 1 + n_var, dtype=INDEX)
    card = src.check_ints(v[ctok], ctok + off, "a cardinality", 1)
    pos = 1 + n_var
    n_fac = src.int_at(lst, pos, off, "the number of factors", 0)
    pos += 1
    degs, starts = [], []
    for a in range(n_fac):
        if pos >= T:
            raise src.eof(f"expected the scope of factor {a} (the file declares {n_fac} factors)")
        k = lst[pos]
        if not (k.is_integer() and k >= 1):
            t = toks[pos + off]
            if t in ("0", "0.0"):
                raise src.error(
                    pos + off, f"factor {a} has an empty scope (constant factors are not supported)"
                )
            raise src.error(pos + off, f"the scope size of factor {a} must be an integer >= 1, got {t!r}")
        k = int(k)
        degs.append(k)
        starts.append(pos + 1)
        pos += k + 1
        if pos > T:
            raise src.eof(f"the scope of factor {a} lists {k} variables, found {T - (pos - k)}")
    deg = np.array(degs, dtype=INDEX)
    fac_ptr = offsets(deg)
    etok = ragged(starts, deg)
    edge_var = src.check_ints(
        v[etok], etok + off, "variable index", 0, n_var,
        lambda j: f"the file declares {n_var} variables (indices 0..{n_var - 1})",
    )
    check_repeats(src, edge_var, fac_ptr, etok + off)
    ecard = card[edge_var]
    want = table_sizes(ecard, fac_ptr)
    want_l = want.tolist()
    tstarts = []
    for a in range(n_fac):
        if pos >= T:
            raise src.eof(f"expected the table of factor {a} (the file declares {n_fac} factors)")
        n = lst[pos]
        if n != want_l[a]:
            lo, hi = int(fac_ptr[a]), int(fac_ptr[a + 1])
            raise src.error(
                pos + off,
                f"expected {int(want_l[a])} table entries for factor {a} (variables "
                f"{edge_var[lo:hi].tolist()}, cardinalities {ecard[lo:hi].tolist()}), "
                f"found {toks[pos + off]}",
            )
        tstarts.append(pos + 1)
        pos += int(n) + 1
        if pos > T:
            raise src.eof(
                f"the table of factor {a} (line {src.line(pos - int(n) - 1 + off)}) needs {int(n)} entries, "
                f"found {T - (pos - int(n))}"
            )
    if pos < T:
        raise src.error(pos + off, f"unexpected content after the last table: {toks[pos + off]!r}")
    sizes = want.astype(INDEX)
    tptr = offsets(sizes)
    vtok = ragged(tstarts, sizes)
    vals = v[vtok]
    src.check_potentials(vals, vtok + off)
    if n_fac:
        dead = np.flatnonzero(np.maximum.reduceat(vals, tptr[:-1]) == 0)
        if dead.size:
            a = int(dead[0])
            raise src.error(tstarts[a] - 1 + off, f"every entry of the table of factor {a} is 0 (Z = 0)")
    return table_graph(card, fac_ptr, edge_var, tptr, safe_log(vals))


def _uai_text(graph: CompiledGraph, with_evid: bool):
    """The lines of the ``MARKOV`` file, and the hard evidence left out of it (``{}`` without evidence)."""
    hard = graph.evidence() if with_evid else {}
    extra_vars, extra_rows = extra_unary(graph, hard, isolated=False)
    deg, fac_ptr, edge_var, tptr, p, logp = dense_tables(graph, extra_vars, extra_rows)
    n_fac = deg.size
    ev = list(map(str, edge_var.tolist()))
    ps = format_values(p, logp)
    fp, tp = fac_ptr.tolist(), tptr.tolist()
    out = ["MARKOV\n", f"{graph.n_var}\n", " ".join(map(str, graph.card.tolist())) + "\n", f"{n_fac}\n"]
    out.extend(f"{fp[a + 1] - fp[a]} {' '.join(ev[fp[a]:fp[a + 1]])}\n" for a in range(n_fac))
    out.extend(f"\n{tp[a + 1] - tp[a]}\n{' '.join(ps[tp[a]:tp[a + 1]])}\n" for a in range(n_fac))
    return out, hard


def _parse_evidence(path):
    """Pairs from an .evid file: (dict var -> state, dict var -> token index of the var, source)."""
    src = Source(path)
    toks = src.tokens
    T = len(toks)
    if T == 0:
        return {}, {}, src
    v = src.numbers(0)
    tok = np.arange(T, dtype=INDEX)
    ints = src.check_ints(v, tok, "an evidence entry", 0).tolist()
    # one-line layout "n v s v s ..." or the older "1" (one sample), then "n v s ...": the token
    # count decides; for a malformed file, a leading "1" alone on its line means the older layout
    if T == 1 + 2 * ints[0]:
        n, first = ints[0], 1
    elif ints[0] == 1 and T >= 2 and (T == 2 + 2 * ints[1] or src.line(0) != src.line(1)):
        n, first = ints[1], 2
    else:
        n, first = ints[0], 1
    need = first + 2 * n
    if T < need:
        raise src.eof(
            f"the evidence lists {n} variables and needs {2 * n} numbers after the count, found {T - first}"
        )
    if T > need:
        raise src.error(need, f"unexpected content after the {n} evidence pairs: {toks[need]!r}")
    ev, where = {}, {}
    for j in range(n):
        var, state = ints[first + 2 * j], ints[first + 2 * j + 1]
        if var in ev and ev[var] != state:
            raise src.error(
                first + 2 * j, f"variable {var} is observed twice, in states {ev[var]} and {state}"
            )
        ev[var] = state
        where.setdefault(var, first + 2 * j)
    return ev, where, src


def read_evidence(path) -> dict:
    """Read a UAI evidence file into ``{variable: state}``.

    Both layouts are read: ``n v_1 s_1 ... v_n s_n`` and the older one with a
    leading sample count ``1``.  ``0`` or an empty file gives ``{}``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict of int to int
        Observed state of each observed variable, in file order.

    Raises
    ------
    ValueError
        Naming the file and line, for non-integer entries, a count that does
        not match the pairs, or a variable observed in two different states.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "model.uai.evid")
    ...     with open(path, "w") as f:
    ...         _ = f.write("3 29 1 16 1 173 1\\n")
    ...     read_evidence(path)
    {29: 1, 16: 1, 173: 1}
    """
    return _parse_evidence(path)[0]


def _evid_text(evidence) -> list:
    if not hasattr(evidence, "items"):
        raise TypeError(f"evidence must be a mapping {{variable: state}}, got {type(evidence).__name__}")
    pairs = []
    for var, state in evidence.items():
        for x, what in ((var, "variable"), (state, "state")):
            if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0:
                raise ValueError(f"evidence {what}s must be non-negative integers, got {x!r}")
        pairs.append(f"{int(var)} {int(state)}")
    return [" ".join([str(len(pairs)), *pairs]) + "\n"]


def write_evidence(evidence, path) -> None:
    """Write ``{variable: state}`` as a one-line UAI evidence file (atomically).

    Parameters
    ----------
    evidence : mapping of int to int
    path : str or os.PathLike

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "model.uai.evid")
    ...     write_evidence({3: 1, 0: 2}, path)
    ...     print(open(path).read().strip())
    ...     read_evidence(path)
    2 3 1 0 2
    {3: 1, 0: 2}
    """
    atomic_write(path, _evid_text(evidence))


def write_uai(graph: CompiledGraph, path, evidence_path=None) -> None:
    """Write a compiled graph as a UAI ``MARKOV`` file (atomically), whatever the extension of ``path``.

    Parameters
    ----------
    graph : CompiledGraph
    path : str or os.PathLike
    evidence_path : None, True, str or os.PathLike, optional
        Where to write hard evidence as a UAI ``.evid`` file (``True``:
        ``<path>.evid``).  Without it, hard evidence is written as 0/1
        arity-1 factors in the model file.

    Raises
    ------
    ValueError
        For a log-potential outside the range of linear floats.

    Examples
    --------
    >>> import os, tempfile
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(card=[2, 3])
    >>> _ = g.add_factor([0, 1], [[1, 2, 3], [4, 5, 6]])
    >>> cg = g.compile().with_evidence({1: 2})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "m.uai")
    ...     write_uai(cg, path, evidence_path=True)
    ...     print(open(path + ".evid").read().strip())
    ...     back = fgraph.read(path, evidence=True)
    1 1 2
    >>> back.evidence(), back.var_unary.tolist() == cg.var_unary.tolist()
    ({1: 2}, True)
    """
    check_graph(graph)
    with_evid = evidence_path is not None and evidence_path is not False
    text, hard = _uai_text(graph, with_evid)
    evid = _evid_text(hard) if with_evid else None
    atomic_write(path, text)
    if evid is not None:
        target = os.fspath(path) + ".evid" if evidence_path is True else evidence_path
        atomic_write(target, evid)


def apply_evidence(graph: CompiledGraph, evidence, path) -> CompiledGraph:
    """Apply hard evidence, given as :func:`fgraph.io.read` takes it, to a graph read from ``path``.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : None, False, True, str, os.PathLike or mapping
        ``None``/``False``: none (``graph`` is returned).  ``True``: the
        evidence file ``<path>.evid``.  A path: that evidence file.  A mapping
        ``{variable: state}``: applied directly.
    path : str or os.PathLike
        The model file (for ``evidence=True``).

    Returns
    -------
    CompiledGraph

    Raises
    ------
    ValueError
        For a malformed evidence file, or a variable or state out of range
        (naming the evidence file and line).
    TypeError
        For any other kind of ``evidence``.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(card=[2, 3])
    >>> _ = g.add_factor([0, 1], [[1, 2, 3], [4, 5, 6]])
    >>> apply_evidence(g.compile(), {1: 0}, "unused.uai").evidence()
    {1: 0}
    """
    if evidence is None or evidence is False:
        return graph
    if evidence is True:
        evidence = os.fspath(path) + ".evid"
    if isinstance(evidence, (str, os.PathLike)):
        ev, where, src = _parse_evidence(evidence)
        for var, state in ev.items():
            if var >= graph.n_var:
                raise src.error(
                    where[var], f"variable {var} is out of range: the model has {graph.n_var} variables"
                )
            if state >= graph.card[var]:
                raise src.error(
                    where[var] + 1,
                    f"state {state} of variable {var} is out of range 0..{int(graph.card[var]) - 1}",
                )
        evidence = ev
    if not hasattr(evidence, "items"):
        raise TypeError(
            "evidence must be None, True, the path of an .evid file or a mapping {variable: state}, "
            f"got {type(evidence).__name__}"
        )
    return graph.with_evidence(evidence)
