"""M-covers (lifts) of compiled factor graphs: build them, project results back (docs/theory.md §3).

An M-cover picks one permutation ``pi_e`` of the copies ``0..M-1`` for every base
edge ``e = (a, i)``.  The cover has variable copies ``(i, m)`` carrying ``phi_i``,
factor copies ``(a, m)`` carrying ``psi_a``, and an edge from ``(a, m)`` to
``(i, pi_e(m))`` in the same argument slot.  The projection ``(i, m) -> i`` is a
covering map (a local isomorphism); with every ``pi_e = id`` the cover is M
disjoint copies and ``Z(cover) = Z**M``.

Indexing (base-major, docs/theory.md §3.2)::

    variable copy (i, m)      id  i*M + m
    factor copy   (a, m)      id  a*M + m
    slot s of factor copy (a, m) is lifted edge  M*fac_ptr[a] + m*deg(a) + s,
    joining variable copy  edge_var[e]*M + perms[e, m],  e = fac_ptr[a] + s

so the lifted edges stay factor-major, and copy ``m`` of base edge ``e`` is lifted
edge ``M*fac_ptr[a] + m*deg(a) + slot(e)`` (:func:`edge_copies`).  The variable-major
index of the cover needs no sort: the edges at variable copy ``(i, m')`` are, in
increasing order, the copies of the base edges at ``i`` (in their base order) that
land on ``m'``.  Hence ``var_ptr`` of the cover is ``M*var_ptr[i] + m'*deg(i)`` and
building a lift costs O(M n_edge) with a handful of vectorised numpy scatters.

Cover invariance (classical): BP from uniform messages on any cover equals the base
run copied onto every copy -- in the parallel schedule and in the engine's sequential
schedule, which visits factors by type block then id and so treats the copies
``(a, 0), ..., (a, M-1)`` of each base factor consecutively; these touch disjoint
variable copies, so each sees exactly what the base factor saw.  Hence Bethe
``log Z(cover) = M log Z_B(base)``; both hold in sum and max mode, with or without
damping (tested to round-off).  The ``residual`` schedule is *not* lifted: it picks one
factor at a time by priority, so copies of a factor are updated at different times; it
reaches the lifted fixed point only up to its tolerance.  :func:`project` averages a cover's beliefs over the
copies and reports ``log Z`` per copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from fgraph.compiled import CompiledGraph
from fgraph.dtypes import FLOAT, INDEX, FrozenPickle, as_index, readonly
from fgraph.wiring import Wiring

__all__ = [
    "Lift",
    "ProjectedResult",
    "copies",
    "copies_of",
    "copy_overlap",
    "copy_spread",
    "edge_copies",
    "factor_copies_of",
    "lift",
    "lift_messages",
    "project",
]


# =========================================================================== the Lift type
@dataclass(frozen=True, eq=False, kw_only=True)
class Lift(CompiledGraph):
    """An M-cover: a :class:`~fgraph.compiled.CompiledGraph` that remembers its base.

    Every engine and writer accepts a ``Lift`` unchanged (it *is* a compiled graph).
    Build one with :func:`lift`.

    Attributes
    ----------
    wiring, card, var_unary, types, type_ptr, params, fac_param, fac_origin, var_names
        The lifted graph (see :class:`~fgraph.compiled.CompiledGraph`):

        * ``card`` int64 (n_var_base * M,) and ``var_unary`` float64
          (n_var_base * M, q_max) repeat the base rows per copy;
        * factor copies keep the base type order (``type_ptr = M * base.type_ptr``);
          ``types`` and ``params`` are the base's own objects and ``fac_param``
          int64 (n_fac_base * M,) repeats the base's rows, so the copies *share*
          their parameters;
        * ``fac_origin`` int64 (n_fac_base * M,): copy ``(a, m)`` has
          ``base.fac_origin[a] * M + m`` (the builder id the copy would get if the
          copies of each builder factor were added consecutively;
          ``fac_origin // M`` is the base builder id, ``fac_origin % M`` the copy);
        * ``var_names``: ``"name#m"`` for copy ``m`` of a named variable, None if the
          base has no names (a 1-cover keeps the base's names).
    base : CompiledGraph
        The graph that was lifted.
    M : int
        Number of copies (cover degree), >= 1.
    perms : ndarray of int64, shape (base.n_edge, M), read-only
        Row ``e`` is the permutation ``pi_e``: factor copy ``(a, m)`` reaches
        variable copy ``(edge_var[e], perms[e, m])`` through base edge ``e``.
    kernel : str
        ``identify()`` of the kernel that drew ``perms``, or ``"explicit"``.

    Notes
    -----
    ``dataclasses.replace`` keeps the type, so ``with_evidence`` and ``to_tables`` return
    a ``Lift`` with the same ``base``, ``M`` and ``perms``.  Evidence given on some
    copies only (``with_evidence``) makes the graph a cover of the base *topology* but
    not of the base *model*; :meth:`validate` checks the topology and cardinalities
    only, so such a graph stays valid.

    Examples
    --------
    >>> import fgraph
    >>> base = fgraph.problems.ising_grid(2, J=0.3).graph
    >>> L = lift(base, 3, perms=np.tile(np.arange(3), (base.n_edge, 1)))
    >>> L
    Lift(M=3, kernel=explicit, n_var=12, n_fac=12, n_edge=24, q_max=2, factors: ising=12)
    >>> L.validate(); L.params is base.params, L.base is base
    (True, True)
    """

    base: CompiledGraph
    M: int
    perms: np.ndarray
    kernel: str = "explicit"

    def validate(self) -> None:
        """Check the compiled-graph invariants and that the topology is the cover of ``base``.

        Besides :meth:`CompiledGraph.validate`: ``M`` is an int >= 1, ``perms`` is a
        read-only int64 (base.n_edge, M) array of permutations, the wiring is exactly
        the cover of ``base.wiring`` by ``perms`` and ``card`` repeats the base's.

        Examples
        --------
        >>> import dataclasses, fgraph
        >>> base = fgraph.problems.ising_grid(2).graph
        >>> L = lift(base, 2, perms=np.zeros((base.n_edge, 2), dtype=np.int64) + [1, 0])
        >>> L.validate()
        >>> dataclasses.replace(L, M=3).validate()
        Traceback (most recent call last):
        ...
        ValueError: Lift has 8 variables, expected base.n_var * M = 12
        """
        super().validate()
        if not isinstance(self.base, CompiledGraph):
            raise ValueError(f"Lift.base must be a CompiledGraph, got {type(self.base).__name__}")
        M = _check_M(self.M)
        if self.n_var != self.base.n_var * M:
            raise ValueError(
                f"Lift has {self.n_var} variables, expected base.n_var * M = {self.base.n_var * M}"
            )
        if self.n_fac != self.base.n_fac * M:
            raise ValueError(
                f"Lift has {self.n_fac} factors, expected base.n_fac * M = {self.base.n_fac * M}"
            )
        p = self.perms
        if not isinstance(p, np.ndarray) or p.dtype != INDEX or p.flags.writeable:
            raise ValueError("Lift.perms must be a read-only int64 array")
        _check_perms(p, self.base.n_edge, M)
        if not np.array_equal(self.card, np.repeat(self.base.card, M)):
            raise ValueError("Lift.card does not repeat base.card per copy")
        ref = _lift_wiring(self.base.wiring, p, M)
        for name in ("fac_ptr", "edge_var"):
            if not np.array_equal(getattr(self.wiring, name), getattr(ref, name)):
                raise ValueError(f"Lift.wiring.{name} is not the cover of base.wiring by perms")

    def __repr__(self) -> str:
        inner = super().__repr__()
        head, _, rest = inner.partition("(")
        return f"{head}(M={self.M}, kernel={self.kernel}, {rest}"


# =========================================================================== building
def _check_M(M) -> int:
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)):
        raise TypeError(f"M must be an int >= 1, got {M!r} ({type(M).__name__})")
    if M < 1:
        raise ValueError(f"M must be >= 1, got {M}")
    return int(M)


def _check_perms(p: np.ndarray, n_edge: int, M: int, full: bool = True) -> None:
    """Raise ValueError unless ``p`` is (n_edge, M) with entries in 0..M-1 and (``full``) rows permutations.

    ``full=False`` checks shape and range only (:func:`_lift_wiring` detects the rest for free).
    """
    if p.shape != (n_edge, M):
        raise ValueError(f"perms must have shape (n_edge, M) = {(n_edge, M)}, got {p.shape}")
    if p.size == 0:
        return
    if p.min() < 0 or p.max() >= M:
        e = int(np.flatnonzero(((p < 0) | (p >= M)).any(axis=1))[0])
        raise ValueError(f"perms row {e} = {p[e].tolist()} is not a permutation of 0..{M - 1}")
    if full:
        # every (row, value) pair exactly once <=> every row is a permutation
        flat = (np.arange(n_edge, dtype=INDEX) * M)[:, None] + p
        hits = np.bincount(flat.ravel(), minlength=n_edge * M)
        if np.any(hits != 1):
            e = int(np.flatnonzero(hits != 1)[0]) // M
            raise ValueError(f"perms row {e} = {p[e].tolist()} is not a permutation of 0..{M - 1}")


def _edge_offsets(w: Wiring, M: int) -> tuple[np.ndarray, np.ndarray]:
    """Lifted id of copy 0 of every base edge and the stride between copies, int64 (n_edge,) each."""
    fdeg = np.diff(w.fac_ptr)
    stride = fdeg[w.edge_fac]
    off = np.arange(w.n_edge, dtype=INDEX) + (M - 1) * w.fac_ptr[w.edge_fac]  # M*fac_ptr[a] + slot
    return off, stride


def _lift_wiring(w: Wiring, perms: np.ndarray, M: int) -> Wiring:
    """The cover's wiring, built directly in O(M n_edge) (no sort).

    ``perms`` must be in range (shape and range checked); a row that is not a permutation
    leaves a hole in ``var_edges``, which is detected here and reported by :func:`_check_perms`.
    """
    n_edge = w.n_edge
    ar = np.arange(M, dtype=INDEX)
    fdeg = np.diff(w.fac_ptr)
    vdeg = np.diff(w.var_ptr)
    fac_ptr = np.empty(w.n_fac * M + 1, dtype=INDEX)
    fac_ptr[:-1] = (M * w.fac_ptr[:-1, None] + fdeg[:, None] * ar).ravel()
    fac_ptr[-1] = M * n_edge
    var_ptr = np.empty(w.n_var * M + 1, dtype=INDEX)
    var_ptr[:-1] = (M * w.var_ptr[:-1, None] + vdeg[:, None] * ar).ravel()
    var_ptr[-1] = M * n_edge
    # Factor side: copy m of base edge e is lifted edge  pos[e, m] = off[e] + m * deg(a), in
    # factor copy a*M + m, joining variable copy edge_var[e]*M + perms[e, m].  (Scatters through
    # pos beat np.repeat with a count array.)
    off, stride = _edge_offsets(w, M)
    pos = np.multiply(stride[:, None], ar)
    pos += off[:, None]
    tmp = np.add((w.edge_fac * M)[:, None], ar)  # scratch (n_edge, M)
    edge_fac = np.empty(M * n_edge, dtype=INDEX)
    edge_fac[pos] = tmp
    np.add(perms, (w.edge_var * M)[:, None], out=tmp)
    edge_var = np.empty(M * n_edge, dtype=INDEX)
    edge_var[pos] = tmp
    # Variable side: at variable copy (i, m') the k-th base edge of i (base order) sits at
    # M*var_ptr[i] + m'*deg(i) + k; base edge e lands on copy m' = perms[e, m] from factor copy m.
    i_e = w.edge_var
    vpos = np.empty(n_edge, dtype=INDEX)
    vpos[w.var_edges] = np.arange(n_edge, dtype=INDEX)
    vpos += (M - 1) * w.var_ptr[i_e]  # M*var_ptr[i] + k
    np.multiply(perms, vdeg[i_e][:, None], out=tmp)
    tmp += vpos[:, None]
    var_edges = np.full(M * n_edge, -1, dtype=INDEX)
    var_edges[tmp] = pos
    if n_edge and var_edges.min() < 0:  # some row of perms repeats a copy
        _check_perms(perms, n_edge, M)
        raise AssertionError("unreachable: _check_perms accepted perms with a repeated copy")
    return Wiring(
        n_var=w.n_var * M,
        n_fac=w.n_fac * M,
        n_edge=n_edge * M,
        edge_var=readonly(edge_var),
        edge_fac=readonly(edge_fac),
        fac_ptr=readonly(fac_ptr),
        var_ptr=readonly(var_ptr),
        var_edges=readonly(var_edges),
    )


def _sample(kernel, n_edge: int, M: int, seed):
    """Resolve ``kernel`` (None, spec string or object) and draw perms; return (perms, description)."""
    if kernel is None:
        from .kernels import Uniform

        kernel = Uniform()
    elif isinstance(kernel, str):
        from .kernels import from_spec

        kernel = from_spec(kernel)
    if not (callable(getattr(kernel, "sample", None)) and callable(getattr(kernel, "identify", None))):
        raise TypeError(
            "kernel must be None, a spec string or an object with sample(n_edge, M, seed) and "
            f"identify(), got {type(kernel).__name__}"
        )
    return kernel.sample(n_edge, M, seed), str(kernel.identify())


def lift(graph, M, kernel=None, seed=None, perms=None) -> Lift:
    """Build the M-cover of ``graph`` given by one permutation per base edge.

    Parameters
    ----------
    graph : CompiledGraph
        The base graph (itself possibly a :class:`Lift`).
    M : int
        Number of copies, >= 1.
    kernel : None, str or kernel object, optional
        How the permutations are drawn: None is the uniform random lift
        (``lifts.kernels.Uniform``); a string is a kernel spec for
        ``lifts.kernels.from_spec`` (e.g. ``"ring:1.0"``); an object needs
        ``sample(n_edge, M, seed) -> int64 (n_edge, M)`` and ``identify() -> str``.
    seed : int, numpy Generator or None
        Passed to ``kernel.sample`` (ignored with explicit ``perms``).
    perms : array_like of int, shape (graph.n_edge, M), optional
        Explicit permutations (row ``e`` is ``pi_e``); then ``kernel`` must be None
        and the lift's ``kernel`` is ``"explicit"``.  The array is copied.

    Returns
    -------
    Lift
        Variable copy ``(i, m)`` is ``i*M + m``, factor copy ``(a, m)`` is ``a*M + m``;
        slot ``s`` of factor copy ``(a, m)`` is edge ``M*fac_ptr[a] + m*deg(a) + s``,
        joining variable copy ``edge_var[e]*M + perms[e, m]`` (``e = fac_ptr[a] + s``).

    Raises
    ------
    TypeError
        ``graph`` is not a CompiledGraph, ``M`` is not an int, ``perms`` is not
        integral, or ``kernel`` is not a kernel.
    ValueError
        ``M < 1``; ``perms`` has the wrong shape or a row that is not a permutation of
        ``0..M-1`` (the first such row is named); both ``kernel`` and ``perms`` given.

    Notes
    -----
    O(M n_edge) time and memory, vectorised (no loop over edges or copies); the
    wiring is not re-validated (call ``validate()`` to check it).

    Examples
    --------
    Two copies of a 3-ring, with the coupling of edge (2, 0) crossed: the cover is a
    6-ring.

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_ising([[0, 1], [1, 2], [2, 0]], J=0.5)
    >>> base = g.compile()
    >>> P = np.array([[0, 1]] * 5 + [[1, 0]])       # slot 1 of factor 2 crosses
    >>> L = lift(base, 2, perms=P)
    >>> L.n_var, L.n_fac, L.kernel
    (6, 6, 'explicit')
    >>> L.scope(5).tolist()                         # factor copy (2, 1): x2#1 - x0#0
    [5, 0]
    >>> import networkx as nx
    >>> nx.is_connected(L.wiring.to_networkx())
    True
    >>> z1, z2 = fgraph.exact.log_z(base), fgraph.exact.log_z(L)
    >>> bool(z2 < 2 * z1)                           # (2ch)^6 (1 + t^6) < ((2ch)^3 (1 + t^3))^2
    True
    """
    if not isinstance(graph, CompiledGraph):
        raise TypeError(
            f"graph must be a CompiledGraph (call FactorGraph.compile()), got {type(graph).__name__}"
        )
    M = _check_M(M)
    n_edge = graph.n_edge
    if perms is not None:
        if kernel is not None:
            raise ValueError(f"give either kernel or perms, not both (kernel={kernel!r})")
        P = np.array(as_index(perms, "perms"), dtype=INDEX, copy=True)
        description = "explicit"
    else:
        raw, description = _sample(kernel, n_edge, M, seed)
        P = np.array(as_index(raw, "perms"), dtype=INDEX, copy=True)
    if P.ndim != 2:
        raise ValueError(f"perms must have shape (n_edge, M) = {(n_edge, M)}, got {P.shape}")
    _check_perms(P, n_edge, M, full=False)  # _lift_wiring detects non-permutations
    P = readonly(P)
    w = _lift_wiring(graph.wiring, P, M)
    ar = np.arange(M, dtype=INDEX)
    if graph.var_names is None or M == 1:
        names = graph.var_names
    else:
        names = tuple(f"{n}#{m}" for n in graph.var_names for m in range(M))
    return Lift(
        wiring=w,
        card=readonly(np.repeat(graph.card, M)),
        var_unary=readonly(np.repeat(graph.var_unary, M, axis=0)),
        types=graph.types,
        type_ptr=readonly(graph.type_ptr * M),
        params=graph.params,
        fac_param=readonly(np.repeat(graph.fac_param, M)),
        fac_origin=readonly((graph.fac_origin[:, None] * M + ar).ravel()),
        var_names=names,
        base=graph,
        M=M,
        perms=P,
        kernel=description,
    )


# =========================================================================== index helpers
def _check_lift(lift_) -> Lift:
    if not isinstance(lift_, Lift):
        raise TypeError(f"lift must be a Lift (from lifts.lift), got {type(lift_).__name__}")
    return lift_


def _copy_ids(ids, n: int, M: int, what: str) -> np.ndarray:
    arr = as_index(ids, what)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        bad = arr.ravel()[np.flatnonzero((arr.ravel() < 0) | (arr.ravel() >= n))[0]]
        raise IndexError(f"{what} {int(bad)} out of range 0..{n - 1}")
    return arr[..., None] * M + np.arange(M, dtype=INDEX)


def copies_of(lift, i) -> np.ndarray:
    """Ids of the copies of base variable(s) ``i`` in the lift.

    Parameters
    ----------
    lift : Lift
    i : int or array_like of int
        Base variable id(s).

    Returns
    -------
    ndarray of int64, shape (M,) (or ``np.shape(i) + (M,)``)
        ``i*M + m`` for ``m = 0..M-1``.

    Examples
    --------
    >>> import fgraph
    >>> base = fgraph.problems.ising_grid(2).graph
    >>> L = lift(base, 3, perms=np.tile([2, 0, 1], (base.n_edge, 1)))
    >>> copies_of(L, 1).tolist()
    [3, 4, 5]
    """
    L = _check_lift(lift)
    return _copy_ids(i, L.base.n_var, L.M, "variable")


def factor_copies_of(lift, a) -> np.ndarray:
    """Ids of the copies of base factor(s) ``a`` in the lift, int64 (M,) (or ``np.shape(a) + (M,)``).

    Examples
    --------
    >>> import fgraph
    >>> base = fgraph.problems.ising_grid(2).graph
    >>> L = lift(base, 2, perms=np.tile([0, 1], (base.n_edge, 1)))
    >>> factor_copies_of(L, [0, 3]).tolist()
    [[0, 1], [6, 7]]
    """
    L = _check_lift(lift)
    return _copy_ids(a, L.base.n_fac, L.M, "factor")


def edge_copies(lift) -> np.ndarray:
    """Lifted edge id of copy ``m`` of every base edge ``e`` (the copy leaving factor copy ``(a, m)``).

    Returns
    -------
    ndarray of int64, shape (base.n_edge, M)
        ``out[e, m] = M*fac_ptr[a] + m*deg(a) + slot(e)``; the lifted edge joins factor
        copy ``a*M + m`` and variable copy ``edge_var[e]*M + perms[e, m]``.

    Examples
    --------
    >>> import fgraph
    >>> base = fgraph.problems.ising_grid(2).graph
    >>> L = lift(base, 2, perms=np.tile([1, 0], (base.n_edge, 1)))
    >>> E = edge_copies(L)
    >>> bool(np.array_equal(L.edge_var[E], base.edge_var[:, None] * 2 + L.perms))
    True
    """
    L = _check_lift(lift)
    off, stride = _edge_offsets(L.base.wiring, L.M)
    return off[:, None] + stride[:, None] * np.arange(L.M, dtype=INDEX)


def lift_messages(messages, lift) -> np.ndarray:
    """Copy per-edge base messages onto every copy of their edge (a lifted message state).

    Parameters
    ----------
    messages : array_like of float, shape (base.n_edge, ...)
        E.g. a base run's ``f2v`` (n_edge, q_max).
    lift : Lift

    Returns
    -------
    ndarray of float64, shape (base.n_edge * M, ...)
        Warm start for the lift: ``run_bp(lift, init=lift_messages(r.f2v, lift))``
        starts (and, by cover invariance, stays) at the lifted base fixed point.

    Examples
    --------
    >>> import fgraph, algorithms
    >>> base = fgraph.problems.ising_grid(3, J=0.3).graph
    >>> rng = np.random.default_rng(0)
    >>> L = lift(base, 4, perms=np.argsort(rng.random((base.n_edge, 4)), axis=1))
    >>> r = algorithms.run_bp(base, tol=1e-12)
    >>> rl = algorithms.run_bp(L, init=lift_messages(r.f2v, L), tol=1e-12)
    >>> rl.n_iter, bool(abs(rl.log_z - 4 * r.log_z) < 1e-9)
    (1, True)
    """
    L = _check_lift(lift)
    msg = np.asarray(messages, dtype=FLOAT)
    if msg.ndim < 1 or msg.shape[0] != L.base.n_edge:
        raise ValueError(f"messages must have base.n_edge = {L.base.n_edge} rows, got shape {msg.shape}")
    out = np.empty((L.n_edge,) + msg.shape[1:], dtype=FLOAT)
    out[edge_copies(L)] = msg[:, None]
    return out


def copies(values, lift) -> np.ndarray:
    """Per-copy view of a per-variable array of the lift.

    Parameters
    ----------
    values : ndarray, shape (base.n_var * M, ...)
        E.g. ``BPResult.beliefs`` (n_var * M, q_max) or a MAP state (n_var * M,).
    lift : Lift

    Returns
    -------
    ndarray, shape (base.n_var, M, ...)
        ``out[i, m]`` is variable copy ``(i, m)``.  A reshape: a view (no copy) when
        ``values`` is C-contiguous, as engine results are.

    Examples
    --------
    >>> import fgraph, algorithms
    >>> base = fgraph.problems.ising_grid(2, J=0.3, h=0.1).graph
    >>> L = lift(base, 2, perms=np.tile([1, 0], (base.n_edge, 1)))
    >>> b = algorithms.run_bp(L).beliefs
    >>> c = copies(b, L)
    >>> c.shape, bool(np.shares_memory(c, b))
    ((4, 2, 2), True)
    """
    L = _check_lift(lift)
    arr = np.asarray(values)
    if arr.ndim < 1 or arr.shape[0] != L.n_var:
        raise ValueError(f"values must have lift.n_var = {L.n_var} rows, got shape {arr.shape}")
    return arr.reshape((L.base.n_var, L.M) + arr.shape[1:])


# =========================================================================== projection
def _beliefs_of(result, L: Lift) -> np.ndarray:
    b = result if isinstance(result, np.ndarray) else getattr(result, "beliefs", None)
    if b is None:
        raise TypeError(f"expected a result with .beliefs or a beliefs array, got {type(result).__name__}")
    b = np.asarray(b)
    if b.ndim != 2 or b.shape[0] != L.n_var:
        raise ValueError(
            f"beliefs must have shape (lift.n_var, q) = ({L.n_var}, q), got {b.shape}; "
            "was the result computed on this lift?"
        )
    return b


@dataclass(frozen=True, eq=False)
class ProjectedResult(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """A cover's result projected onto the base graph (averages over copies).

    Attributes
    ----------
    beliefs : ndarray of float64, shape (base.n_var, q_max)
        Mean over copies of the copies' beliefs (padding beyond ``card`` stays 0).
    copy_beliefs : ndarray of float64, shape (base.n_var, M, q_max)
        The copies' beliefs (a view of the result's array).
    log_z_per_copy : float
        ``log_z / M`` (comparable with the base's ``log Z``).
    log_z : float
        The lift's own ``log Z`` (NaN if the result has none).
    M : int
    card : ndarray of int64, shape (base.n_var,)
    """

    beliefs: np.ndarray
    copy_beliefs: np.ndarray
    log_z_per_copy: float
    log_z: float
    M: int
    card: np.ndarray

    @cached_property
    def marginals(self) -> list:
        """One 1-D probability array per base variable (length ``card[i]``), like ``BPResult.marginals``."""
        return [self.beliefs[i, : self.card[i]].copy() for i in range(self.card.size)]


def project(result, lift) -> ProjectedResult:
    """Project a result on a lift back to its base graph.

    Beliefs are averaged over the copies of each variable, i.e. the rational
    pseudo-marginal ``tau_i = M^-1 sum_m b_(i,m)``; ``log Z`` is reported per copy.
    For a max-product result the average of the max-normalised beliefs is returned as is.

    Parameters
    ----------
    result : BPResult (anything with ``beliefs`` and ``log_z``) or beliefs array
        Computed on ``lift``; beliefs of shape (lift.n_var, q_max).
    lift : Lift

    Returns
    -------
    ProjectedResult

    Examples
    --------
    >>> import fgraph, algorithms
    >>> base = fgraph.problems.ising_grid(3, J=0.4, h=0.2).graph
    >>> rng = np.random.default_rng(1)
    >>> L = lift(base, 3, perms=np.argsort(rng.random((base.n_edge, 3)), axis=1))
    >>> p = project(algorithms.run_bp(L, tol=1e-12), L)
    >>> r = algorithms.run_bp(base, tol=1e-12)
    >>> bool(np.allclose(p.beliefs, r.beliefs)), bool(abs(p.log_z_per_copy - r.log_z) < 1e-9)
    (True, True)
    """
    L = _check_lift(lift)
    b = _beliefs_of(result, L)
    cb = copies(b, L)
    lz = float(getattr(result, "log_z", np.nan)) if not isinstance(result, np.ndarray) else float("nan")
    return ProjectedResult(
        beliefs=readonly(cb.mean(axis=1, dtype=FLOAT)),
        copy_beliefs=cb,
        log_z_per_copy=lz / L.M,
        log_z=lz,
        M=L.M,
        card=L.base.card,
    )


def copy_spread(result, lift) -> np.ndarray:
    """How far the copies of each variable disagree: max over copies of the TV distance to their mean.

    Parameters
    ----------
    result : BPResult or beliefs array, shape (lift.n_var, q_max)
    lift : Lift

    Returns
    -------
    ndarray of float64, shape (base.n_var,)
        ``max_m 1/2 sum_x |b_(i,m)(x) - mean_m' b_(i,m')(x)|``, in [0, 1); zero
        for a lifted state (e.g. BP from uniform messages).

    Examples
    --------
    >>> import fgraph
    >>> base = fgraph.problems.ising_grid(2).graph
    >>> L = lift(base, 2, perms=np.tile([0, 1], (base.n_edge, 1)))
    >>> b = np.tile([[0.5, 0.5], [0.9, 0.1]], (4, 1))     # copy 0 uniform, copy 1 biased
    >>> copy_spread(b, L).round(3).tolist()
    [0.2, 0.2, 0.2, 0.2]
    """
    L = _check_lift(lift)
    cb = copies(_beliefs_of(result, L), L)
    dev = 0.5 * np.abs(cb - cb.mean(axis=1, keepdims=True)).sum(axis=2)
    return dev.max(axis=1)


def copy_overlap(result, lift, matrix: bool = False) -> np.ndarray:
    """Overlaps between copies of binary (±1 spin) variables.

    With the magnetisation of copy ``(i, m)`` ``s_(i,m) = b_(i,m)(1) - b_(i,m)(0)``
    (state 1 is spin +1), the overlap of variable ``i`` is the mean over ordered
    pairs of distinct copies

        q_i = 1/(M(M-1)) sum_{m != m'} s_(i,m) s_(i,m'),

    and the overlap matrix is ``Q[m, m'] = 1/n_var sum_i s_(i,m) s_(i,m')``.

    Parameters
    ----------
    result : BPResult or beliefs array, shape (lift.n_var, 2)
    lift : Lift
        Every base variable must be binary; M >= 2 unless ``matrix``.
    matrix : bool
        Return the (M, M) matrix instead of the per-variable overlaps.

    Returns
    -------
    ndarray of float64, shape (base.n_var,) or (M, M)
        ``q.mean()`` is the usual scalar overlap; a lifted state has ``q_i = s_i**2``.

    Examples
    --------
    >>> import fgraph
    >>> base = fgraph.problems.ising_grid(2).graph
    >>> L = lift(base, 2, perms=np.tile([0, 1], (base.n_edge, 1)))
    >>> b = np.tile([[0.1, 0.9], [0.9, 0.1]], (4, 1))     # copies at s = +0.8 and -0.8
    >>> copy_overlap(b, L).round(2).tolist()
    [-0.64, -0.64, -0.64, -0.64]
    >>> copy_overlap(b, L, matrix=True).round(2).tolist()
    [[0.64, -0.64], [-0.64, 0.64]]
    """
    L = _check_lift(lift)
    nonbinary = np.flatnonzero(L.base.card != 2)
    if nonbinary.size:
        i = int(nonbinary[0])
        raise ValueError(
            f"copy_overlap needs binary variables; base variable {i} has card {int(L.base.card[i])}"
        )
    s = copies(_beliefs_of(result, L), L)
    s = s[:, :, 1] - s[:, :, 0]  # (n_var, M)
    if matrix:
        return s.T @ s / s.shape[0]
    if L.M < 2:
        raise ValueError("copy_overlap needs M >= 2 copies (got M = 1)")
    tot = s.sum(axis=1)
    return (tot * tot - (s * s).sum(axis=1)) / (L.M * (L.M - 1))
