"""CompiledGraph: a factor graph frozen into read-only arrays.

Layout (all arrays read-only):

* ``wiring`` -- the :class:`~fgraph.wiring.Wiring` (topology, factor-major edges);
* ``card`` int64 (n_var,) -- cardinality of each variable (mixed allowed);
* ``var_unary`` float64 (n_var, q_max) -- log-evidence ``log phi_i(x)`` of each
  variable; entries ``x >= card[i]`` are ``-inf`` padding;
* factors are sorted by type: the factors of type ``types[t]`` are
  ``type_ptr[t]:type_ptr[t+1]``; ``params[t]`` is that type's parameter block and
  factor ``a`` reads row ``fac_param[a]`` of it (lifted copies share rows);
* ``fac_origin`` int64 (n_fac,) -- the builder's id of each compiled factor
  (compile groups factors by type, stable within a type).

Messages of the engines are ``(n_edge, q_max)`` log arrays padded with ``-inf``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from .dtypes import FLOAT, INDEX, FrozenPickle, as_index, readonly
from .factors import FactorType, freeze_params, get_factor_type
from .wiring import Wiring

__all__ = ["CompiledGraph"]


@dataclass(frozen=True, eq=False)
class CompiledGraph(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """A frozen factor graph, ready for the algorithms.

    Build one with :class:`fgraph.FactorGraph` and ``compile()`` or with a reader
    (:func:`fgraph.read`) or a problem builder (:mod:`fgraph.problems`).

    Attributes
    ----------
    wiring : Wiring
    card : ndarray of int64, shape (n_var,)
    var_unary : ndarray of float64, shape (n_var, q_max)
    types : tuple of str
        Factor type names, one per block, in block order.
    type_ptr : ndarray of int64, shape (len(types) + 1,)
    params : tuple of mapping
        Parameter block of each type (read-only arrays).
    fac_param : ndarray of int64, shape (n_fac,)
    fac_origin : ndarray of int64, shape (n_fac,)
    var_names : tuple of str or None

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph()
    >>> x = g.add_variables(3)
    >>> _ = g.add_ising([[0, 1], [1, 2]], J=0.5)
    >>> cg = g.compile()
    >>> cg.n_var, cg.n_fac, cg.n_edge, cg.types
    (3, 2, 4, ('ising',))
    >>> cg.log_table(0).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    """

    wiring: Wiring
    card: np.ndarray
    var_unary: np.ndarray
    types: tuple
    type_ptr: np.ndarray
    params: tuple
    fac_param: np.ndarray
    fac_origin: np.ndarray
    var_names: tuple | None = field(default=None)

    # ---------------------------------------------------------------- topology
    @property
    def n_var(self) -> int:
        return self.wiring.n_var

    @property
    def n_fac(self) -> int:
        return self.wiring.n_fac

    @property
    def n_edge(self) -> int:
        return self.wiring.n_edge

    @property
    def edge_var(self) -> np.ndarray:
        return self.wiring.edge_var

    @property
    def edge_fac(self) -> np.ndarray:
        return self.wiring.edge_fac

    @property
    def fac_ptr(self) -> np.ndarray:
        return self.wiring.fac_ptr

    @property
    def var_ptr(self) -> np.ndarray:
        return self.wiring.var_ptr

    @property
    def var_edges(self) -> np.ndarray:
        return self.wiring.var_edges

    @property
    def q_max(self) -> int:
        """Largest cardinality (the width of message arrays)."""
        return int(self.var_unary.shape[1])

    def scope(self, a: int) -> np.ndarray:
        """Variables of factor ``a`` in argument order, int64 (deg(a),)."""
        return self.wiring.scope(a)

    def scope_cards(self, a: int) -> np.ndarray:
        """Cardinalities of the scope of factor ``a``, int64 (deg(a),)."""
        return self.card[self.wiring.scope(a)]

    def type_index(self, a) -> np.ndarray | int:
        """Block index of factor(s) ``a``."""
        t = np.searchsorted(self.type_ptr, a, side="right") - 1
        return int(t) if np.ndim(t) == 0 else t

    def factor_type(self, a: int) -> FactorType:
        """The :class:`FactorType` of factor ``a``."""
        self._check_fac(a)
        return get_factor_type(self.types[self.type_index(a)])

    def _check_fac(self, a) -> None:
        if not (0 <= int(a) < self.n_fac):
            raise IndexError(f"factor {a} out of range 0..{self.n_fac - 1}")

    def log_table(self, a: int) -> np.ndarray:
        """Dense log-potential of factor ``a`` over its scope (argument order).

        Returns
        -------
        ndarray of float64, shape ``tuple(scope_cards(a))``
        """
        self._check_fac(a)
        t = self.type_index(a)
        ft = get_factor_type(self.types[t])
        return ft.log_table(self.params[t], int(self.fac_param[a]), self.scope_cards(a))

    def describe_factor(self, a: int) -> str:
        """One-line description of factor ``a`` (type and parameters)."""
        t = self.type_index(a)
        return get_factor_type(self.types[t]).describe(self.params[t], int(self.fac_param[a]))

    def factors_of_type(self, name: str) -> np.ndarray:
        """Ids of the factors of type ``name`` (empty if none), int64."""
        if name not in self.types:
            return np.zeros(0, dtype=INDEX)
        t = self.types.index(name)
        return np.arange(self.type_ptr[t], self.type_ptr[t + 1], dtype=INDEX)

    # --------------------------------------------------------------- evidence
    def evidence(self) -> dict:
        """Hard evidence: variables whose ``var_unary`` allows exactly one state.

        Examples
        --------
        >>> import fgraph
        >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
        >>> g.set_evidence({2: 1})
        >>> g.compile().evidence()
        {2: 1}"""
        finite = np.isfinite(self.var_unary)
        one = np.flatnonzero(finite.sum(axis=1) == 1)
        multi = one[self.card[one] > 1]
        return {int(i): int(np.flatnonzero(finite[i])[0]) for i in multi}

    def with_evidence(self, evidence) -> CompiledGraph:
        """Return a copy conditioned on ``evidence`` (``{var: state}``).

        Variables named by ``var_names`` may be given by name.

        Examples
        --------
        >>> import fgraph
        >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
        >>> _ = g.add_ising([0, 1], J=1.0)
        >>> cg = g.compile().with_evidence({0: 1})
        >>> cg.var_unary[0].tolist()
        [-inf, 0.0]
        """
        vu = np.array(self.var_unary)
        for var, state in _evidence_items(evidence, self):
            if np.isneginf(vu[var, state]):
                raise ValueError(f"evidence {var}={state} has zero weight (Z = 0)")
            keep = vu[var, state]
            vu[var, :] = -np.inf
            vu[var, state] = keep
        return replace(self, var_unary=readonly(vu))

    # ---------------------------------------------------------------- scoring
    def log_score(self, x) -> np.ndarray | float:
        """Unnormalised log-weight ``sum_a log psi_a + sum_i log phi_i`` of states.

        Parameters
        ----------
        x : array_like of int, shape (n_var,) or (S, n_var)

        Returns
        -------
        float or ndarray of float64, shape (S,)

        Examples
        --------
        >>> import fgraph
        >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
        >>> _ = g.add_ising([0, 1], J=1.0)
        >>> g.compile().log_score([[0, 0], [0, 1]]).tolist()
        [1.0, -1.0]
        """
        xs = as_index(x, "x")
        single = xs.ndim == 1
        xs = np.atleast_2d(xs)
        if xs.shape[1] != self.n_var:
            raise ValueError(f"x must have {self.n_var} columns, got shape {xs.shape}")
        if np.any(xs < 0) or np.any(xs >= self.card):
            raise ValueError("x holds a state outside its variable's cardinality")
        S = xs.shape[0]
        out = self.var_unary[np.arange(self.n_var), xs].sum(axis=1)
        deg = self.wiring.fac_degree()
        ev = self.edge_var
        for t, name in enumerate(self.types):
            ft = get_factor_type(name)
            lo, hi = int(self.type_ptr[t]), int(self.type_ptr[t + 1])
            for d in np.unique(deg[lo:hi]):
                facs = lo + np.flatnonzero(deg[lo:hi] == d)
                edges = self.fac_ptr[facs][:, None] + np.arange(d)[None, :]
                scopes = ev[edges]  # (n_f, d)
                cards = self.card[scopes]
                rows = self.fac_param[facs]
                vals = _log_values(ft, self.params[t], rows, xs[:, scopes], cards)
                out = out + vals.sum(axis=1)
        if single:
            return float(out[0])
        return out.reshape(S)

    # ------------------------------------------------------------ conversion
    def to_tables(self) -> CompiledGraph:
        """Copy in which every factor is a dense ``table`` (same factor order).

        Useful as a reference for structured factor types and for writers.

        Examples
        --------
        >>> import fgraph
        >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
        >>> _ = g.add_ising([0, 1], J=0.5)
        >>> t = g.compile().to_tables()
        >>> t.types, t.log_table(0).tolist()
        (('table',), [[0.5, -0.5], [-0.5, 0.5]])
        """
        params = freeze_params(self._dense_params())
        return replace(
            self,
            types=("table",) if self.n_fac else (),
            type_ptr=readonly(np.array([0, self.n_fac] if self.n_fac else [0], dtype=INDEX)),
            params=(params,) if self.n_fac else (),
            fac_param=readonly(np.arange(self.n_fac, dtype=INDEX)),
        )

    def _dense_params(self) -> dict:
        """``ptr``/``logp`` of every factor's dense log-table, in factor order."""
        fdeg = self.wiring.fac_degree()
        sizes = np.ones(self.n_fac, dtype=INDEX)
        if self.n_edge:
            nz = fdeg > 0
            sizes[nz] = np.multiply.reduceat(self.card[self.edge_var], self.fac_ptr[:-1][nz])
        ptr = np.zeros(self.n_fac + 1, dtype=INDEX)
        np.cumsum(sizes, out=ptr[1:])
        logp = np.empty(int(ptr[-1]), dtype=FLOAT)
        for t, name in enumerate(self.types):
            lo, hi = int(self.type_ptr[t]), int(self.type_ptr[t + 1])
            rows = self.fac_param[lo:hi]
            block = self.params[t]
            if name == "ising":
                # [[J, -J], [-J, J]] flattened in C order
                J = block["J"][rows]
                vals = np.stack([J, -J, -J, J], axis=1)
                logp[ptr[lo] : ptr[hi]] = vals.ravel()
            elif name in ("table", "unary") and np.array_equal(rows, np.arange(rows.size)):
                src = block["ptr"]
                logp[ptr[lo] : ptr[hi]] = block["logp"][src[0] : src[rows.size]]
            else:
                for a in range(lo, hi):
                    logp[ptr[a] : ptr[a + 1]] = self.log_table(a).ravel()
        return {"ptr": ptr, "logp": logp}

    def summary(self) -> dict:
        """Counts and degree statistics (used by ``mcover info``).

        Examples
        --------
        >>> import fgraph
        >>> g = fgraph.FactorGraph(); _ = g.add_variables(card=[2, 3])
        >>> _ = g.add_factor([0, 1], [[1, 2, 3], [4, 5, 6]])
        >>> s = g.compile().summary()
        >>> s["n_factors"], s["cardinalities"], s["factor_degree"]["max"]
        (1, {2: 1, 3: 1}, 2)"""
        vdeg = self.wiring.var_degree()
        fdeg = self.wiring.fac_degree()
        cards, ccount = np.unique(self.card, return_counts=True)

        def stats(d):
            if d.size == 0:
                return {"min": 0, "max": 0, "mean": 0.0}
            return {"min": int(d.min()), "max": int(d.max()), "mean": float(d.mean())}

        return {
            "n_variables": self.n_var,
            "n_factors": self.n_fac,
            "n_edges": self.n_edge,
            "cardinalities": {int(c): int(n) for c, n in zip(cards, ccount)},
            "factor_types": {
                name: int(self.type_ptr[t + 1] - self.type_ptr[t]) for t, name in enumerate(self.types)
            },
            "variable_degree": stats(vdeg),
            "factor_degree": stats(fdeg),
            "n_evidence": len(self.evidence()),
        }

    # ------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check every invariant; raise ValueError naming the first violation.

        Examples
        --------
        >>> import numpy as np, dataclasses, fgraph
        >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
        >>> cg = g.compile(); cg.validate()
        >>> bad = np.array([2, 0]); bad.flags.writeable = False
        >>> dataclasses.replace(cg, card=bad).validate()
        Traceback (most recent call last):
        ...
        ValueError: card must have n_var entries, each >= 1"""
        self.wiring.validate()
        n_var, n_fac = self.n_var, self.n_fac
        if n_var < 1:
            raise ValueError("empty graph: a compiled graph needs at least one variable")
        for name in ("card", "type_ptr", "fac_param", "fac_origin"):
            arr = getattr(self, name)
            if arr.dtype != INDEX or arr.ndim != 1 or arr.flags.writeable:
                raise ValueError(f"{name} must be a read-only 1-D int64 array")
        if self.card.shape != (n_var,) or np.any(self.card < 1):
            raise ValueError("card must have n_var entries, each >= 1")
        vu = self.var_unary
        shape_ok = vu.ndim == 2 and vu.shape == (n_var, int(self.card.max()))
        if vu.dtype != FLOAT or not shape_ok or vu.flags.writeable:
            raise ValueError("var_unary must be read-only float64 of shape (n_var, max(card))")
        if np.any(np.isnan(vu)) or np.any(vu == np.inf):
            raise ValueError("var_unary holds NaN or +inf")
        pad = np.arange(vu.shape[1])[None, :] >= self.card[:, None]
        if not np.all(np.isneginf(vu[pad])):
            raise ValueError("var_unary padding beyond card must be -inf")
        if np.any(np.all(np.isneginf(vu), axis=1)):
            i = int(np.flatnonzero(np.all(np.isneginf(vu), axis=1))[0])
            raise ValueError(f"variable {i} has zero evidence in every state (Z = 0)")
        if len(self.types) != len(self.params) or self.type_ptr.size != len(self.types) + 1:
            raise ValueError("types, params and type_ptr disagree in length")
        if self.type_ptr[0] != 0 or self.type_ptr[-1] != n_fac or np.any(np.diff(self.type_ptr) < 0):
            raise ValueError("type_ptr must run from 0 to n_fac, non-decreasing")
        if self.fac_param.shape != (n_fac,) or self.fac_origin.shape != (n_fac,):
            raise ValueError("fac_param and fac_origin need n_fac entries")
        if len(set(self.types)) != len(self.types):
            raise ValueError("a factor type appears in two blocks")
        for t, name in enumerate(self.types):
            ft = get_factor_type(name)
            if not isinstance(self.params[t], MappingProxyType):
                raise ValueError(f"params of block {name!r} must be read-only")
            for k, arr in self.params[t].items():
                if arr.flags.writeable:
                    raise ValueError(f"params[{name!r}][{k!r}] must be read-only")
            lo, hi = int(self.type_ptr[t]), int(self.type_ptr[t + 1])
            e0, e1 = int(self.fac_ptr[lo]), int(self.fac_ptr[hi])
            ft.check_block(
                self.params[t], self.fac_ptr[lo : hi + 1] - e0, self.card[self.edge_var[e0:e1]],
                self.fac_param[lo:hi],
            )
        if self.var_names is not None and len(self.var_names) != n_var:
            raise ValueError("var_names must have n_var entries")

    def __repr__(self) -> str:
        kinds = ", ".join(
            f"{name}={int(self.type_ptr[t + 1] - self.type_ptr[t])}" for t, name in enumerate(self.types)
        )
        return (
            f"{type(self).__name__}(n_var={self.n_var}, n_fac={self.n_fac}, "
            f"n_edge={self.n_edge}, q_max={self.q_max}, factors: {kinds or 'none'})"
        )


def _log_values(ft, params, rows, x, cards) -> np.ndarray:
    """log psi of many factors of one type and arity.

    x : int64 (S, n_f, d) states; cards : int64 (n_f, d); returns float64 (S, n_f).
    """
    name = ft.name
    if name in ("table", "unary"):
        strides = np.ones_like(cards)
        if cards.shape[1] > 1:
            strides[:, :-1] = np.cumprod(cards[:, :0:-1], axis=1)[:, ::-1]
        flat = params["ptr"][rows][None, :] + (x * strides[None]).sum(axis=2)
        return params["logp"][flat]
    if name == "ising":
        s = 2 * x - 1
        return params["J"][rows][None, :] * s[..., 0] * s[..., 1]
    if name == "potts":
        return params["J"][rows][None, :] * (x[..., 0] == x[..., 1])
    if name == "parity":
        par = x.sum(axis=2) % 2
        ok = par == params["target"][rows][None, :]
        w = params["weight"][rows]
        return np.where(ok, 0.0, -np.broadcast_to(w, ok.shape))
    if hasattr(ft, "log_values"):  # a type that scores states directly (no dense table)
        return ft.log_values(params, rows, x, cards)
    # Generic fallback for user types: one dense table per factor.
    out = np.empty(x.shape[:2], dtype=FLOAT)
    for k in range(x.shape[1]):
        tab = ft.log_table(params, int(rows[k]), cards[k])
        out[:, k] = tab[tuple(x[:, k, j] for j in range(x.shape[2]))]
    return out


def _evidence_items(evidence, graph):
    """Normalise ``{var or name: state}`` into validated (int, int) pairs."""
    if evidence is None:
        return []
    if not hasattr(evidence, "items"):
        raise TypeError(f"evidence must be a mapping {{variable: state}}, got {type(evidence).__name__}")
    index = {n: i for i, n in enumerate(graph.var_names)} if graph.var_names else {}
    out = []
    for var, state in evidence.items():
        if isinstance(var, str):
            if var not in index:
                raise ValueError(f"evidence names unknown variable {var!r}")
            var = index[var]
        if isinstance(var, bool) or not isinstance(var, (int, np.integer)):
            raise TypeError(f"evidence variable must be an int or a name, got {var!r}")
        if isinstance(state, bool) or not isinstance(state, (int, np.integer)):
            raise TypeError(f"evidence state of variable {var} must be an int, got {state!r}")
        var, state = int(var), int(state)
        if not 0 <= var < graph.n_var:
            raise ValueError(f"evidence names unknown variable {var} (graph has {graph.n_var})")
        if not 0 <= state < graph.card[var]:
            raise ValueError(
                f"evidence state {state} of variable {var} is outside 0..{int(graph.card[var]) - 1}"
            )
        out.append((var, state))
    return out
