"""The open table of BP factor rules: factor type name -> rule.

A rule computes, for a contiguous range of factors of one type, the
factor-to-variable messages (``f2v``) from the variable-to-factor messages
(``v2f``) and the factor terms log Z_a of the Bethe free energy (docs/theory.md
§1.3 and §2.3).  Built-in rules
exist for ``table`` and ``unary`` (generic enumeration, with a pairwise fast
path for arity-2 tables), ``ising`` and ``potts`` (closed forms) and ``parity``
(cost linear in the degree).  Users add a rule for their own factor type with
:func:`register_bp_rule`, without editing the package, and test it against
enumeration with :func:`check_bp_rule`.

Conventions every rule follows: messages are float64 log arrays of shape
(n_edge, q_max) with ``-inf`` padding; outputs are normalised (log-sum-exp 0,
or max 0 when ``max_mode``); a factor's outgoing messages are written only to
its own edges' rows (so ranges can run in parallel).

The table is open in both directions: the driver never consults a factor
type's name.  A rule may offer a fused sequential sweep
(:meth:`BPRule.sweep_sequential`) and a block for a flooding engine
(:meth:`BPRule.flooding_engine`); the built-in rules offer theirs, and a
subclass that overrides :meth:`BPRule.f2v` is served by neither (its own code
runs on every schedule).
"""

from __future__ import annotations

import numpy as np

from fgraph.dtypes import as_generator
from fgraph.jit import threads

from . import binary, kernels, scaled

__all__ = [
    "BPRule",
    "TableRule",
    "IsingRule",
    "PottsRule",
    "ParityRule",
    "register_bp_rule",
    "get_bp_rule",
    "bp_rule_names",
    "check_bp_rule",
]

_STUB = '''
    import algorithms
    class {cls}(algorithms.BPRule):
        def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
            # write normalised nu_(a->i) into out[e] for every edge e of factors lo..hi-1
            ...
        def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
            # out[a] = LSE_x [log psi_a(x) + sum_j v2f[e_j, x_j]] for a in lo..hi-1
            ...
    algorithms.register_bp_rule("{name}", {cls}())
'''


class BPRule:
    """Base class of BP factor rules.

    Subclasses implement :meth:`f2v` and :meth:`log_z`; :meth:`sweep_sequential`
    is optional (the driver falls back to one :meth:`f2v` call per factor).
    ``graph.params[t]`` is the parameter block of the rule's factor type and
    ``graph.fac_param[a]`` the row of factor ``a``.

    Examples
    --------
    A rule for a user-defined type that delegates to the dense-table rule
    (correct for any type whose ``log_table`` is small):

    >>> import algorithms
    >>> class Dense(algorithms.BPRule):
    ...     def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
    ...         dense_f2v(graph, lo, hi, v2f, out, max_mode)
    ...     def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
    ...         dense_log_z(graph, lo, hi, v2f, out, max_mode)
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        """Write the normalised factor-to-variable messages of factors lo..hi-1 into ``out``.

        Parameters
        ----------
        graph : CompiledGraph
        t : int
            Block index of the rule's factor type (``graph.types[t]``).
        lo, hi : int
            Factor range (inside the block).
        v2f : ndarray of float64, shape (n_edge, q_max)
            Incoming, normalised variable-to-factor messages.
        out : ndarray of float64, shape (n_edge, q_max)
            Output rows (only the rows of the factors' edges may be written).
        work : ndarray of float64, shape (n_edge, q_max)
            Scratch rows, same ownership rule.
        max_mode : bool
            Max-product instead of sum-product.
        fast : bool
            Allow specialised fast paths.
        """
        raise NotImplementedError

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        """Write ``log Z_a`` of factors lo..hi-1 into ``out[a]`` (float64 (n_fac,))."""
        raise NotImplementedError

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        """One sequential sweep over the factors in ``order``; return the max residual or None.

        Returning None (the default) makes the driver do the sweep itself with
        one :meth:`f2v` call per factor.
        """
        return None

    def flooding_engine(self, graph, t, config):
        """The block this rule offers a flooding engine, or None (the default: the generic sweep).

        A flooding engine runs the whole parallel schedule of a graph in its own
        representation (the tanh domain of :mod:`algorithms.bp.binary`, the
        scaled linear arithmetic of :mod:`algorithms.bp.scaled`).  It is used
        only when the rule of every block of the graph offers a block naming the
        same engine (its ``engine`` attribute) and the engine accepts the graph
        (``engine.accepts(graph, config)``); the engine then calls no rule method.
        A rule that offers a block promises that the engine computes the same
        messages as its :meth:`f2v`.

        Parameters
        ----------
        graph : CompiledGraph
        t : int
            Block index of the rule's factor type.
        config : BPConfig

        Returns
        -------
        object with an ``engine`` attribute, or None
        """
        return None

    def _f2v_is(self, cls) -> bool:
        """Whether this rule's :meth:`f2v` is ``cls.f2v`` (a subclass that overrides f2v is not
        served by ``cls``'s fused kernels or engines: they would bypass the user's code)."""
        return type(self).f2v is cls.f2v

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _wiring(graph):
    return graph.fac_ptr, graph.edge_var, graph.card, graph.fac_param


def _seq_args(graph, f2v, v2f, new, work):
    """(GraphArrays, Messages) of a sequential sweep."""
    return kernels.graph_arrays(graph), kernels.Messages(f2v, v2f, new, work)


class TableRule(BPRule):
    """Dense tables of any arity and mixed cardinalities (also used for ``unary``).

    Cost per factor: O(deg * prod(cards)).  When every factor of the block has
    arity 2 and ``fast`` is set, the pairwise kernel is used instead.

    Examples
    --------
    >>> import numpy as np, fgraph, algorithms
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_factor([0, 1, 2], np.random.default_rng(0).random((2, 2, 2)))
    >>> algorithms.check_bp_rule("table", g.compile(), seed=0)["max_f2v_error"] < 1e-12
    True
    """

    def _pairwise(self, graph, lo, hi, fast):
        if not fast or hi <= lo:
            return False
        deg = np.diff(graph.fac_ptr[lo : hi + 1])
        return bool(np.all(deg == 2))

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        p = graph.params[t]
        fac_ptr, edge_var, card, fac_param = _wiring(graph)
        if self._pairwise(graph, lo, hi, fast):
            kernels.pair_range(lo, hi, fac_ptr, edge_var, card, fac_param, p["ptr"], p["logp"], v2f, out,
                               max_mode)
        else:
            kernels.table_range(lo, hi, fac_ptr, edge_var, card, fac_param, p["ptr"], p["logp"], v2f, out,
                                work,
                          max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        p = graph.params[t]
        fac_ptr, edge_var, card, fac_param = _wiring(graph)
        kernels.table_log_z(lo, hi, fac_ptr, edge_var, card, fac_param, p["ptr"], p["logp"], v2f, out,
                            max_mode)

    def flooding_engine(self, graph, t, config):
        """The block offered to a flooding engine (sum-product, ``scaled_tables``), unless f2v is overridden.

        Binary tables of arity 1 or 2 with positive entries go to the tanh
        engine's ratio form (:func:`algorithms.bp.binary.pair_table_block`,
        decided from the tables), provided every variable is binary and every
        other block of the graph served by an unmodified table rule qualifies
        too (so that the graph's table blocks never split between two engines);
        otherwise the scaled-table engine's block (:func:`algorithms.bp.scaled.table_block`).
        ``fast_paths`` plays no part.
        """
        if not self._f2v_is(TableRule):
            return None
        block = binary.pair_table_block(graph, t, config)
        if block is not None and binary.TANH.accepts(graph, config) and all(
            binary.pair_table_block(graph, u, config) is not None for u in _table_blocks(graph) if u != t
        ):
            return block
        return scaled.table_block(graph, t, config)

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        if not self._f2v_is(TableRule):
            return None
        p = graph.params[t]
        lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
        g, m = _seq_args(graph, f2v, v2f, new, work)
        return kernels.seq_table(order, g, p["ptr"], p["logp"], m, damping,
                           max_mode, self._pairwise(graph, lo, hi, fast))


def _table_blocks(graph):
    """Non-empty blocks of the graph whose registered rule is an unmodified :class:`TableRule`."""
    out = []
    for u, name in enumerate(graph.types):
        rule = _RULES.get(name)
        used = graph.type_ptr[u + 1] > graph.type_ptr[u]
        if used and isinstance(rule, TableRule) and rule._f2v_is(TableRule):
            out.append(u)
    return out


class IsingRule(BPRule):
    """Ising couplings (binary, closed form): the pairwise fast path.

    Examples
    --------
    >>> import fgraph, algorithms
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_ising([0, 1], J=0.7)
    >>> algorithms.check_bp_rule("ising", g.compile(), seed=1)["max_f2v_error"] < 1e-12
    True
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        kernels.ising_range(lo, hi, graph.fac_ptr, graph.fac_param, graph.params[t]["J"], v2f, out, max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        kernels.ising_log_z(lo, hi, graph.fac_ptr, graph.fac_param, graph.params[t]["J"], v2f, out, max_mode)

    def flooding_engine(self, graph, t, config):
        """The tanh engine's block (sum-product, ``fast_paths``, |J| <= 15), unless f2v is overridden."""
        return binary.ising_block(graph, t, config) if self._f2v_is(IsingRule) else None

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        if not self._f2v_is(IsingRule):
            return None
        g, m = _seq_args(graph, f2v, v2f, new, work)
        return kernels.seq_ising(order, g, graph.params[t]["J"], m, damping, max_mode)


class PottsRule(BPRule):
    """Potts couplings, O(q^2) per factor.

    Examples
    --------
    >>> import fgraph, algorithms
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2, card=3)
    >>> _ = g.add_potts([0, 1], J=1.5)
    >>> algorithms.check_bp_rule("potts", g.compile(), seed=2)["max_f2v_error"] < 1e-12
    True
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        fac_ptr, edge_var, card, fac_param = _wiring(graph)
        J = graph.params[t]["J"]
        kernels.potts_range(lo, hi, fac_ptr, edge_var, card, fac_param, J, v2f, out, max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        fac_ptr, edge_var, card, fac_param = _wiring(graph)
        J = graph.params[t]["J"]
        kernels.potts_log_z(lo, hi, fac_ptr, edge_var, card, fac_param, J, v2f, out, max_mode)

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        if not self._f2v_is(PottsRule):
            return None
        g, m = _seq_args(graph, f2v, v2f, new, work)
        return kernels.seq_potts(order, g, graph.params[t]["J"], m, damping, max_mode)


class ParityRule(BPRule):
    """Parity checks (hard or soft), cost linear in the degree (no 2^degree enumeration).

    Examples
    --------
    >>> import fgraph, algorithms
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(5)
    >>> _ = g.add_parity([0, 1, 2, 3, 4], weight=0.8, target=1)
    >>> algorithms.check_bp_rule("parity", g.compile(), seed=3)["max_f2v_error"] < 1e-12
    True
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        p = graph.params[t]
        kernels.parity_range(lo, hi, graph.fac_ptr, graph.fac_param, p["weight"], p["target"], v2f, out, work,
                       max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        p = graph.params[t]
        kernels.parity_log_z(lo, hi, graph.fac_ptr, graph.fac_param, p["weight"], p["target"], v2f, out,
                             max_mode)

    def flooding_engine(self, graph, t, config):
        """The tanh engine's block (sum-product, ``fast_paths``), unless f2v is overridden."""
        return binary.parity_block(graph, t, config) if self._f2v_is(ParityRule) else None

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        if not self._f2v_is(ParityRule):
            return None
        p = graph.params[t]
        g, m = _seq_args(graph, f2v, v2f, new, work)
        return kernels.seq_parity(order, g, p["weight"], p["target"], m,
                            damping, max_mode)


_RULES: dict[str, BPRule] = {}


def register_bp_rule(factor_type: str, rule: BPRule, overwrite: bool = False) -> BPRule:
    """Register the BP rule of a factor type (from user code; no package edits).

    Parameters
    ----------
    factor_type : str
        Name of a factor type (see :func:`fgraph.register_factor_type`).
    rule : BPRule
    overwrite : bool
        Replace an existing rule.

    Returns
    -------
    BPRule

    Examples
    --------
    >>> import algorithms
    >>> "parity" in algorithms.bp_rule_names()
    True
    """
    if not isinstance(factor_type, str) or not factor_type:
        raise ValueError("factor_type must be a non-empty string")
    if not isinstance(rule, BPRule):
        raise TypeError(f"rule must be an algorithms.BPRule instance, got {type(rule).__name__}")
    if factor_type in _RULES and not overwrite:
        raise ValueError(f"a BP rule for {factor_type!r} is already registered (pass overwrite=True)")
    _RULES[factor_type] = rule
    return rule


def get_bp_rule(factor_type: str) -> BPRule:
    """The rule registered for ``factor_type``; a clear error says what to define if none.

    Examples
    --------
    >>> get_bp_rule("ising")
    IsingRule()
    """
    try:
        return _RULES[factor_type]
    except KeyError:
        cls = "".join(w.capitalize() for w in factor_type.replace("-", "_").split("_")) + "Rule"
        raise ValueError(
            f"no BP rule for factor type {factor_type!r} (rules exist for {sorted(_RULES)}). "
            f"Define and register one:\n{_STUB.format(cls=cls, name=factor_type)}"
            "then check it against enumeration with algorithms.check_bp_rule("
            f"{factor_type!r}, graph)."
        ) from None


def bp_rule_names() -> list[str]:
    """Factor types that have a BP rule.

    Examples
    --------
    >>> {"ising", "parity", "potts", "table"} <= set(bp_rule_names())
    True
    """
    return list(_RULES)


# ----------------------------------------------------------------- enumeration reference
def _lse(x, axis=None):
    with np.errstate(invalid="ignore", divide="ignore"):  # an all -inf slice gives -inf, silently
        m = np.max(x, axis=axis, keepdims=True)
        m = np.where(np.isneginf(m), 0.0, m)
        s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(s, axis=axis) if axis is not None else s.item()


def dense_f2v(graph, lo, hi, v2f, out, max_mode):
    """Reference f2v by enumeration of each factor's dense log-table (any factor type).

    Examples
    --------
    >>> import numpy as np, fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_ising([0, 1], J=1.0)
    >>> cg = g.compile(); v2f = np.log(np.full((2, 2), 0.5)); out = np.zeros((2, 2))
    >>> dense_f2v(cg, 0, 1, v2f, out, False); np.exp(out).round(3).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    for a in range(lo, hi):
        tab = graph.log_table(a)
        edges = np.arange(graph.fac_ptr[a], graph.fac_ptr[a + 1])
        d = edges.size
        for k, e in enumerate(edges):
            # exact cavity: sum the other slots' messages (never subtract a -inf)
            score = tab.copy()
            for k2, e2 in enumerate(edges):
                if k2 != k:
                    shape = [1] * d
                    shape[k2] = tab.shape[k2]
                    score = score + v2f[e2, : tab.shape[k2]].reshape(shape)
            axes = tuple(j for j in range(d) if j != k)
            if not axes:
                row = score
            else:
                row = np.max(score, axis=axes) if max_mode else _lse(score, axis=axes)
            q = tab.shape[k]
            out[e, :] = -np.inf
            out[e, :q] = row
            mx = np.max(row) if max_mode else _lse(row)
            if np.isfinite(mx):
                out[e, :q] -= mx


def factor_score(graph, a, v2f) -> np.ndarray:
    """``log psi_a(x) + sum_j v2f[e_j, x_j]`` over the scope of factor ``a`` (dense).

    Returns
    -------
    ndarray of float64, shape ``tuple(graph.scope_cards(a))``
    """
    tab = graph.log_table(a)
    score = tab.copy()
    for k, e in enumerate(range(graph.fac_ptr[a], graph.fac_ptr[a + 1])):
        shape = [1] * tab.ndim
        shape[k] = tab.shape[k]
        score = score + v2f[e, : tab.shape[k]].reshape(shape)
    return score


def dense_log_z(graph, lo, hi, v2f, out, max_mode):
    """Reference log Z_a by enumeration of each factor's dense log-table."""
    for a in range(lo, hi):
        score = factor_score(graph, a, v2f)
        out[a] = np.max(score) if max_mode else _lse(score.ravel())


def check_bp_rule(rule, graph, n_trials: int = 5, seed=None, tol: float = 1e-9, hard_zeros: bool = True):
    """Compare a BP rule with enumeration on random messages.

    For every factor of the rule's type in ``graph``, draws random normalised
    incoming messages (some entries -inf when ``hard_zeros``), runs the rule
    and the dense-table enumeration (``graph.log_table``), and compares the
    outgoing messages and log Z_a, in sum and max mode.

    Parameters
    ----------
    rule : str or BPRule
        A registered factor type name, or a rule instance (then ``graph`` must
        hold exactly one factor type).
    graph : CompiledGraph
        Holds factors of the rule's type (small enough to enumerate).
    n_trials : int
    seed : int, None or numpy Generator
    tol : float
        Largest allowed absolute difference (log domain, finite entries).
    hard_zeros : bool
        Also test messages with -inf entries.

    Returns
    -------
    dict
        ``max_f2v_error``, ``max_log_z_error``, ``n_factors``, ``n_trials``.

    Raises
    ------
    ValueError
        If the rule differs from enumeration by more than ``tol``, or places
        -inf differently.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(4)
    >>> _ = g.add_parity([0, 1, 2, 3])
    >>> report = check_bp_rule("parity", g.compile(), seed=0)
    >>> report["n_factors"], report["max_f2v_error"] < 1e-12
    (1, True)
    """
    with threads(1):  # small graphs, one kernel call per check: a parallel launch would dominate
        return _check_bp_rule(rule, graph, n_trials, as_generator(seed), tol, hard_zeros)


def _check_bp_rule(rule, graph, n_trials, rng, tol, hard_zeros):
    if isinstance(rule, str):
        name = rule
        rule = get_bp_rule(name)
        if name not in graph.types:
            raise ValueError(f"graph has no factors of type {name!r} (types: {graph.types})")
        t = graph.types.index(name)
    else:
        if len(graph.types) != 1:
            raise ValueError("with a rule instance, graph must hold exactly one factor type")
        t = 0
    lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
    n_edge, q = graph.n_edge, graph.q_max
    err_m = err_z = 0.0
    for trial in range(n_trials):
        v2f = np.full((n_edge, q), -np.inf)
        for e in range(n_edge):
            c = int(graph.card[graph.edge_var[e]])
            row = np.log(rng.dirichlet(np.ones(c)))
            if hard_zeros and trial % 2 == 1 and c > 1 and rng.random() < 0.3:
                row[rng.integers(c)] = -np.inf
            v2f[e, :c] = row - _lse(row)
        for max_mode in (False, True):
            got = np.full((n_edge, q), np.nan)
            want = np.full((n_edge, q), np.nan)
            work = np.zeros((n_edge, q))
            rule.f2v(graph, t, lo, hi, v2f, got, work, max_mode)
            dense_f2v(graph, lo, hi, v2f, want, max_mode)
            edges = slice(int(graph.fac_ptr[lo]), int(graph.fac_ptr[hi]))
            g_, w_ = got[edges], want[edges]
            for e in range(g_.shape[0]):
                c = int(graph.card[graph.edge_var[edges.start + e]])
                a_, b_ = g_[e, :c], w_[e, :c]
                if np.any(np.isnan(a_)) or not np.array_equal(np.isneginf(a_), np.isneginf(b_)):
                    raise ValueError(
                        f"rule for {graph.types[t]!r} places -inf/NaN differently from enumeration on edge "
                        f"{edges.start + e}: rule {a_.tolist()}, enumeration {b_.tolist()}"
                    )
                fin = np.isfinite(b_)
                if fin.any():
                    err_m = max(err_m, float(np.max(np.abs(a_[fin] - b_[fin]))))
            zg = np.full(graph.n_fac, np.nan)
            zw = np.full(graph.n_fac, np.nan)
            rule.log_z(graph, t, lo, hi, v2f, zg, max_mode)
            dense_log_z(graph, lo, hi, v2f, zw, max_mode)
            zg, zw = zg[lo:hi], zw[lo:hi]
            if not np.array_equal(np.isneginf(zg), np.isneginf(zw)) or np.any(np.isnan(zg)):
                raise ValueError(f"rule log_z for {graph.types[t]!r} disagrees on Z_a = 0: {zg} vs {zw}")
            fin = np.isfinite(zw)
            if fin.any():
                err_z = max(err_z, float(np.max(np.abs(zg[fin] - zw[fin]))))
    if err_m > tol or err_z > tol:
        raise ValueError(
            f"rule for {graph.types[t]!r} differs from enumeration: max message error {err_m:.3g}, "
            f"max log Z_a error {err_z:.3g} (tol {tol:g})"
        )
    return {"max_f2v_error": err_m, "max_log_z_error": err_z, "n_factors": hi - lo, "n_trials": n_trials}
