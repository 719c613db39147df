"""Reading and writing factor graphs: UAI, libDAI ``.fg``, MacKay ``.alist``; networkx in and out.

:func:`read` and :func:`write` choose the format from the file extension
(case-insensitive): ``.uai``, ``.fg`` or ``.alist``.  Paths may be ``str`` or
``pathlib.Path``.  Every reader returns a :class:`~fgraph.compiled.CompiledGraph`.

Formats
-------
**UAI** (``.uai``, UAI inference competitions).  Whitespace-separated tokens:
a preamble ``MARKOV`` or ``BAYES`` (both read, the same way), the number of
variables, their cardinalities, the number of factors, one scope per factor
(its size, then variable indices 0-based), then one table per factor (its
number of entries, then the entries).  Tables list *linear* potentials in C
order: the **last** variable of the scope changes fastest.  A ``BAYES`` file
lists each CPT's child last; it is read as a Markov network of the same
tables.  The reader gives one ``table`` factor per file factor, in file order
(arity-1 factors too), ``var_unary`` all zero, ``var_names`` None.

**UAI evidence** (``.evid``).  Either ``n v_1 s_1 ... v_n s_n`` (one line) or
the older layout with a leading sample count, ``1`` then ``n v_1 s_1 ...``
(only one sample is supported); ``0`` (or an empty file) means no evidence.
Evidence is hard: :meth:`CompiledGraph.with_evidence` keeps one state of each
observed variable in ``var_unary``.

**libDAI** (``.fg``).  The number of factors, then per factor: its number of
variables, their integer *labels*, their cardinalities, the number of listed
entries and that many ``index value`` lines.  Tables are in **Fortran**
order (the *first* variable changes fastest) and entries not listed are 0.
Labels may be any non-negative integers, not necessarily contiguous: they are
mapped to variables ``0..n_var-1`` in increasing label order and kept as
``var_names`` (``"7"`` for label 7), so writing the graph back gives the same
labels.  ``#`` starts a comment that runs to the end of the line.  Factor
scopes keep the file's argument order; tables are converted to C order.

**alist** (``.alist``, MacKay's format for sparse parity-check matrices):
``N M``; the largest column and row weights; the N column weights; the M row
weights; for each variable the (1-based) checks it is in; for each check the
(1-based) variables it contains.  Zeros are padding (irregular codes) and are
skipped; tabs and line breaks are ordinary whitespace.  The check lists may be
missing (then they are derived from the variable lists); when both lists are
present they must describe the same matrix.  The reader gives N binary
variables and M hard ``parity`` factors (``weight=inf``, ``target=0``) whose
scopes follow the check lists.

Writing
-------
Writes are atomic: the text goes to a temporary file in the target's
directory, which then replaces the target (``os.replace``), so an error
never leaves a half-written file; an existing file keeps its permissions.

* ``.uai`` and ``.fg`` hold only dense tables of linear potentials, so every
  factor type (``ising``, ``potts``, ``parity``, ``unary``, user types) is
  written as a dense table and reads back as a ``table`` factor (``unary``
  factors become arity-1 tables), in the graph's factor order.
* Each log-potential ``l`` is written as ``repr(p)`` of a float ``p`` with
  ``log(p) == l`` exactly, when one exists (``exp(l)`` or one of its nearest
  neighbours); ``-inf`` is written as 0.  Hence *write -> read is exact for
  graphs read from these files* (cardinalities, wiring, parameter arrays
  bit for bit, names).  A graph built in the log domain (e.g. Ising couplings)
  may contain log values that no float's logarithm hits; those come back
  within one ulp, and a second write -> read cycle is then exact.  A
  log-potential too large (``> 709.78``) or too small (underflowing to 0) for
  a linear float raises ValueError.
* ``var_unary`` (fields, soft and hard evidence): the ``.fg`` writer appends
  one arity-1 factor ``exp(var_unary[i])`` per variable whose row is not all
  zero (after the graph's factors, by variable), plus an all-ones arity-1
  factor for each variable in no factor at all (a ``.fg`` file cannot list a
  variable outside a factor).  The ``.uai`` writer does the same, except that
  with ``evidence_path`` hard evidence (a variable with one allowed state)
  goes to that ``.evid`` file instead; reading both files back,
  ``read(path, evidence=evidence_path)``, restores ``var_unary`` exactly.
* ``.fg`` labels: ``var_names`` are reused as labels when they are
  non-negative integers in canonical form (``"7"``, not ``"07"``) and
  increasing; otherwise variables are labelled ``0..n_var-1``.  ``.uai`` and
  ``.alist`` files carry no names.
* ``.alist`` only holds binary variables whose factors are all hard parity
  checks with target 0 and no ``var_unary``; anything else raises ValueError
  naming the first obstacle.

Errors
------
A malformed file raises ValueError naming the file and the line, e.g.
``ValueError: bad.uai, line 7: expected 4 table entries for factor 2 (...), found 3``.
The whole file is split once into tokens; line numbers are computed only
when an error is reported, so reading stays fast (a UAI file with 10^5
factors parses in about a second).

networkx
--------
:func:`to_networkx` gives the bipartite graph of a compiled graph with its
dense tables; :func:`from_networkx` reads that format back, or builds an
Ising model from a plain graph (edge attribute ``J``, node attribute ``h``).
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import stat

import numpy as np

from ..compiled import CompiledGraph
from ..dtypes import FLOAT, INDEX, readonly
from ..factors import freeze_params
from ..wiring import Wiring

__all__ = ["read", "write", "read_evidence", "write_evidence", "to_networkx", "from_networkx"]

SUPPORTED = (".uai", ".fg", ".alist")

_TOKEN = re.compile(r"\S+")
_COMMENT = re.compile(r"#[^\n]*")
_LABEL = re.compile(r"0|[1-9][0-9]*")
_MAX_DENSE = 2**31  # largest total number of dense table entries a .fg file may ask for


# ---------------------------------------------------------------------------------------------
# tokens and errors
class _Source:
    """A text file split into whitespace tokens; line numbers are found only on error."""

    def __init__(self, path, comments: bool = False) -> None:
        self.name = os.fspath(path)
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if comments:
            text = _COMMENT.sub("", text)  # keeps the newlines, so line numbers stay right
        self.text = text
        self.tokens = text.split()

    def line(self, k: int) -> int:
        """1-based line of token ``k`` (the last line holding a token if ``k`` is past the end)."""
        if k >= len(self.tokens):
            return self.text.rstrip().count("\n") + 1
        m = next(itertools.islice(_TOKEN.finditer(self.text), int(k), None))
        return self.text.count("\n", 0, m.start()) + 1

    def error(self, k: int, msg: str) -> ValueError:
        return ValueError(f"{self.name}, line {self.line(k)}: {msg}")

    def eof(self, msg: str) -> ValueError:
        return ValueError(f"{self.name}, line {self.line(len(self.tokens))}: unexpected end of file: {msg}")

    def numbers(self, start: int = 0) -> np.ndarray:
        """All tokens from ``start`` on as float64; a token that is not a number is an error."""
        toks = self.tokens[start:]
        try:
            return np.fromiter(map(float, toks), dtype=FLOAT, count=len(toks))
        except ValueError:
            for j, t in enumerate(toks):
                try:
                    float(t)
                except ValueError:
                    raise self.error(start + j, f"{t!r} is not a number") from None
            raise  # pragma: no cover - float() accepted every token after all

    def int_at(self, vals: list, pos: int, off: int, what: str, lo: int) -> int:
        """The integer ``>= lo`` at position ``pos`` of ``vals`` (token ``pos + off``)."""
        if pos >= len(vals):
            raise self.eof(f"expected {what}")
        x = vals[pos]
        if not (x.is_integer() and lo <= x < 2.0**53):
            raise self.error(pos + off, f"{what} must be an integer >= {lo}, got {self.tokens[pos + off]!r}")
        return int(x)

    def check_ints(self, vals, tok, what: str, lo: int, hi=None, hi_msg=None) -> np.ndarray:
        """Vectorised: ``vals`` (tokens ``tok``) must be integers in ``lo..hi-1``; int64 copy."""
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(vals) | (vals != np.floor(vals)) | (vals < lo) | (vals >= 2.0**53)
            over = np.zeros(vals.shape, dtype=bool) if hi is None else (vals >= hi) & ~bad
        if np.any(bad | over):
            j = int(np.flatnonzero(bad | over)[0])
            t = self.tokens[int(tok[j])]
            if bad[j]:
                raise self.error(int(tok[j]), f"{what} must be an integer >= {lo}, got {t!r}")
            raise self.error(int(tok[j]), f"{what} {t} is out of range: {hi_msg(j)}")
        return vals.astype(INDEX)

    def check_potentials(self, vals, tok) -> None:
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(vals) | (vals < 0)
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            raise self.error(
                int(tok[j]), f"potential {self.tokens[int(tok[j])]!r} is not a finite number >= 0"
            )


def _ragged(starts, lengths, step: int = 1) -> np.ndarray:
    """Concatenated ``range(s, s + step * n, step)`` for every (s, n), int64."""
    starts = np.asarray(starts, dtype=INDEX)
    lengths = np.asarray(lengths, dtype=INDEX)
    total = int(lengths.sum()) if lengths.size else 0
    if total == 0:
        return np.zeros(0, dtype=INDEX)
    offs = np.cumsum(lengths) - lengths
    return np.repeat(starts - step * offs, lengths) + step * np.arange(total, dtype=INDEX)


def _ptr(sizes) -> np.ndarray:
    sizes = np.asarray(sizes, dtype=INDEX)
    ptr = np.zeros(sizes.size + 1, dtype=INDEX)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


def _check_repeats(src: _Source, edge_var, fac_ptr, tok, label=None) -> None:
    """A variable may appear only once in a factor's scope."""
    n_edge = edge_var.size
    if n_edge == 0:
        return
    fac = np.repeat(np.arange(fac_ptr.size - 1, dtype=INDEX), np.diff(fac_ptr))
    key = fac * (int(edge_var.max()) + 1) + edge_var
    order = np.argsort(key, kind="stable")
    sk = key[order]
    dup = np.flatnonzero(sk[1:] == sk[:-1])
    if dup.size:
        e = int(order[dup + 1].min())  # the first repeat in file order
        name = int(edge_var[e]) if label is None else int(label[e])
        raise src.error(int(tok[e]), f"factor {int(fac[e])} lists variable {name} twice in its scope")


def _table_sizes(ecard, fac_ptr) -> np.ndarray:
    """Product of the scope cardinalities of every factor, float64 (exact below 2**53)."""
    n_fac = fac_ptr.size - 1
    if n_fac == 0:
        return np.zeros(0, dtype=FLOAT)
    return np.multiply.reduceat(ecard.astype(FLOAT), fac_ptr[:-1])


def _table_graph(card, fac_ptr, edge_var, tptr, logp, var_names=None, var_unary=None) -> CompiledGraph:
    """A CompiledGraph whose factors are all dense ``table`` factors, in the given order."""
    card = np.asarray(card, dtype=INDEX)
    n_var, n_fac = card.size, fac_ptr.size - 1
    wiring = Wiring.from_edges(n_var, fac_ptr, edge_var, check=False)
    if var_unary is None:
        var_unary = np.zeros((n_var, int(card.max())), dtype=FLOAT)
        var_unary[np.arange(var_unary.shape[1])[None, :] >= card[:, None]] = -np.inf
    if n_fac:
        types, type_ptr = ("table",), np.array([0, n_fac], dtype=INDEX)
        block = {"ptr": np.asarray(tptr, dtype=INDEX), "logp": np.asarray(logp, dtype=FLOAT)}
        params = (freeze_params(block),)
    else:
        types, type_ptr, params = (), np.zeros(1, dtype=INDEX), ()
    return CompiledGraph(
        wiring=wiring,
        card=readonly(card.copy()),
        var_unary=readonly(np.asarray(var_unary, dtype=FLOAT)),
        types=types,
        type_ptr=readonly(type_ptr),
        params=params,
        fac_param=readonly(np.arange(n_fac, dtype=INDEX)),
        fac_origin=readonly(np.arange(n_fac, dtype=INDEX)),
        var_names=var_names,
    )


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


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
        pos = _ragged(tptr[facs], sizes[facs])
        row = np.repeat(np.arange(facs.size, dtype=INDEX), sizes[facs])
        k = pos - tptr[facs][row]
        digits = (k[:, None] // sF[row]) % C[row]
        out[pos] = (digits * sC[row]).sum(axis=1)
    return out


# ---------------------------------------------------------------------------------------------
# UAI
def _read_uai(path) -> CompiledGraph:
    src = _Source(path)
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
    fac_ptr = _ptr(deg)
    etok = _ragged(starts, deg)
    edge_var = src.check_ints(
        v[etok], etok + off, "variable index", 0, n_var,
        lambda j: f"the file declares {n_var} variables (indices 0..{n_var - 1})",
    )
    _check_repeats(src, edge_var, fac_ptr, etok + off)
    ecard = card[edge_var]
    want = _table_sizes(ecard, fac_ptr)
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
    tptr = _ptr(sizes)
    vtok = _ragged(tstarts, sizes)
    vals = v[vtok]
    src.check_potentials(vals, vtok + off)
    if n_fac:
        dead = np.flatnonzero(np.maximum.reduceat(vals, tptr[:-1]) == 0)
        if dead.size:
            a = int(dead[0])
            raise src.error(tstarts[a] - 1 + off, f"every entry of the table of factor {a} is 0 (Z = 0)")
    return _table_graph(card, fac_ptr, edge_var, tptr, _log(vals))


def _linear(logp: np.ndarray, where) -> np.ndarray:
    """Floats ``p`` with ``log(p) == logp`` exactly when such a float exists (else the closest).

    ``where(k)`` describes flat entry ``k`` for error messages.
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        p = np.exp(logp)
        bad = np.flatnonzero(np.isinf(p) | ((p == 0) & np.isfinite(logp)))
        if bad.size:
            k = int(bad[0])
            kind = "too large" if logp[k] > 0 else "too small"
            raise ValueError(
                f"{where(k)}: log-potential {float(logp[k])!r} is {kind} to write as a linear-scale "
                "float (this format stores potentials, not their logs); rescale the factor"
            )
        todo = np.flatnonzero(np.log(p) != logp)
        if todo.size:
            target = logp[todo]
            best = p[todo]
            err = np.abs(np.log(best) - target)
            found = np.zeros(todo.size, dtype=bool)
            up, down = best.copy(), best.copy()
            for _ in range(4):
                up = np.nextafter(up, np.inf)
                down = np.nextafter(down, 0.0)
                for cand in (up, down):
                    lc = np.log(cand)
                    hit = (lc == target) & ~found
                    closer = (np.abs(lc - target) < err) & ~found & (cand > 0)
                    take = hit | closer
                    best[take] = cand[take]
                    err[take] = np.abs(lc - target)[take]
                    found |= hit
            p[todo] = best
    return p


def _format_values(p: np.ndarray, logp: np.ndarray) -> list:
    """``repr`` of every value of ``p``, or a shorter decimal whose log is the same float.

    ``exp(log(3.0))`` is ``3.0000000000000004``; as ``log`` of both is the same
    float, ``3.0`` is written.  Long representations are retried with 6, 9, 12
    and 15 significant digits, so files read from disk keep their short text.
    """
    out = list(map(repr, p.tolist()))
    lens = np.fromiter(map(len, out), dtype=INDEX, count=len(out))
    todo = np.flatnonzero(lens >= 12)
    for digits in (6, 9, 12, 15):
        if todo.size == 0:
            break
        cand = np.array([float(f"{x:.{digits}g}") for x in p[todo].tolist()], dtype=FLOAT)
        with np.errstate(divide="ignore"):
            hit = np.log(cand) == logp[todo]
        for j, c in zip(todo[hit].tolist(), cand[hit].tolist()):
            out[j] = repr(c)
        todo = todo[~hit]
    return out


def _extra_unary(graph: CompiledGraph, hard: dict, isolated: bool):
    """Rows of ``var_unary`` written as arity-1 factors: (variables int64 (k,), list of log rows).

    Variables in ``hard`` whose kept state has log value 0 are skipped (they go
    to an evidence file); with ``isolated``, variables in no factor get a row
    of zeros (an all-ones table) when they have nothing else.
    """
    vu, card = graph.var_unary, graph.card
    valid = np.arange(vu.shape[1])[None, :] < card[:, None]
    nonzero = np.any((vu != 0) & valid, axis=1)
    if isolated:
        nonzero |= graph.wiring.var_degree() == 0
    out_vars, rows = [], []
    for i in np.flatnonzero(nonzero).tolist():
        if i in hard and vu[i, hard[i]] == 0:
            continue
        out_vars.append(i)
        rows.append(vu[i, : card[i]])
    return np.array(out_vars, dtype=INDEX), rows


def _dense(graph: CompiledGraph, extra_vars, extra_rows):
    """All factors (then the extra arity-1 factors) as dense C-order linear tables.

    Returns deg, fac_ptr, edge_var, tptr (int64), p and logp (float64 (tptr[-1],)).
    """
    n_fac = graph.n_fac
    if n_fac:
        block = graph.to_tables().params[0]
        tptr0, logp0 = np.asarray(block["ptr"]), np.asarray(block["logp"])
    else:
        tptr0, logp0 = np.zeros(1, dtype=INDEX), np.zeros(0, dtype=FLOAT)
    deg = np.concatenate([graph.wiring.fac_degree(), np.ones(extra_vars.size, dtype=INDEX)])
    edge_var = np.concatenate([graph.edge_var, extra_vars])
    sizes = np.concatenate([np.diff(tptr0), graph.card[extra_vars]])
    tptr = _ptr(sizes)
    logp = np.concatenate([logp0, *extra_rows]) if extra_rows else logp0

    def where(k):
        a = int(np.searchsorted(tptr, k, side="right") - 1)
        if a < n_fac:
            return f"factor {a} ({graph.describe_factor(a)})"
        return f"the evidence (var_unary) of variable {int(extra_vars[a - n_fac])}"

    return deg, _ptr(deg), edge_var, tptr, _linear(logp, where), logp


def _uai_text(graph: CompiledGraph, with_evid: bool):
    hard = graph.evidence() if with_evid else {}
    extra_vars, extra_rows = _extra_unary(graph, hard, isolated=False)
    deg, fac_ptr, edge_var, tptr, p, logp = _dense(graph, extra_vars, extra_rows)
    n_fac = deg.size
    ev = list(map(str, edge_var.tolist()))
    ps = _format_values(p, logp)
    fp, tp = fac_ptr.tolist(), tptr.tolist()
    out = ["MARKOV\n", f"{graph.n_var}\n", " ".join(map(str, graph.card.tolist())) + "\n", f"{n_fac}\n"]
    out.extend(f"{fp[a + 1] - fp[a]} {' '.join(ev[fp[a]:fp[a + 1]])}\n" for a in range(n_fac))
    out.extend(f"\n{tp[a + 1] - tp[a]}\n{' '.join(ps[tp[a]:tp[a + 1]])}\n" for a in range(n_fac))
    return out, hard


# ---------------------------------------------------------------------------------------------
# evidence
def _parse_evidence(path):
    """Pairs from an .evid file: (dict var -> state, dict var -> token index of the var, source)."""
    src = _Source(path)
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
    _atomic_write(path, _evid_text(evidence))


def _apply_evidence(graph: CompiledGraph, evidence, path) -> CompiledGraph:
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


# ---------------------------------------------------------------------------------------------
# libDAI .fg
def _read_fg(path) -> CompiledGraph:
    src = _Source(path, comments=True)
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
    fac_ptr = _ptr(deg)
    ltok = _ragged(kpos + 1, deg)
    ctok = _ragged(kpos + 1 + deg, deg)
    labels = src.check_ints(v[ltok], ltok, "a variable label", 0)
    ecard = v[ctok].astype(INDEX)  # checked during the walk
    if n_fac == 0:
        raise src.error(0, "the file has no factors, hence no variables")
    uniq, edge_var = np.unique(labels, return_inverse=True)
    edge_var = edge_var.astype(INDEX).ravel()
    _check_repeats(src, edge_var, fac_ptr, ltok, label=labels)
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
    want = _table_sizes(ecard, fac_ptr)
    if want.sum() > _MAX_DENSE:
        a = int(np.argmax(want))
        raise src.error(int(kpos[a]), f"factor {a} needs a dense table of {int(want[a])} entries: too large")
    sizes = want.astype(INDEX)
    tptr = _ptr(sizes)
    itok = _ragged(npos + 1, nnz, step=2)
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
    logp[tptr[fac_of] + f2c[flat]] = _log(vals)
    dead = np.flatnonzero(np.maximum.reduceat(logp, tptr[:-1]) == -np.inf)
    if dead.size:
        a = int(dead[0])
        raise src.error(int(npos[a]), f"factor {a} has no nonzero entry (Z = 0)")
    names = tuple(str(x) for x in uniq.tolist())
    return _table_graph(card, fac_ptr, edge_var, tptr, logp, var_names=names)


def _fg_labels(graph: CompiledGraph) -> list:
    names = graph.var_names
    if names is not None and all(isinstance(s, str) and _LABEL.fullmatch(s) for s in names):
        nums = [int(s) for s in names]
        if all(x < y for x, y in itertools.pairwise(nums)):
            return list(names)
    return [str(i) for i in range(graph.n_var)]


def _fg_text(graph: CompiledGraph) -> list:
    extra_vars, extra_rows = _extra_unary(graph, {}, isolated=True)
    deg, fac_ptr, edge_var, tptr, p, logp = _dense(graph, extra_vars, extra_rows)
    n_fac = deg.size
    ecard = graph.card[edge_var]
    f2c = _fortran_to_c(deg, fac_ptr, ecard, tptr)
    sizes = np.diff(tptr)
    start = np.repeat(tptr[:-1], sizes)
    pF = p[start + f2c]  # the tables in Fortran order
    nz = np.flatnonzero(pF)
    kF = (nz - start[nz]).tolist()
    lines = [f"{k} {r}" for k, r in zip(kF, _format_values(pF[nz], logp[start + f2c][nz]))]
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


# ---------------------------------------------------------------------------------------------
# alist
def _read_alist(path) -> CompiledGraph:
    src = _Source(path)
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
    fac_ptr = _ptr(row_w)
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


# ---------------------------------------------------------------------------------------------
# dispatch
def _ext(path) -> str:
    name = os.fspath(path)
    ext = os.path.splitext(name)[1].lower()
    if ext not in SUPPORTED:
        raise ValueError(
            f"unsupported file extension {ext or '(none)'!r} for {name!r}; supported: {', '.join(SUPPORTED)}"
        )
    return ext


def read(path, evidence=None) -> CompiledGraph:
    """Read a factor graph from a ``.uai``, ``.fg`` or ``.alist`` file.

    See the module docstring for the formats and their conventions.

    Parameters
    ----------
    path : str or os.PathLike
        The model file; its extension chooses the format.
    evidence : None, True, str, os.PathLike or mapping, optional
        ``None`` (default): no evidence.  ``True``: read the UAI evidence file
        ``<path>.evid`` (e.g. ``model.uai.evid``).  A path: read that evidence
        file.  A mapping ``{variable: state}``: apply it directly (variables
        by index, or by name for ``.fg`` labels, e.g. ``{"7": 1}``).
        Evidence is hard and lands in ``var_unary``.

    Returns
    -------
    CompiledGraph
        ``.uai``/``.fg``: all factors of type ``table`` (one per file factor,
        file order), ``var_unary`` zero except evidence.  ``.alist``: binary
        variables and hard ``parity`` factors.

    Raises
    ------
    ValueError
        For an unsupported extension (listing the supported ones) and for a
        malformed file, naming the file and line.

    Examples
    --------
    >>> import os, tempfile
    >>> text = "MARKOV\\n2\\n2 3\\n1\\n2 0 1\\n\\n6\\n1 2 3 4 5 6\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "tiny.uai")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text)
    ...     g = read(path)
    ...     ge = read(path, evidence={1: 2})
    >>> g
    CompiledGraph(n_var=2, n_fac=1, n_edge=2, q_max=3, factors: table=1)
    >>> np.exp(g.log_table(0)).round(12).tolist()    # C order: last variable fastest
    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    >>> ge.evidence()
    {1: 2}

    A malformed file names the file and the line:

    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "bad.uai")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text.replace("6\\n1 2", "5\\n1 2"))
    ...     read(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../bad.uai, line 7: expected 6 table entries for factor 0 (...), found 5
    """
    ext = _ext(path)
    reader = {".uai": _read_uai, ".fg": _read_fg, ".alist": _read_alist}[ext]
    graph = reader(path)
    return _apply_evidence(graph, evidence, path)


def write(graph: CompiledGraph, path, evidence_path=None) -> None:
    """Write a compiled graph to a ``.uai``, ``.fg`` or ``.alist`` file (atomically).

    Parameters
    ----------
    graph : CompiledGraph
    path : str or os.PathLike
        Target file; its extension chooses the format.
    evidence_path : None, True, str or os.PathLike, optional
        ``.uai`` only.  Where to write hard evidence as a UAI ``.evid`` file
        (``True``: ``<path>.evid``).  Without it, hard evidence is written as
        0/1 arity-1 factors in the model file.

    Notes
    -----
    Structured factors are written as dense tables and ``var_unary`` rows as
    extra arity-1 factors; potentials are written so that reading them back
    gives the stored log values exactly whenever a float allows it.  The
    module docstring states the exact rules.

    Raises
    ------
    ValueError
        For an unsupported extension, a graph the format cannot hold (alist),
        or a log-potential outside the range of linear floats.

    Examples
    --------
    >>> import os, tempfile
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(card=[2, 3])
    >>> _ = g.add_factor([0, 1], [[1, 2, 3], [4, 5, 0]])
    >>> cg = g.compile()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write(cg, os.path.join(d, "m.uai"))
    ...     print(open(os.path.join(d, "m.uai")).read())
    ...     write(cg, os.path.join(d, "m.fg"))
    ...     print(open(os.path.join(d, "m.fg")).read())
    ...     back = read(os.path.join(d, "m.fg"))
    MARKOV
    2
    2 3
    1
    2 0 1
    <BLANKLINE>
    6
    1.0 2.0 3.0 4.0 5.0 0.0
    <BLANKLINE>
    1
    <BLANKLINE>
    2
    0 1
    2 3
    5
    0 1.0
    1 4.0
    2 2.0
    3 5.0
    4 3.0
    <BLANKLINE>
    >>> np.array_equal(back.log_table(0), cg.log_table(0)), back.var_names
    (True, ('0', '1'))
    """
    if not isinstance(graph, CompiledGraph):
        raise TypeError(f"graph must be a CompiledGraph, got {type(graph).__name__}")
    ext = _ext(path)
    if evidence_path is not None and evidence_path is not False and ext != ".uai":
        raise ValueError(f"evidence_path is only supported for .uai files, not {ext}")
    if ext == ".uai":
        with_evid = evidence_path is not None and evidence_path is not False
        text, hard = _uai_text(graph, with_evid)
        evid = _evid_text(hard) if with_evid else None
        _atomic_write(path, text)
        if evid is not None:
            target = os.fspath(path) + ".evid" if evidence_path is True else evidence_path
            _atomic_write(target, evid)
    elif ext == ".fg":
        _atomic_write(path, _fg_text(graph))
    else:
        _atomic_write(path, _alist_text(graph))


def _atomic_write(path, chunks) -> None:
    """Write text chunks to a temporary file next to ``path``, then replace ``path`` with it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    for _ in range(100):
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
            break
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    else:  # pragma: no cover
        raise OSError(f"could not create a temporary file next to {path!r}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(chunks)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # keep the mode of a file we replace
        except FileNotFoundError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:  # pragma: no cover
            pass
        raise


# ---------------------------------------------------------------------------------------------
# networkx
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
    Wiring.from_edges(n_var, _ptr(deg), edge_var)  # refuses repeated variables in a scope
    return _table_graph(
        card, _ptr(deg), edge_var, _ptr([t.size for t in tables]), logp, var_names=var_names, var_unary=vu
    )


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

