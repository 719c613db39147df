"""Wiring: the frozen bipartite topology of a factor graph (CSR both ways).

Edges are *factor-major*: the edges of factor ``a`` are ``fac_ptr[a]:fac_ptr[a+1]``
and slot ``s`` of ``a`` (its ``s``-th argument, order matters) is edge
``fac_ptr[a] + s``.  ``edge_fac`` is therefore non-decreasing.  The reverse
index lists, for every variable ``i``, its edges
``var_edges[var_ptr[i]:var_ptr[i+1]]`` in increasing edge order.

Invariants (checked by :meth:`Wiring.validate`):

* ``fac_ptr[0] == 0``, ``fac_ptr[-1] == n_edge``, non-decreasing;
* ``edge_fac[e] == a`` for ``fac_ptr[a] <= e < fac_ptr[a+1]``;
* ``0 <= edge_var < n_var`` and no variable repeats within one factor;
* ``var_edges`` is a permutation of ``0..n_edge-1`` grouped by variable
  (``edge_var[var_edges[k]] == i`` for ``var_ptr[i] <= k < var_ptr[i+1]``),
  increasing inside each group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dtypes import INDEX, FrozenPickle, as_index, readonly

__all__ = ["Wiring"]


@dataclass(frozen=True, eq=False)
class Wiring(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Frozen bipartite topology; every array is read-only int64.

    Attributes
    ----------
    n_var, n_fac, n_edge : int
        Counts of variables, factors and edges.
    edge_var : ndarray of int64, shape (n_edge,)
        Variable endpoint of each edge.
    edge_fac : ndarray of int64, shape (n_edge,)
        Factor endpoint of each edge (non-decreasing).
    fac_ptr : ndarray of int64, shape (n_fac + 1,)
        CSR offsets of the edges of each factor.
    var_ptr : ndarray of int64, shape (n_var + 1,)
        CSR offsets into ``var_edges``.
    var_edges : ndarray of int64, shape (n_edge,)
        Edge ids grouped by variable.

    Examples
    --------
    A chain x0 - a0 - x1 - a1 - x2:

    >>> w = Wiring.from_edges(3, fac_ptr=[0, 2, 4], edge_var=[0, 1, 1, 2])
    >>> w.n_edge, w.var_degree().tolist()
    (4, [1, 2, 1])
    >>> w.edges_of_var(1).tolist()
    [1, 2]
    """

    n_var: int
    n_fac: int
    n_edge: int
    edge_var: np.ndarray
    edge_fac: np.ndarray
    fac_ptr: np.ndarray
    var_ptr: np.ndarray
    var_edges: np.ndarray

    @classmethod
    def from_edges(cls, n_var: int, fac_ptr, edge_var, check: bool = True) -> Wiring:
        """Build the wiring from factor-major edges.

        Parameters
        ----------
        n_var : int
            Number of variables.
        fac_ptr : array_like of int, shape (n_fac + 1,)
            CSR offsets of the factors' edges.
        edge_var : array_like of int, shape (n_edge,)
            Variable of each edge, factor-major.
        check : bool
            Validate the result (range checks, no repeated variables).

        Returns
        -------
        Wiring
        """
        fac_ptr = as_index(fac_ptr, "fac_ptr", ndim=1)
        edge_var = as_index(edge_var, "edge_var", ndim=1)
        n_var = int(n_var)
        if n_var < 0:
            raise ValueError(f"n_var must be >= 0, got {n_var}")
        if fac_ptr.size == 0 or fac_ptr[0] != 0 or fac_ptr[-1] != edge_var.size:
            raise ValueError("fac_ptr must start at 0 and end at len(edge_var)")
        deg = np.diff(fac_ptr)
        if np.any(deg < 0):
            raise ValueError("fac_ptr must be non-decreasing")
        n_fac = fac_ptr.size - 1
        n_edge = edge_var.size
        if n_edge and (edge_var.min() < 0 or edge_var.max() >= n_var):
            bad = int(np.flatnonzero((edge_var < 0) | (edge_var >= n_var))[0])
            raise ValueError(
                f"edge {bad} refers to variable {int(edge_var[bad])}, "
                f"outside 0..{n_var - 1}"
            )
        edge_fac = np.repeat(np.arange(n_fac, dtype=INDEX), deg)
        # Stable sort keeps the edges of each variable in increasing edge order.
        var_edges = np.argsort(edge_var, kind="stable").astype(INDEX, copy=False)
        counts = np.bincount(edge_var, minlength=n_var)
        var_ptr = np.zeros(n_var + 1, dtype=INDEX)
        np.cumsum(counts, out=var_ptr[1:])
        w = cls(
            n_var=n_var,
            n_fac=int(n_fac),
            n_edge=int(n_edge),
            edge_var=readonly(edge_var.copy()),
            edge_fac=readonly(edge_fac),
            fac_ptr=readonly(fac_ptr.copy()),
            var_ptr=readonly(var_ptr),
            var_edges=readonly(var_edges),
        )
        if check:
            w._check_no_repeats()
        return w

    # ------------------------------------------------------------------ queries
    def fac_degree(self) -> np.ndarray:
        """Arity of every factor, int64 (n_fac,)."""
        return np.diff(self.fac_ptr)

    def var_degree(self) -> np.ndarray:
        """Number of factors at every variable, int64 (n_var,)."""
        return np.diff(self.var_ptr)

    def scope(self, a: int) -> np.ndarray:
        """Variables of factor ``a`` in argument order, int64 (deg(a),)."""
        return self.edge_var[self.fac_ptr[a] : self.fac_ptr[a + 1]]

    def edges_of_var(self, i: int) -> np.ndarray:
        """Edges at variable ``i``, int64 (deg(i),)."""
        return self.var_edges[self.var_ptr[i] : self.var_ptr[i + 1]]

    def factors_of_var(self, i: int) -> np.ndarray:
        """Factors touching variable ``i``, int64 (deg(i),)."""
        return self.edge_fac[self.edges_of_var(i)]

    def edge_slot(self) -> np.ndarray:
        """Argument slot of every edge within its factor, int64 (n_edge,)."""
        return np.arange(self.n_edge, dtype=INDEX) - self.fac_ptr[self.edge_fac]

    # --------------------------------------------------------------- validation
    def _check_no_repeats(self) -> None:
        if self.n_edge == 0:
            return
        # Within-factor duplicates: sort (factor, variable) pairs and look for equal neighbours.
        key = self.edge_fac * max(self.n_var, 1) + self.edge_var
        srt = np.sort(key)
        dup = np.flatnonzero(srt[1:] == srt[:-1])
        if dup.size:
            k = int(srt[dup[0]])
            a, i = divmod(k, max(self.n_var, 1))
            raise ValueError(f"factor {a} lists variable {i} more than once in its scope")

    def validate(self) -> None:
        """Check every invariant of the wiring; raise ValueError on the first failure."""
        for name in ("edge_var", "edge_fac", "fac_ptr", "var_ptr", "var_edges"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.dtype != INDEX or arr.ndim != 1:
                raise ValueError(f"Wiring.{name} must be a 1-D int64 array")
            if arr.flags.writeable:
                raise ValueError(f"Wiring.{name} must be read-only")
        if self.fac_ptr.size != self.n_fac + 1 or self.var_ptr.size != self.n_var + 1:
            raise ValueError("fac_ptr/var_ptr sizes do not match n_fac/n_var")
        if self.edge_var.size != self.n_edge or self.edge_fac.size != self.n_edge:
            raise ValueError("edge arrays do not have n_edge entries")
        if self.var_edges.size != self.n_edge:
            raise ValueError("var_edges does not have n_edge entries")
        if self.fac_ptr[0] != 0 or self.fac_ptr[-1] != self.n_edge:
            raise ValueError("fac_ptr must run from 0 to n_edge")
        if np.any(np.diff(self.fac_ptr) < 0):
            raise ValueError("fac_ptr must be non-decreasing")
        expect_fac = np.repeat(np.arange(self.n_fac, dtype=INDEX), np.diff(self.fac_ptr))
        if not np.array_equal(expect_fac, self.edge_fac):
            raise ValueError("edge_fac does not agree with fac_ptr")
        if self.n_edge and (self.edge_var.min() < 0 or self.edge_var.max() >= self.n_var):
            raise ValueError("edge_var holds a variable id out of range")
        if self.var_ptr[0] != 0 or self.var_ptr[-1] != self.n_edge:
            raise ValueError("var_ptr must run from 0 to n_edge")
        if not np.array_equal(np.diff(self.var_ptr), np.bincount(self.edge_var, minlength=self.n_var)):
            raise ValueError("var_ptr does not agree with the degrees of edge_var")
        expect_edges = np.argsort(self.edge_var, kind="stable")
        if not np.array_equal(expect_edges, self.var_edges):
            raise ValueError("var_edges is not the stable grouping of edges by variable")
        self._check_no_repeats()

    def to_networkx(self):
        """Bipartite ``networkx.Graph`` with nodes ``('v', i)`` and ``('f', a)``.

        Examples
        --------
        >>> w = Wiring.from_edges(2, [0, 2], [0, 1])
        >>> G = w.to_networkx()
        >>> G.number_of_nodes(), G.number_of_edges(), G.has_edge(("f", 0), ("v", 1))
        (3, 2, True)
        """
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from((("v", i) for i in range(self.n_var)), bipartite=0)
        g.add_nodes_from((("f", a) for a in range(self.n_fac)), bipartite=1)
        g.add_edges_from(
            (("f", int(a)), ("v", int(i))) for a, i in zip(self.edge_fac, self.edge_var)
        )
        return g
