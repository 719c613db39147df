"""Helpers shared by the format modules of :mod:`fgraph.io` (private: only ``fgraph.io`` imports them).

* :class:`Source`: a text file split once into whitespace tokens, with the
  line number of a token found only when an error is reported, and
  vectorised checks that raise ``ValueError("<file>, line <n>: ...")``;
* ragged index arithmetic (:func:`ragged`, :func:`offsets`), scope and table
  checks shared by the table formats (:func:`check_repeats`,
  :func:`table_sizes`) and :func:`table_graph`, which builds a compiled graph
  of dense ``table`` factors;
* the writers' side: :func:`dense_tables` turns every factor (and rows of
  ``var_unary`` picked by :func:`extra_unary`) into dense C-order tables,
  :func:`to_linear` and :func:`format_values` give linear-scale floats and
  their text such that reading them back restores the log values exactly
  whenever a float allows it, and :func:`atomic_write` replaces a file only
  once its new text is complete.
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

__all__ = [
    "COMMENT",
    "TOKEN",
    "Source",
    "atomic_write",
    "check_graph",
    "check_repeats",
    "dense_tables",
    "extra_unary",
    "format_values",
    "offsets",
    "ragged",
    "safe_log",
    "table_graph",
    "table_sizes",
    "to_linear",
]

TOKEN = re.compile(r"\S+")
COMMENT = re.compile(r"#[^\n]*")


class Source:
    """A text file split into whitespace tokens; line numbers are found only on error."""

    def __init__(self, path, comments: bool = False) -> None:
        self.name = os.fspath(path)
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if comments:
            text = COMMENT.sub("", text)  # keeps the newlines, so line numbers stay right
        self.text = text
        self.tokens = text.split()

    def line(self, k: int) -> int:
        """1-based line of token ``k`` (the last line holding a token if ``k`` is past the end)."""
        if k >= len(self.tokens):
            return self.text.rstrip().count("\n") + 1
        m = next(itertools.islice(TOKEN.finditer(self.text), int(k), None))
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


def ragged(starts, lengths, step: int = 1) -> np.ndarray:
    """Concatenated ``range(s, s + step * n, step)`` for every (s, n), int64."""
    starts = np.asarray(starts, dtype=INDEX)
    lengths = np.asarray(lengths, dtype=INDEX)
    total = int(lengths.sum()) if lengths.size else 0
    if total == 0:
        return np.zeros(0, dtype=INDEX)
    offs = np.cumsum(lengths) - lengths
    return np.repeat(starts - step * offs, lengths) + step * np.arange(total, dtype=INDEX)


def offsets(sizes) -> np.ndarray:
    """Start offsets of consecutive blocks of the given sizes, with the total at the end: int64 (n + 1,)."""
    sizes = np.asarray(sizes, dtype=INDEX)
    ptr = np.zeros(sizes.size + 1, dtype=INDEX)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


def check_repeats(src: Source, edge_var, fac_ptr, tok, label=None) -> None:
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


def table_sizes(ecard, fac_ptr) -> np.ndarray:
    """Product of the scope cardinalities of every factor, float64 (exact below 2**53)."""
    n_fac = fac_ptr.size - 1
    if n_fac == 0:
        return np.zeros(0, dtype=FLOAT)
    return np.multiply.reduceat(ecard.astype(FLOAT), fac_ptr[:-1])


def table_graph(card, fac_ptr, edge_var, tptr, logp, var_names=None, var_unary=None) -> CompiledGraph:
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


def safe_log(p: np.ndarray) -> np.ndarray:
    """``log(p)`` without a divide-by-zero warning (``log(0) = -inf``)."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def to_linear(logp: np.ndarray, where) -> np.ndarray:
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


def format_values(p: np.ndarray, logp: np.ndarray) -> list:
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


def extra_unary(graph: CompiledGraph, hard: dict, isolated: bool):
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


def dense_tables(graph: CompiledGraph, extra_vars, extra_rows):
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
    tptr = offsets(sizes)
    logp = np.concatenate([logp0, *extra_rows]) if extra_rows else logp0

    def where(k):
        a = int(np.searchsorted(tptr, k, side="right") - 1)
        if a < n_fac:
            return f"factor {a} ({graph.describe_factor(a)})"
        return f"the evidence (var_unary) of variable {int(extra_vars[a - n_fac])}"

    return deg, offsets(deg), edge_var, tptr, to_linear(logp, where), logp


def check_graph(graph) -> None:
    """Writers take a :class:`~fgraph.compiled.CompiledGraph`; anything else is a TypeError."""
    if not isinstance(graph, CompiledGraph):
        raise TypeError(f"graph must be a CompiledGraph, got {type(graph).__name__}")


def atomic_write(path, chunks) -> None:
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
