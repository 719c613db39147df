"""FactorGraph: the mutable builder.  ``compile()`` freezes it into arrays.

Every ``add_*`` method accepts one item or a batch (arrays) and validates in a
vectorised way, so a graph with millions of factors builds in seconds.  Errors
name the offending item: the builder's factor id (the value ``add_*`` returned)
and its scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .compiled import CompiledGraph
from .dtypes import FLOAT, INDEX, as_float, as_index, readonly
from .factors import (
    check_log_values,
    factor_type_names,
    freeze_params,
    get_factor_type,
    int_rows,
    probs_to_log,
    scalar_rows,
)
from .wiring import Wiring

__all__ = ["FactorGraph"]


@dataclass
class _Chunk:
    kind: str
    first: int  # builder id of the first factor
    deg: np.ndarray  # int64 (F,)
    edge_var: np.ndarray  # int64 (sum deg,)
    params: dict


class FactorGraph:
    """Mutable factor-graph builder; :meth:`compile` gives a frozen :class:`CompiledGraph`.

    Variables are integers ``0..n_var-1`` in creation order.  Factors get
    builder ids ``0..n_fac-1`` in creation order; compile groups them by type
    (``CompiledGraph.fac_origin`` maps back).

    Examples
    --------
    A three-spin ferromagnetic chain with a field, then an XOR check:

    >>> import numpy as np
    >>> g = FactorGraph()
    >>> x = g.add_variables(3)                       # binary by default
    >>> ids = g.add_ising([[0, 1], [1, 2]], J=1.0)    # two couplings, one call
    >>> g.add_field(x, 0.1)
    >>> _ = g.add_parity([0, 1, 2], weight=2.0)       # soft XOR
    >>> _ = g.add_factor([2], [0.3, 0.7])             # a table, as probabilities
    >>> cg = g.compile()
    >>> cg.n_var, cg.n_fac, cg.types
    (3, 4, ('table', 'ising', 'parity'))
    """

    def __init__(self) -> None:
        self._cards: list[np.ndarray] = []
        self._n_var = 0
        self._names: dict[int, str] = {}
        self._chunks: list[_Chunk] = []
        self._n_fac = 0
        self._soft: list[tuple[np.ndarray, np.ndarray]] = []  # (vars, log values (k, q))
        self._evidence: dict[int, int] = {}

    # ------------------------------------------------------------- variables
    @property
    def n_var(self) -> int:
        return self._n_var

    @property
    def n_fac(self) -> int:
        return self._n_fac

    def add_variable(self, card: int = 2, name: str | None = None) -> int:
        """Add one variable with ``card`` states; return its id.

        Examples
        --------
        >>> g = FactorGraph(); g.add_variable(3, name="colour")
        0
        """
        return int(self.add_variables(1, card, None if name is None else [name])[0])

    def add_variables(self, n=None, card=2, names=None) -> np.ndarray:
        """Add ``n`` variables at once; ``card`` is a scalar or one per variable.

        Parameters
        ----------
        n : int, optional
            Number of variables (default: ``len(card)``).
        card : int or array_like of int
            Cardinalities, each >= 1.
        names : sequence of str, optional

        Returns
        -------
        ndarray of int64, shape (n,)
            The new variable ids.

        Examples
        --------
        >>> g = FactorGraph(); g.add_variables(card=[2, 3, 4]).tolist()
        [0, 1, 2]
        """
        c = as_index(card, "card")
        if n is None:
            if c.ndim != 1:
                raise ValueError("give n, or card as an array with one entry per variable")
            n = c.size
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        c = np.broadcast_to(c, (n,)).copy() if c.ndim == 0 else c
        if c.shape != (n,):
            raise ValueError(f"card must be a scalar or have shape ({n},), got shape {c.shape}")
        if c.size and c.min() < 1:
            k = int(np.flatnonzero(c < 1)[0])
            raise ValueError(f"cardinality must be >= 1; variable {self._n_var + k} has card {int(c[k])}")
        ids = np.arange(self._n_var, self._n_var + n, dtype=INDEX)
        if names is not None:
            names = list(names)
            if len(names) != n:
                raise ValueError(f"names must have {n} entries, got {len(names)}")
            for i, nm in zip(ids, names):
                if not isinstance(nm, str) or not nm:
                    raise TypeError(f"variable names must be non-empty strings, got {nm!r}")
                self._names[int(i)] = nm
        self._cards.append(c.astype(INDEX, copy=True))
        self._n_var += n
        return ids

    def cards(self) -> np.ndarray:
        """Cardinalities of the variables so far, int64 (n_var,)."""
        if not self._cards:
            return np.zeros(0, dtype=INDEX)
        if len(self._cards) > 1:
            self._cards = [np.concatenate(self._cards)]
        return self._cards[0]

    # ------------------------------------------------------------ internals
    def _check_scopes(self, deg: np.ndarray, edge_var: np.ndarray, what: str) -> None:
        """Range and repeat checks on ragged scopes (vectorised)."""
        F = deg.size
        if np.any(deg < 1):
            k = int(np.flatnonzero(deg < 1)[0])
            raise ValueError(f"{what} {self._n_fac + k} has an empty scope")
        if edge_var.size == 0:
            return
        bad = (edge_var < 0) | (edge_var >= self._n_var)
        if np.any(bad):
            e = int(np.flatnonzero(bad)[0])
            k = int(np.searchsorted(np.cumsum(deg), e, side="right"))
            raise ValueError(
                f"{what} {self._n_fac + k} refers to unknown variable {int(edge_var[e])} "
                f"(the graph has {self._n_var} variables)"
            )
        if np.all(deg == 2):
            pairs = edge_var.reshape(F, 2)
            rep = np.flatnonzero(pairs[:, 0] == pairs[:, 1])
            if rep.size:
                k = int(rep[0])
                raise ValueError(
                    f"{what} {self._n_fac + k} repeats variable {int(pairs[k, 0])} in its scope "
                    f"{pairs[k].tolist()}"
                )
            return
        fac = np.repeat(np.arange(F, dtype=INDEX), deg)
        key = fac * self._n_var + edge_var
        srt = np.sort(key)
        dup = np.flatnonzero(srt[1:] == srt[:-1])
        if dup.size:
            k, i = divmod(int(srt[dup[0]]), self._n_var)
            raise ValueError(f"{what} {self._n_fac + k} repeats variable {i} in its scope")

    def _append(self, kind: str, deg: np.ndarray, edge_var: np.ndarray, params: dict):
        first = self._n_fac
        self._chunks.append(_Chunk(kind, first, deg.astype(INDEX, copy=False), edge_var.copy(), params))
        self._n_fac += deg.size
        return np.arange(first, first + deg.size, dtype=INDEX)

    @staticmethod
    def _pairs(edges, what: str) -> tuple[np.ndarray, bool]:
        e = as_index(edges, what)
        single = e.ndim == 1
        e = np.atleast_2d(e)
        if e.ndim != 2 or e.shape[1] != 2:
            raise ValueError(f"{what} must have shape (2,) or (E, 2), got {np.shape(edges)}")
        return e, single

    @staticmethod
    def _ret(ids: np.ndarray, single: bool):
        return int(ids[0]) if single else ids

    def _log_tables(self, table, log_table, shape_rows, what: str) -> np.ndarray:
        if (table is None) == (log_table is None):
            raise TypeError(f"{what}: give exactly one of table (potentials) or log_table")
        if table is not None:
            arr = as_float(table, "table")
            return probs_to_log(arr, what), arr
        arr = as_float(log_table, "log_table")
        check_log_values(arr, what)
        return arr.copy(), arr

    # --------------------------------------------------------------- factors
    def add_factor(self, scope, table=None, *, log_table=None) -> int:
        """Add a dense table factor on ``scope`` (any arity, argument order kept).

        Parameters
        ----------
        scope : sequence of int
            Variables, in the order of the table's axes.
        table : array_like, shape ``(card[scope[0]], ..., card[scope[-1]])``
            Non-negative potentials (zeros allowed, not all zero).
        log_table : array_like, same shape
            Log-potentials instead (``-inf`` allowed).

        Returns
        -------
        int
            Builder id of the factor.

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(card=[2, 3])
        >>> g.add_factor([0, 1], [[1, 2, 3], [4, 5, 6]])
        0
        """
        s = as_index(scope, "scope", ndim=1)
        t = np.asarray(table if table is not None else log_table)
        return int(
            self.add_factors(
                s[None, :],
                None if table is None else t[None],
                log_tables=None if log_table is None else t[None],
            )[0]
        )

    def add_factors(self, scopes, tables=None, *, log_tables=None) -> np.ndarray:
        """Add many dense table factors of one arity in one call.

        Parameters
        ----------
        scopes : array_like of int, shape (F, k)
        tables : array_like, shape (F, q_1, ..., q_k) or (q_1, ..., q_k)
            Potentials; a single table (no leading F axis) is shared by all F.
        log_tables : array_like
            Log-potentials instead.

        Returns
        -------
        ndarray of int64, shape (F,)

        Examples
        --------
        >>> import numpy as np
        >>> g = FactorGraph(); _ = g.add_variables(4)
        >>> g.add_factors([[0, 1], [1, 2], [2, 3]], np.ones((2, 2))).tolist()
        [0, 1, 2]
        """
        S = as_index(scopes, "scopes", ndim=2)
        F, k = S.shape
        what = "factor"
        logt, raw = self._log_tables(tables, log_tables, F, what)
        deg = np.full(F, k, dtype=INDEX)
        self._check_scopes(deg, S.ravel(), what)
        if F == 0:
            return np.zeros(0, dtype=INDEX)
        cards = self.cards()[S]  # (F, k)
        if np.any(cards != cards[0]):
            # Mixed cardinalities within one batch (rare: e.g. files): one factor at a time.
            if logt.ndim == k:
                raise ValueError("a shared table needs every factor's scope to have the same cardinalities")
            if logt.shape[0] != F:
                raise ValueError(f"tables must have a leading axis of length {F}, got shape {raw.shape}")
            ids = np.empty(F, dtype=INDEX)
            for f in range(F):
                ids[f] = self._add_table_block(S[f : f + 1], logt[f : f + 1], cards[f], what)[0]
            return ids
        shape = tuple(int(c) for c in cards[0])
        if logt.shape == shape:
            logt = np.broadcast_to(logt, (F,) + shape)
        if logt.shape != (F,) + shape:
            raise ValueError(
                f"table shape {raw.shape[1:] if raw.ndim == k + 1 else raw.shape} does not match "
                f"the scope cardinalities {list(shape)}"
            )
        return self._add_table_block(S, logt, cards[0], what)

    def _add_table_block(self, S, logt, cards, what, kind="table"):
        F = S.shape[0]
        shape = tuple(int(c) for c in cards)
        if logt.shape != (F,) + shape:
            raise ValueError(
                f"{what} {self._n_fac}: table shape {logt.shape[1:]} does not match the scope "
                f"cardinalities {list(shape)} of scope {S[0].tolist()}"
            )
        flat = np.ascontiguousarray(logt, dtype=FLOAT).reshape(F, -1)
        dead = np.flatnonzero(np.all(np.isneginf(flat), axis=1)) if flat.shape[1] else np.arange(F)
        if dead.size:
            k = int(dead[0])
            raise ValueError(
                f"{what} {self._n_fac + k} on scope {S[k].tolist()} is zero everywhere (Z = 0)"
            )
        size = flat.shape[1]
        ptr = np.arange(F + 1, dtype=INDEX) * size
        deg = np.full(F, S.shape[1], dtype=INDEX)
        return self._append(kind, deg, S.ravel(), {"ptr": ptr, "logp": flat.ravel().copy()})

    def add_unary(self, var, table=None, *, log_table=None):
        """Add unary factor(s) (type ``unary``), kept as factors, not folded into evidence.

        ``var`` is an int (``table`` of shape (q,)) or an array of F variables of
        equal cardinality (``table`` of shape (F, q) or (q,)).

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(2)
        >>> g.add_unary(0, [0.2, 0.8])
        0
        """
        v = as_index(var, "var")
        single = v.ndim == 0
        v = np.atleast_1d(v)
        if v.ndim != 1:
            raise ValueError("var must be an int or a 1-D array of variables")
        logt, _ = self._log_tables(table, log_table, v.size, "unary factor")
        self._check_scopes(np.ones(v.size, dtype=INDEX), v, "unary factor")
        if v.size == 0:
            return np.zeros(0, dtype=INDEX)
        cards = self.cards()[v]
        if np.any(cards != cards[0]):
            raise ValueError("add_unary batches need variables of equal cardinality")
        q = int(cards[0])
        if logt.shape == (q,):
            logt = np.broadcast_to(logt, (v.size, q))
        ids = self._add_table_block(v[:, None], logt, cards[:1], "unary factor", kind="unary")
        return self._ret(ids, single)

    def add_ising(self, edges, J=1.0):
        """Add Ising couplings ``exp(J s_i s_j)`` (``s = 2x - 1``) on binary variables.

        Parameters
        ----------
        edges : array_like of int, shape (2,) or (E, 2)
        J : float or array_like of float, shape (E,)

        Returns
        -------
        int or ndarray of int64, shape (E,)

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(3)
        >>> g.add_ising([[0, 1], [1, 2]], J=[0.5, -0.5]).tolist()
        [0, 1]
        """
        e, single = self._pairs(edges, "edges")
        Jr = scalar_rows(J, e.shape[0], "J")
        if not np.all(np.isfinite(Jr)):
            k = int(np.flatnonzero(~np.isfinite(Jr))[0])
            raise ValueError(f"coupling J[{k}] = {float(Jr[k])!r} of edge {e[k].tolist()} is not finite")
        deg = np.full(e.shape[0], 2, dtype=INDEX)
        self._check_scopes(deg, e.ravel(), "ising factor")
        c = self.cards()
        if e.size and np.any(c[e] != 2):
            k = int(np.flatnonzero(np.any(c[e] != 2, axis=1))[0])
            raise ValueError(
                f"ising factor on {e[k].tolist()} needs binary variables, cards {c[e[k]].tolist()}"
            )
        return self._ret(self._append("ising", deg, e.ravel(), {"J": Jr}), single)

    def add_potts(self, edges, J=1.0):
        """Add Potts couplings ``exp(J [x_i == x_j])`` (variables of equal cardinality).

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(2, card=3)
        >>> g.add_potts([0, 1], J=1.0)
        0
        """
        e, single = self._pairs(edges, "edges")
        Jr = scalar_rows(J, e.shape[0], "J")
        if not np.all(np.isfinite(Jr)):
            k = int(np.flatnonzero(~np.isfinite(Jr))[0])
            raise ValueError(f"coupling J[{k}] = {float(Jr[k])!r} of edge {e[k].tolist()} is not finite")
        deg = np.full(e.shape[0], 2, dtype=INDEX)
        self._check_scopes(deg, e.ravel(), "potts factor")
        c = self.cards()
        if e.size and np.any(c[e[:, 0]] != c[e[:, 1]]):
            k = int(np.flatnonzero(c[e[:, 0]] != c[e[:, 1]])[0])
            raise ValueError(f"potts factor on {e[k].tolist()} joins cardinalities {c[e[k]].tolist()}")
        return self._ret(self._append("potts", deg, e.ravel(), {"J": Jr}), single)

    def add_parity(self, scopes, weight=math.inf, target=0):
        """Add parity (XOR) checks on binary variables.

        ``psi(x) = 1`` if ``sum(x) % 2 == target`` else ``exp(-weight)``;
        ``weight=inf`` (default) is a hard check.

        Parameters
        ----------
        scopes : sequence of int (one check), list of sequences, (F, k) array,
            or a parity-check matrix (dense 2-D 0/1 array or scipy sparse) via
            :meth:`add_parity_checks`.
        weight : float or array_like, shape (F,)
        target : int or array_like, shape (F,)

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(4)
        >>> g.add_parity([[0, 1, 2], [1, 2, 3]]).tolist()
        [0, 1]
        >>> g.add_parity([0, 3], weight=1.5)
        2
        """
        single = False
        if isinstance(scopes, np.ndarray) and scopes.ndim == 2:
            S = as_index(scopes, "scopes")
            deg = np.full(S.shape[0], S.shape[1], dtype=INDEX)
            flat = S.ravel()
        else:
            seq = list(scopes)
            if seq and all(isinstance(s, (int, np.integer)) for s in seq):
                seq, single = [seq], True
            lists = [as_index(s, "scope", ndim=1) for s in seq]
            deg = np.array([s.size for s in lists], dtype=INDEX)
            flat = np.concatenate(lists) if lists else np.zeros(0, dtype=INDEX)
        return self._ret(self._add_parity_ragged(deg, flat, weight, target), single)

    def add_parity_checks(self, H, weight=math.inf, target=0) -> np.ndarray:
        """Add one hard (or soft) parity check per row of a parity-check matrix.

        Parameters
        ----------
        H : array_like or scipy.sparse matrix, shape (m, n_var)
            Nonzero entries mark the variables of each check.

        Returns
        -------
        ndarray of int64, shape (m,)

        Examples
        --------
        >>> import numpy as np
        >>> g = FactorGraph(); _ = g.add_variables(3)
        >>> g.add_parity_checks(np.array([[1, 1, 0], [0, 1, 1]])).tolist()
        [0, 1]
        """
        import scipy.sparse as sp

        # copy=True: canonicalising below must never rewrite the caller's matrix.
        Hc = sp.csr_array(H, copy=True)
        if Hc.ndim != 2:
            raise ValueError(f"H must be 2-D, got shape {Hc.shape}")
        Hc.sum_duplicates()
        Hc.eliminate_zeros()
        if Hc.nnz and np.any(Hc.data != 1):
            raise ValueError("H must hold only 0/1 entries (a parity-check matrix over GF(2))")
        if Hc.shape[1] > self._n_var:
            raise ValueError(f"H has {Hc.shape[1]} columns but the graph has {self._n_var} variables")
        Hc.sort_indices()
        deg = np.diff(Hc.indptr).astype(INDEX)
        return self._add_parity_ragged(deg, Hc.indices.astype(INDEX), weight, target)

    def _add_parity_ragged(self, deg, flat, weight, target):
        F = deg.size
        w = scalar_rows(weight, F, "weight")
        t = int_rows(target, F, "target")
        if np.any(np.isnan(w) | (w < 0)):
            k = int(np.flatnonzero(np.isnan(w) | (w < 0))[0])
            raise ValueError(
                f"parity factor {self._n_fac + k}: weight {float(w[k])!r} must be >= 0 (inf = hard)"
            )
        if np.any((t != 0) & (t != 1)):
            k = int(np.flatnonzero((t != 0) & (t != 1))[0])
            raise ValueError(f"parity factor {self._n_fac + k}: target {int(t[k])} must be 0 or 1")
        self._check_scopes(deg, flat, "parity factor")
        c = self.cards()
        if flat.size and np.any(c[flat] != 2):
            e = int(np.flatnonzero(c[flat] != 2)[0])
            raise ValueError(
                f"parity factors need binary variables; variable {int(flat[e])} has card {int(c[flat[e]])}"
            )
        return self._append("parity", deg, flat, {"weight": w, "target": t})

    def add(self, kind: str, scopes, **params) -> np.ndarray:
        """Add factors of any registered type (including user-defined ones).

        Parameters
        ----------
        kind : str
            Registered factor type name.
        scopes : array_like of int, shape (F, k)
        **params : array_like
            One array per parameter, first axis of length F (one row per factor).

        Returns
        -------
        ndarray of int64, shape (F,)

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(2)
        >>> g.add("ising", [[0, 1]], J=[0.3]).tolist()
        [0]
        """
        ft = get_factor_type(kind)
        S = as_index(scopes, "scopes", ndim=2)
        F = S.shape[0]
        deg = np.full(F, S.shape[1], dtype=INDEX)
        self._check_scopes(deg, S.ravel(), f"{kind} factor")
        rows = {}
        for k, v in params.items():
            arr = np.asarray(v)
            if arr.ndim == 0 or arr.shape[0] != F:
                raise ValueError(f"parameter {k!r} needs a first axis of length {F}, got shape {arr.shape}")
            rows[k] = arr.copy()
        if "ptr" in rows:
            raise ValueError("ragged parameters are not accepted by add(); use add_factor for tables")
        ptr = np.arange(F + 1, dtype=INDEX) * S.shape[1]
        ft.check_block(rows, ptr, self.cards()[S.ravel()], np.arange(F, dtype=INDEX))
        return self._append(kind, deg, S.ravel(), rows)

    # --------------------------------------------------------------- evidence
    def add_field(self, var, h) -> None:
        """Add Ising fields ``exp(h s_i)`` (``s = 2x - 1``) to binary variables' evidence.

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(2)
        >>> g.add_field([0, 1], [0.5, -0.5])
        >>> g.compile().var_unary.tolist()
        [[-0.5, 0.5], [0.5, -0.5]]
        """
        v = np.atleast_1d(as_index(var, "var"))
        hr = scalar_rows(h, v.size, "h")
        if not np.all(np.isfinite(hr)):
            raise ValueError("fields h must be finite")
        self._check_vars(v, "field")
        if np.any(self.cards()[v] != 2):
            k = int(np.flatnonzero(self.cards()[v] != 2)[0])
            raise ValueError(f"a field needs a binary variable; variable {int(v[k])} is not binary")
        self._soft.append((v, np.stack([-hr, hr], axis=1)))

    def add_log_evidence(self, var, log_values) -> None:
        """Add soft evidence ``log phi_i(x)`` to variable(s) (summed with earlier evidence).

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(2, card=3)
        >>> g.add_log_evidence([0, 1], [0.0, -1.0, -2.0])
        >>> g.compile().var_unary[1].tolist()
        [0.0, -1.0, -2.0]

        ``var`` is an int with ``log_values`` of shape (card,), or an array of F
        variables of equal cardinality with values (F, card).
        """
        v = np.atleast_1d(as_index(var, "var"))
        self._check_vars(v, "evidence")
        lv = as_float(log_values, "log_values")
        q = int(self.cards()[v[0]]) if v.size else 0
        if np.any(self.cards()[v] != q):
            raise ValueError("add_log_evidence batches need variables of equal cardinality")
        lv = np.broadcast_to(lv, (v.size, q)) if lv.shape == (q,) else lv
        if lv.shape != (v.size, q):
            raise ValueError(f"log_values must have shape ({v.size}, {q}), got {lv.shape}")
        check_log_values(lv, "log evidence")
        if v.size and np.any(np.all(np.isneginf(lv), axis=1)):
            k = int(np.flatnonzero(np.all(np.isneginf(lv), axis=1))[0])
            raise ValueError(f"evidence on variable {int(v[k])} is zero in every state (Z = 0)")
        self._soft.append((v, np.array(lv, dtype=FLOAT)))

    def set_evidence(self, evidence) -> None:
        """Observe variables: ``{var: state}`` (hard evidence, kept in ``var_unary``).

        Examples
        --------
        >>> g = FactorGraph(); _ = g.add_variables(2)
        >>> g.set_evidence({1: 0})
        >>> g.compile().evidence()
        {1: 0}
        """
        if not hasattr(evidence, "items"):
            raise TypeError(f"evidence must be a mapping {{variable: state}}, got {type(evidence).__name__}")
        c = self.cards()
        for var, state in evidence.items():
            if isinstance(var, bool) or not isinstance(var, (int, np.integer)):
                raise TypeError(f"evidence variable must be an int, got {var!r}")
            if isinstance(state, bool) or not isinstance(state, (int, np.integer)):
                raise TypeError(f"evidence state of variable {var} must be an int, got {state!r}")
            if not 0 <= var < self._n_var:
                raise ValueError(f"evidence names unknown variable {var} (the graph has {self._n_var})")
            if not 0 <= state < c[var]:
                raise ValueError(f"evidence state {state} of variable {var} is outside 0..{int(c[var]) - 1}")
            old = self._evidence.get(int(var))
            if old is not None and old != state:
                raise ValueError(f"variable {var} already observed in state {old}, cannot also be {state}")
            self._evidence[int(var)] = int(state)

    def _check_vars(self, v: np.ndarray, what: str) -> None:
        if v.size and (v.min() < 0 or v.max() >= self._n_var):
            k = int(np.flatnonzero((v < 0) | (v >= self._n_var))[0])
            raise ValueError(f"{what} names unknown variable {int(v[k])} (the graph has {self._n_var})")

    # ---------------------------------------------------------------- compile
    def compile(self) -> CompiledGraph:
        """Freeze the graph into a :class:`CompiledGraph` (read-only arrays).

        Factors are grouped by type (registration order of the types), stable
        within a type.

        Raises
        ------
        ValueError
            If the graph has no variables, or the evidence leaves a variable with
            zero weight in every state.

        Examples
        --------
        >>> g = FactorGraph()
        >>> g.compile()
        Traceback (most recent call last):
        ...
        ValueError: empty graph: add at least one variable before compile()
        """
        if self._n_var == 0:
            raise ValueError("empty graph: add at least one variable before compile()")
        card = self.cards()
        q_max = int(card.max())
        # ---- factors grouped by type
        order = {name: k for k, name in enumerate(factor_type_names())}
        kinds = sorted({c.kind for c in self._chunks}, key=lambda k: order[k])
        types, type_ptr, params, degs, evs, origins = [], [0], [], [], [], []
        for kind in kinds:
            chunks = [c for c in self._chunks if c.kind == kind]
            ft = get_factor_type(kind)
            types.append(kind)
            params.append(freeze_params(ft.concat([c.params for c in chunks])))
            for c in chunks:
                degs.append(c.deg)
                evs.append(c.edge_var)
                origins.append(np.arange(c.first, c.first + c.deg.size, dtype=INDEX))
            type_ptr.append(type_ptr[-1] + sum(c.deg.size for c in chunks))
        deg = np.concatenate(degs) if degs else np.zeros(0, dtype=INDEX)
        fac_ptr = np.zeros(deg.size + 1, dtype=INDEX)
        np.cumsum(deg, out=fac_ptr[1:])
        edge_var = np.concatenate(evs) if evs else np.zeros(0, dtype=INDEX)
        wiring = Wiring.from_edges(self._n_var, fac_ptr, edge_var, check=False)
        # fac_param: row index within the block = position within the type
        fac_param = np.concatenate(
            [np.arange(type_ptr[t + 1] - type_ptr[t], dtype=INDEX) for t in range(len(types))]
        ) if types else np.zeros(0, dtype=INDEX)
        # ---- evidence
        vu = np.zeros((self._n_var, q_max), dtype=FLOAT)
        vu[np.arange(q_max)[None, :] >= card[:, None]] = -np.inf
        for v, lv in self._soft:
            np.add.at(vu[:, : lv.shape[1]], v, lv)
        for var, state in self._evidence.items():
            keep = vu[var, state]
            vu[var, :] = -np.inf
            vu[var, state] = keep
        dead = np.all(np.isneginf(vu), axis=1)
        if np.any(dead):
            i = int(np.flatnonzero(dead)[0])
            raise ValueError(f"variable {i} has zero evidence in every state (Z = 0)")
        names = None
        if self._names:
            names = tuple(self._names.get(i, str(i)) for i in range(self._n_var))
        return CompiledGraph(
            wiring=wiring,
            card=readonly(card.copy()),
            var_unary=readonly(vu),
            types=tuple(types),
            type_ptr=readonly(np.array(type_ptr, dtype=INDEX)),
            params=tuple(params),
            fac_param=readonly(fac_param),
            fac_origin=readonly(np.concatenate(origins) if origins else np.zeros(0, dtype=INDEX)),
            var_names=names,
        )

    def __repr__(self) -> str:
        return f"FactorGraph(n_var={self._n_var}, n_fac={self._n_fac})"
