"""Belief propagation on any compiled factor graph (base graph or lift).

The driver: configuration, schedules, Bethe free energy, MAP decoding.  The
numerics live in :mod:`algorithms.bp.kernels` (Numba) and the per-type rules in
:mod:`algorithms.bp.rules`.  Update equations, log domain (docs/theory.md §1.3)::

    mu_{i->a}(x) = log phi_i(x) + sum_{b in di \\ a} nu_{b->i}(x)
    nu_{a->i}(x) = LSE_{x_da \\ x_i} [ log psi_a(x_da) + sum_{j in da \\ i} mu_{j->a}(x_j) ]

max-product replaces LSE by max.  Damping mixes log-messages:
``nu <- (1 - damping) nu_new + damping nu_old``.  The Bethe log partition function
at the returned messages (normalisation-free message form)::

    log Z_B = sum_a log Z_a + sum_i log Z_i - sum_(a,i) log Z_ai

Schedules:

* ``parallel`` (flooding): all v2f from the current f2v, then all f2v;
* ``sequential``: factors in a fixed order (by type block, then id); each factor
  reads fresh v2f computed from the current f2v and updates its messages at once;
* ``residual``: always update the factor whose new messages differ most from the
  current ones (Elidan, McGraw, Koller 2006), with a priority queue.

Convergence: the residual of an iteration is the largest change of any
factor-to-variable message, measured on normalised probabilities.  A run that
reaches ``max_iter`` without the residual falling below ``tol`` returns
``converged=False``.
"""

from __future__ import annotations

import collections
import heapq
import math
import time
from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np

from fgraph.compiled import CompiledGraph
from fgraph.dtypes import FLOAT, FrozenPickle, as_generator
from fgraph.exact import hard_parity_consistent
from fgraph.jit import threads

from . import kernels
from .rules import factor_score, get_bp_rule

__all__ = ["BPConfig", "BPProgress", "BPResult", "run_bp", "bethe_log_z", "bethe_terms"]

SCHEDULES = ("parallel", "sequential", "residual")
MODES = ("sum", "max")


@dataclass(frozen=True)
class BPConfig:
    """Settings of a BP run (a value: hashable, comparable, printable).

    Parameters
    ----------
    mode : {'sum', 'max'}
        Sum-product (marginals, Bethe log Z) or max-product (max-marginals, MAP).
    damping : float in [0, 1)
        Weight of the old message in the log-domain mixture.
    tol : float > 0
        Convergence threshold on the largest message change (probabilities).
    max_iter : int >= 1
        Largest number of sweeps (a sweep updates every factor once).
    schedule : {'parallel', 'sequential', 'residual'}
    n_threads : int or None
        Threads for the parallel kernels (None: one thread for graphs with fewer
        than ``SMALL_GRAPH_EDGES`` edges, Numba's default otherwise).
    fast_paths : bool
        Use specialised kernels where they apply: pairwise tables in the
        log-domain rules, and the odds-form flooding engine of binary Ising
        couplings and parity checks, damped or not (:mod:`algorithms.bp.binary`).
    scaled_tables : bool
        The table rule's flooding engines, for sum-product flooding on graphs of
        dense tables, damped or not.  Binary tables of arity 1 or 2 whose
        entries are all positive (largest-to-smallest ratio at most e^80) run in
        the odds form of :mod:`algorithms.bp.binary` (decided from the tables'
        shapes and values; ``fast_paths`` plays no part); any other tables in
        scaled linear arithmetic with exact log-domain fallbacks wherever a value
        falls below 1e-250 (:mod:`algorithms.bp.scaled`).  Both equal the
        log-domain engine to round-off and are several times faster.  False:
        the log-domain enumeration kernel throughout.

    Examples
    --------
    >>> BPConfig(damping=0.5, schedule="sequential").identify()
    'BP[mode=sum,schedule=sequential,damping=0.5,tol=1e-09,max_iter=1000]'
    """

    mode: str = "sum"
    damping: float = 0.0
    tol: float = 1e-9
    max_iter: int = 1000
    schedule: str = "parallel"
    n_threads: int | None = None
    fast_paths: bool = True
    scaled_tables: bool = True

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        d = self.damping
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not (0.0 <= d < 1.0):
            raise ValueError(f"damping must be a number in [0, 1), got {d!r}")
        t = self.tol
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not (t > 0 and math.isfinite(t)):
            raise ValueError(f"tol must be a positive finite number, got {t!r}")
        m = self.max_iter
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"max_iter must be an int >= 1, got {m!r}")
        n = self.n_threads
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
            raise ValueError(f"n_threads must be None or an int >= 1, got {n!r}")
        if not isinstance(self.fast_paths, bool):
            raise TypeError(f"fast_paths must be a bool, got {self.fast_paths!r}")
        if not isinstance(self.scaled_tables, bool):
            raise TypeError(f"scaled_tables must be a bool, got {self.scaled_tables!r}")

    def identify(self) -> str:
        """One-line description, e.g. ``BP[mode=sum,schedule=parallel,damping=0,tol=1e-09,max_iter=1000]``."""
        extra = "" if self.n_threads is None else f",n_threads={self.n_threads}"
        extra += "" if self.fast_paths else ",fast_paths=False"
        extra += "" if self.scaled_tables else ",scaled_tables=False"
        return (
            f"BP[mode={self.mode},schedule={self.schedule},damping={self.damping:g},"
            f"tol={self.tol:g},max_iter={self.max_iter}{extra}]"
        )


@dataclass(frozen=True, eq=False)
class BPResult(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Outcome of :func:`run_bp` (read-only arrays).

    Attributes
    ----------
    graph : CompiledGraph
    config : BPConfig
    f2v, v2f : ndarray of float64, shape (n_edge, q_max)
        Final normalised log-messages (``v2f`` recomputed from the final ``f2v``).
    beliefs : ndarray of float64, shape (n_var, q_max)
        Variable beliefs (probabilities; max-marginals normalised to max 1 in
        max mode), zero beyond each variable's cardinality.
    log_z : float
        Bethe log partition function at the returned messages (in max mode: the
        same expression with max for LSE, which equals the MAP log-score on trees).
    converged : bool
    n_iter : int
        Sweeps performed.
    residuals : ndarray of float64, shape (n_iter,)
        Largest message change of each sweep.
    map_state : ndarray of int64, shape (n_var,) or None
        Max-product decoding (max mode only), jointly consistent on ties.
    seconds : float
        Wall time of the iterations (v2f, beliefs and log_z are formed on first
        access, outside this time).
    stopped_early : bool
        A callback ended the run.
    engine : str
        What ran the sweeps: ``'tanh'`` or ``'scaled'`` (a flooding engine offered
        by the rules, see :func:`flooding_engine`), ``'rules'`` (the driver
        calling each factor type's rule), or ``'tanh+rules'`` when an engine
        handed over to the rules because its messages left the range in which it
        is exact.
    consistent : bool
        False when the result describes no state of the model (formed on first
        access); :attr:`contradiction` says why.
    contradiction : str or None
        The reason, or None: a variable with no allowed state; hard parity checks
        (with the hard evidence) that have no common solution (GF(2) elimination,
        :func:`fgraph.exact.hard_parity_consistent`), so Z = 0 although BP's
        messages may look fine; a variable whose belief has zero mass (BP found a
        contradiction); a Bethe log Z of -inf; in max mode, a decoded MAP state of
        zero weight.  ``consistent=True`` is not a proof that Z > 0: deciding
        that is as hard as inference.

    Examples
    --------
    Three hard checks that cannot all hold (x0 = x1, x1 = x2, x0 != x2): BP's
    messages stay uniform, and the result says the model has Z = 0.

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_parity([[0, 1], [1, 2]], target=0); _ = g.add_parity([0, 2], target=1)
    >>> r = run_bp(g.compile())
    >>> r.converged, r.consistent
    (True, False)
    >>> print(r.contradiction[:68])
    the hard parity checks and the hard evidence have no common solution
    """

    graph: CompiledGraph
    config: BPConfig
    f2v: np.ndarray
    converged: bool
    n_iter: int
    residuals: np.ndarray
    map_state: np.ndarray | None = None
    seconds: float = 0.0
    stopped_early: bool = False
    engine: str = "rules"

    # v2f, beliefs and log Z are formed from f2v on first access: a decoding loop
    # that only reads hard decisions does not pay for the Bethe free energy.
    def _threads(self):
        return threads(_auto_threads(self.config, self.graph))

    @cached_property
    def v2f(self) -> np.ndarray:
        g = self.graph
        out = np.full_like(self.f2v, -np.inf)  # kernels write only x < card: keep the padding
        with self._threads():
            _var_sweep(g, self.f2v, out, self.config.mode == "max")
        out.flags.writeable = False
        return out

    @cached_property
    def beliefs(self) -> np.ndarray:
        g = self.graph
        logb = np.full((g.n_var, g.q_max), -np.inf)
        max_mode = self.config.mode == "max"
        with self._threads():
            kernels.var_beliefs(g.var_ptr, g.var_edges, g.var_unary, g.card, self.f2v, logb, max_mode)
        with np.errstate(invalid="ignore"):
            probs = np.exp(logb)
        probs[np.isnan(probs)] = 0.0
        probs.flags.writeable = False
        return probs

    @cached_property
    def log_z(self) -> float:
        with self._threads():
            return bethe_log_z(self.graph, self.f2v, self.v2f, self.config.mode == "max")

    @cached_property
    def contradiction(self) -> str | None:
        g = self.graph
        allowed = np.isfinite(g.var_unary) & (np.arange(g.q_max)[None, :] < g.card[:, None])
        dead = np.flatnonzero(~allowed.any(axis=1))
        if dead.size:
            return f"variable {int(dead[0])} has no allowed state (its evidence is zero in every state): " \
                "Z = 0"
        if not hard_parity_consistent(g):
            return ("the hard parity checks and the hard evidence have no common solution (GF(2) "
                    "elimination): Z = 0, and BP's beliefs describe no state of the model")
        empty = np.flatnonzero(~np.any(self.beliefs > 0.0, axis=1))
        if empty.size:
            return (f"BP found a contradiction: the belief of variable {int(empty[0])} has zero mass "
                    "(the messages exclude every state)")
        if self.map_state is not None and g.log_score(self.map_state) == -math.inf:
            return ("the decoded MAP state has zero weight: the model may have no state of positive "
                    "weight (Z = 0), or max-product's max-marginals are inconsistent")
        if self.log_z == -math.inf:
            return "the Bethe log Z is -inf: the messages give zero mass to some factor or variable"
        return None

    @property
    def consistent(self) -> bool:
        return self.contradiction is None

    @cached_property
    def marginals(self) -> list:
        """One 1-D probability array per variable (length ``card[i]``), as fgraph.exact returns."""
        card = self.graph.card
        return [self.beliefs[i, : card[i]].copy() for i in range(self.graph.n_var)]

    @property
    def messages(self) -> tuple:
        """``(f2v, v2f)``: the final messages (warm-start with ``init=result.f2v``)."""
        return self.f2v, self.v2f

    def factor_belief(self, a: int) -> np.ndarray:
        """Belief b_a over the scope of factor ``a`` (probabilities, axes in argument order).

        Returns
        -------
        ndarray of float64, shape ``tuple(graph.scope_cards(a))``
            All zeros if the messages give the factor zero mass (a contradiction).
        """
        g = self.graph
        if not 0 <= a < g.n_fac:
            raise IndexError(f"factor {a} out of range 0..{g.n_fac - 1}")
        score = factor_score(g, a, self.v2f)
        m = np.max(score)
        if not np.isfinite(m):  # BP found a contradiction here: zero mass, as in `beliefs` (never NaN)
            return np.zeros(score.shape)
        p = np.exp(score - m)
        return p / (np.max(p) if self.config.mode == "max" else p.sum())

    def factor_beliefs(self) -> list:
        """Beliefs of every factor (see :meth:`factor_belief`)."""
        return [self.factor_belief(a) for a in range(self.graph.n_fac)]

    def summary(self) -> str:
        """One line: configuration, convergence, iterations, log Z (and a contradiction, if any)."""
        text = (
            f"{self.config.identify()}: converged={self.converged} after {self.n_iter} sweeps, "
            f"residual {self.residuals[-1] if self.residuals.size else float('nan'):.2e}, "
            f"log Z = {self.log_z:.10g}"
        )
        return text if self.consistent else text + f"; CONTRADICTION: {self.contradiction}"


class BPProgress:
    """What a callback sees after each sweep (valid only during the call).

    Attributes
    ----------
    iteration : int
        Sweeps done so far (1-based).
    residual : float
        Largest message change of the last sweep.
    f2v : ndarray of float64, shape (n_edge, q_max)
        Current factor-to-variable log-messages (read-only; formed on first access
        when a flooding engine keeps the messages in another form).
    graph : CompiledGraph
    """

    __slots__ = ("iteration", "residual", "graph", "_f2v", "_max_mode", "_state")

    def __init__(self, iteration, residual, f2v, graph, max_mode, state=None):
        self.iteration = iteration
        self.residual = residual
        self.graph = graph
        self._f2v = f2v
        self._max_mode = max_mode
        self._state = state  # a flooding engine's state (log_messages(out), hard_decision()), or None

    @property
    def f2v(self) -> np.ndarray:
        if self._f2v is None:
            out = np.full((self.graph.n_edge, self.graph.q_max), -np.inf)
            self._state.log_messages(out)
            self._f2v = _ro_view(out)
        return self._f2v

    def log_beliefs(self) -> np.ndarray:
        """Current normalised log-beliefs, float64 (n_var, q_max)."""
        g = self.graph
        out = np.full((g.n_var, g.q_max), -np.inf)  # the kernel writes only x < card[i]
        kernels.var_beliefs(g.var_ptr, g.var_edges, g.var_unary, g.card, self.f2v, out, self._max_mode)
        return out

    def hard_decision(self) -> np.ndarray:
        """Argmax of the current beliefs, int64 (n_var,) (ties: lowest state)."""
        if self._state is not None:
            got = self._state.hard_decision()
            if got is not None:
                return got
        return np.argmax(self.log_beliefs(), axis=1).astype(np.int64)


#: Graphs with fewer edges than this run single-threaded unless n_threads is given: a
#: parallel kernel launch costs more than a sweep over a small graph (and much more on a
#: busy machine).
SMALL_GRAPH_EDGES = 20_000


def _auto_threads(config, graph):
    if config.n_threads is not None:
        return config.n_threads
    return 1 if graph.n_edge < SMALL_GRAPH_EDGES else None


def _rules(graph):
    return [get_bp_rule(name) for name in graph.types]


def flooding_engine(graph, config, rules=None):
    """The flooding engine that runs the whole graph, chosen through the rule table, or None.

    Parallel schedule only.  Every non-empty block's rule is asked for its
    block (:meth:`BPRule.flooding_engine`); the engine runs the graph when every
    rule offers one, all name the same engine, and the engine accepts the graph
    and configuration.  No factor-type name is consulted, so a user's rule
    (which offers no engine unless it says so) always runs as written.

    Parameters
    ----------
    graph : CompiledGraph
    config : BPConfig
    rules : list of BPRule, optional
        The rule of each factor type of the graph (default: the registered ones).

    Returns
    -------
    (engine, blocks) or None
        The engine's ``run(graph, blocks, config, f2v, report)`` iterates from the
        log-messages ``f2v``, writes the final ones back and returns
        ``(history, converged, stopped)``, or ``(history, converged, stopped,
        handover)``: with ``handover`` true the messages left the range in which
        the engine is exact, ``f2v`` holds the last exact ones, and the driver
        continues with the rules for the remaining sweeps.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.problems.ising_grid(3, J=0.5).graph
    >>> flooding_engine(g, BPConfig())[0].name
    'tanh'
    >>> flooding_engine(g.to_tables(), BPConfig(fast_paths=False))[0].name  # binary 2 x 2 tables
    'tanh'
    >>> t = fgraph.FactorGraph(); _ = t.add_variables(card=[2, 3])
    >>> _ = t.add_factor([0, 1], [[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])
    >>> flooding_engine(t.compile(), BPConfig())[0].name  # other tables: scaled arithmetic
    'scaled'
    >>> flooding_engine(g, BPConfig(damping=0.5, fast_paths=False)) is None
    True
    """
    if config.schedule != "parallel" or graph.n_fac == 0:
        return None
    if rules is None:
        rules = _rules(graph)
    blocks = []
    for t, rule in enumerate(rules):
        if graph.type_ptr[t + 1] == graph.type_ptr[t]:
            continue
        block = rule.flooding_engine(graph, t, config)
        if block is None:
            return None
        blocks.append(block)
    engines = {id(b.engine): b.engine for b in blocks}
    if len(engines) != 1:
        return None
    engine = next(iter(engines.values()))
    return (engine, blocks) if engine.accepts(graph, config) else None


def _init_messages(graph, init, rng):
    n_edge, q = graph.n_edge, graph.q_max
    card_e = graph.card[graph.edge_var]
    pad = np.arange(q)[None, :] >= card_e[:, None]
    if (init is None or (isinstance(init, str) and init == "uniform")) and not pad.any():
        return np.full((n_edge, q), -math.log(q))  # every variable has q states: already normalised
    if init is None or (isinstance(init, str) and init == "uniform"):
        f2v = np.where(pad, -np.inf, 0.0)
        f2v = f2v - np.where(pad, 0.0, np.log(card_e)[:, None])
    elif isinstance(init, str) and init == "random":
        f2v = np.log(rng.random((n_edge, q)) + 1e-3)
        f2v[pad] = -np.inf
    elif isinstance(init, str):
        raise ValueError(f"init must be 'uniform', 'random' or a message array, got {init!r}")
    else:
        arr = np.asarray(init, dtype=FLOAT)
        if arr.shape != (n_edge, q):
            raise ValueError(
                f"init messages must have shape (n_edge, q_max) = {(n_edge, q)}, got {arr.shape}"
            )
        if np.any(np.isnan(arr)) or np.any(arr == np.inf):
            raise ValueError("init messages hold NaN or +inf")
        f2v = np.where(pad, -np.inf, arr)
        if np.any(np.all(np.isneginf(f2v), axis=1)):
            e = int(np.flatnonzero(np.all(np.isneginf(f2v), axis=1))[0])
            raise ValueError(f"init message on edge {e} is -inf in every state")
    f2v = np.ascontiguousarray(f2v, dtype=FLOAT)
    # normalise every row to LSE 0
    m = np.max(f2v, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = m + np.log(np.sum(np.exp(f2v - m), axis=1, keepdims=True))
    f2v -= z
    return f2v


def _var_sweep(graph, f2v, v2f, max_mode):
    kernels.var_sweep(graph.var_ptr, graph.var_edges, graph.var_unary, graph.card, f2v, v2f, max_mode)


def bethe_log_z(graph, f2v, v2f=None, max_mode: bool = False) -> float:
    """Bethe log partition function at the messages ``f2v`` (message form).

    ``log Z_B = sum_a log Z_a + sum_i log Z_i - sum_(a,i) log Z_ai``; ``v2f`` is
    recomputed from ``f2v`` when not given.  At a BP fixed point this equals
    ``-F_Bethe`` of the beliefs.

    Parameters
    ----------
    graph : CompiledGraph
    f2v : ndarray of float64, shape (n_edge, q_max)
    v2f : ndarray of float64, shape (n_edge, q_max), optional
    max_mode : bool

    Returns
    -------
    float

    Examples
    --------
    On a tree BP is exact:

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_ising([[0, 1], [1, 2]], J=0.5)
    >>> r = run_bp(g.compile())
    >>> abs(bethe_log_z(r.graph, r.f2v) - fgraph.exact.log_z(r.graph)) < 1e-12
    True
    """
    za, zi, zai = bethe_terms(graph, f2v, v2f, max_mode)
    with np.errstate(invalid="ignore"):
        total = za.sum() + zi.sum() - zai.sum()
    if np.isnan(total):  # -inf - (-inf): a contradiction somewhere
        return -math.inf
    return float(total)


def bethe_terms(graph, f2v, v2f=None, max_mode: bool = False):
    """The three families of terms of the Bethe log partition function (message form).

    ``log Z_B = za.sum() + zi.sum() - zai.sum()`` (see :func:`bethe_log_z`);
    per-item terms let a cover's free energy be split by copy.

    Returns
    -------
    za : ndarray of float64, shape (n_fac,)
        ``log Z_a = LSE_x [log psi_a(x) + sum_i mu_{i->a}(x_i)]``.
    zi : ndarray of float64, shape (n_var,)
        ``log Z_i = LSE_x [log phi_i(x) + sum_a nu_{a->i}(x)]``.
    zai : ndarray of float64, shape (n_edge,)
        ``log Z_ai = LSE_x [mu_{i->a}(x) + nu_{a->i}(x)]``.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2); _ = g.add_ising([0, 1], J=0.5)
    >>> r = run_bp(g.compile())
    >>> za, zi, zai = bethe_terms(r.graph, r.f2v)
    >>> bool(abs(za.sum() + zi.sum() - zai.sum() - r.log_z) < 1e-12)
    True
    """
    f2v = np.ascontiguousarray(f2v, dtype=FLOAT)
    if v2f is None:
        v2f = np.full_like(f2v, -np.inf)
        _var_sweep(graph, f2v, v2f, max_mode)
    za = np.zeros(graph.n_fac)
    for t, rule in enumerate(_rules(graph)):
        lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
        rule.log_z(graph, t, lo, hi, v2f, za, max_mode)
    zi = np.zeros(graph.n_var)
    kernels.var_log_z(graph.var_ptr, graph.var_edges, graph.var_unary, graph.card, f2v, zi, max_mode)
    zai = np.zeros(graph.n_edge)
    kernels.edge_log_z(graph.edge_var, graph.card, v2f, f2v, zai, max_mode)
    return za, zi, zai


def run_bp(graph, config=None, init=None, seed=None, callback=None, **config_overrides) -> BPResult:
    """Run belief propagation on a compiled graph (or a lift).

    Parameters
    ----------
    graph : CompiledGraph
    config : BPConfig, optional
    init : None, 'uniform', 'random' or ndarray of float64, shape (n_edge, q_max)
        Initial factor-to-variable log-messages (warm start with a previous
        result's ``f2v``).
    seed : int, None or numpy Generator
        For ``init='random'``.
    callback : callable, optional
        ``callback(progress)`` after every sweep with a :class:`BPProgress`
        (iteration, residual, current messages, ``hard_decision()``); returning
        True stops the run early.  ``converged`` then reports whether the last
        residual was below ``tol``; ``stopped_early`` is set.
    **config_overrides
        Fields of :class:`BPConfig` (e.g. ``damping=0.5``) overriding ``config``.

    Returns
    -------
    BPResult

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_ising([[0, 1], [1, 2], [2, 0]], J=0.3)
    >>> g.add_field(0, 0.2)
    >>> r = run_bp(g.compile(), tol=1e-12)
    >>> r.converged, r.marginals[0].round(4).tolist()
    (True, [0.3965, 0.6035])
    >>> run_bp(g.compile(), mode="max").map_state.tolist()
    [1, 1, 1]
    """
    if not isinstance(graph, CompiledGraph):
        raise TypeError(
            f"graph must be a CompiledGraph (call FactorGraph.compile()), got {type(graph).__name__}"
        )
    if config is None:
        config = BPConfig()
    if not isinstance(config, BPConfig):
        raise TypeError(f"config must be a BPConfig, got {type(config).__name__}")
    if config_overrides:
        names = {f.name for f in fields(BPConfig)}
        bad = sorted(set(config_overrides) - names)
        if bad:
            raise TypeError(f"unknown BP option(s) {bad}; BPConfig fields are {sorted(names)}")
        config = replace(config, **config_overrides)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    rules = _rules(graph)  # a missing rule is reported before any work
    rng = as_generator(seed)
    max_mode = config.mode == "max"
    f2v = _init_messages(graph, init, rng)
    v2f = np.full_like(f2v, -np.inf)  # kernels write only x < card: keep the -inf padding
    new = np.full_like(f2v, -np.inf)
    work = np.zeros_like(f2v)
    res_e = np.zeros(graph.n_edge)
    history = []
    converged = False
    stopped = False
    engine_name = "rules"
    t0 = time.perf_counter()
    with threads(_auto_threads(config, graph)):
        if config.schedule == "residual":
            flag = [False]
            with threads(1):  # one factor per kernel call: a parallel launch costs more than the work
                history, converged = _residual(
                    graph, rules, config, f2v, v2f, new, work, max_mode, callback, flag
                )
            stopped = flag[0]
        else:
            history = []
            chosen = flooding_engine(graph, config, rules)
            if chosen is not None:
                engine, blocks = chosen

                def report(iteration, residual, state):
                    return callback is not None and bool(
                        callback(BPProgress(iteration, residual, None, graph, max_mode, state=state)))

                out = engine.run(graph, blocks, config, f2v, report)
                history, converged, stopped = list(out[0]), out[1], out[2]
                engine_name = engine.name
                if len(out) > 3 and out[3]:  # the engine left its exact range: the rules carry on
                    engine_name += "+rules"
                    chosen = None
            if chosen is None and not (converged or stopped):
                converged, stopped = _rule_sweeps(graph, rules, config, f2v, v2f, new, work, res_e, max_mode,
                                                  callback, history)
    seconds = time.perf_counter() - t0
    f2v.flags.writeable = False
    hist = np.asarray(history, dtype=FLOAT)
    hist.flags.writeable = False
    result = BPResult(
        graph=graph, config=config, f2v=f2v, converged=converged, n_iter=len(history), residuals=hist,
        seconds=seconds, stopped_early=stopped, engine=engine_name,
    )
    if max_mode:
        with threads(1):  # decoding calls kernels one factor at a time
            map_state = _decode(graph, rules, config, f2v, result.beliefs)
        map_state.flags.writeable = False
        result = replace(result, map_state=map_state)
    return result


def _rule_sweeps(graph, rules, config, f2v, v2f, new, work, res_e, max_mode, callback, history):
    """Parallel or sequential sweeps through each factor type's rule, appending to ``history``.

    Runs until ``config.max_iter`` sweeps are in ``history`` (a flooding engine
    may have done the first ones); returns ``(converged, stopped)``.
    """
    converged = stopped = False
    for it in range(len(history), config.max_iter):
        if config.schedule == "parallel":
            _var_sweep(graph, f2v, v2f, max_mode)
            for t, rule in enumerate(rules):
                lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
                rule.f2v(graph, t, lo, hi, v2f, new, work, max_mode, config.fast_paths)
            kernels.damp_commit(f2v, new, graph.edge_var, graph.card, config.damping, max_mode, res_e)
            r = float(res_e.max()) if res_e.size else 0.0
        else:
            r = _sequential_sweep(graph, rules, config, f2v, v2f, new, work, max_mode)
        history.append(r)
        converged = r < config.tol
        if callback is not None and callback(BPProgress(it + 1, r, _ro_view(f2v), graph, max_mode)):
            stopped = True
            break
        if converged:
            break
    return converged, stopped


def _sequential_sweep(graph, rules, config, f2v, v2f, new, work, max_mode):
    r = 0.0
    for t, rule in enumerate(rules):
        lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
        order = np.arange(lo, hi, dtype=np.int64)
        got = rule.sweep_sequential(graph, t, order, f2v, v2f, new, work, config.damping, max_mode,
                                    config.fast_paths)
        if got is None:  # user rule without a fused sweep: one factor at a time
            got = 0.0
            arrays = kernels.graph_arrays(graph)
            for a in range(lo, hi):
                kernels.load_cavities(a, arrays, f2v, v2f, max_mode)
                rule.f2v(graph, t, a, a + 1, v2f, new, work, max_mode, config.fast_paths)
                got = max(got, kernels.commit_factor(a, graph.fac_ptr, graph.edge_var, graph.card, f2v, new,
                                                     config.damping, max_mode))
        r = max(r, float(got))
    return r


def _ro_view(a):
    v = a.view()
    v.flags.writeable = False
    return v


def _residual(graph, rules, config, f2v, v2f, new, work, max_mode, callback, stopped):
    """Residual BP: a priority queue of factors keyed by the change their update would make."""
    n_fac = graph.n_fac
    history = []
    if n_fac == 0:
        return [0.0], True
    type_of = np.searchsorted(graph.type_ptr, np.arange(n_fac), side="right") - 1
    fac_ptr, edge_var, card = graph.fac_ptr, graph.edge_var, graph.card
    version = np.zeros(n_fac, dtype=np.int64)
    res = np.zeros(n_fac)
    arrays = kernels.graph_arrays(graph)

    def candidate(a):
        t = int(type_of[a])
        kernels.load_cavities(a, arrays, f2v, v2f, max_mode)
        rules[t].f2v(graph, t, a, a + 1, v2f, new, work, max_mode, config.fast_paths)
        return kernels.factor_residual(a, fac_ptr, edge_var, card, f2v, new)

    heap = []
    for a in range(n_fac):
        res[a] = candidate(a)
        heap.append((-res[a], a, 0))
    heapq.heapify(heap)
    budget = config.max_iter * n_fac
    updates = 0
    converged = False
    sweep_max = 0.0
    while heap and updates < budget:
        negr, a, ver = heapq.heappop(heap)
        if ver != version[a]:
            continue
        if -negr < config.tol:
            converged = True
            break
        candidate(a)  # the stored candidate may be stale in `new`: recompute
        r = kernels.commit_factor(a, fac_ptr, edge_var, card, f2v, new, config.damping, max_mode)
        sweep_max = max(sweep_max, r)
        updates += 1
        version[a] += 1
        res[a] = candidate(a)
        heapq.heappush(heap, (-res[a], a, int(version[a])))
        touched = set()
        for e in range(fac_ptr[a], fac_ptr[a + 1]):
            i = edge_var[e]
            for k in range(graph.var_ptr[i], graph.var_ptr[i + 1]):
                b = int(graph.edge_fac[graph.var_edges[k]])
                if b != a:
                    touched.add(b)
        for b in touched:
            version[b] += 1
            res[b] = candidate(b)
            heapq.heappush(heap, (-res[b], b, int(version[b])))
        if updates % n_fac == 0:
            history.append(sweep_max)
            if callback is not None and callback(
                BPProgress(len(history), sweep_max, _ro_view(f2v), graph, max_mode)
            ):
                stopped[0] = True
                break
            sweep_max = 0.0
    if updates % n_fac or not history:
        history.append(max(sweep_max, float(res.max())) if not converged else float(res.max()))
    if not converged and res.max() < config.tol:
        converged = True
    if converged:  # report the convergence measure: the largest pending residual (< tol)
        history[-1] = float(res.max())
    return history, converged


def _decode(graph, rules, config, f2v, probs):
    """MAP state from max-marginals; backtracking when ties make argmax ambiguous.

    Fast path: argmax of each belief.  If some belief has a tie (within 1e-9 of
    its max) or the decoded state has zero weight, variables are fixed one at a
    time in breadth-first order: each takes the best state given the variables
    already fixed (their messages clamped to one-hot), which on trees yields a
    jointly optimal state.
    """
    n_var = graph.n_var
    state = np.argmax(probs, axis=1).astype(np.int64)
    card = graph.card
    valid = np.arange(probs.shape[1])[None, :] < card[:, None]
    near = (probs >= np.max(probs, axis=1, keepdims=True) - 1e-9) & valid
    ties = np.sum(near, axis=1) > 1
    if not np.any(ties) and np.isfinite(graph.log_score(state)):
        return state
    max_mode = True
    v2f = np.full_like(f2v, -np.inf)
    kernels.var_sweep(graph.var_ptr, graph.var_edges, graph.var_unary, card, f2v, v2f, max_mode)
    fixed = np.full(n_var, -1, dtype=np.int64)
    new = np.full_like(f2v, -np.inf)
    work = np.zeros_like(f2v)
    type_of = np.searchsorted(graph.type_ptr, np.arange(graph.n_fac), side="right") - 1
    order = _bfs_order(graph)
    for i in order:
        score = np.array(graph.var_unary[i, : card[i]], dtype=FLOAT)
        for k in range(graph.var_ptr[i], graph.var_ptr[i + 1]):
            e = graph.var_edges[k]
            a = int(graph.edge_fac[e])
            t = int(type_of[a])
            rules[t].f2v(graph, t, a, a + 1, v2f, new, work, True, config.fast_paths)
            score = score + new[e, : card[i]]
        x = int(np.argmax(score))
        fixed[i] = x
        # clamp: every message from i now says "i = x"
        for k in range(graph.var_ptr[i], graph.var_ptr[i + 1]):
            e = graph.var_edges[k]
            v2f[e, :] = -np.inf
            v2f[e, x] = 0.0
    return fixed


def _bfs_order(graph):
    """Variables in breadth-first order over the factor graph (components in id order)."""
    seen = np.zeros(graph.n_var, dtype=bool)
    out = []
    for root in range(graph.n_var):
        if seen[root]:
            continue
        seen[root] = True
        dq = collections.deque([root])
        while dq:
            i = dq.popleft()
            out.append(i)
            for k in range(graph.var_ptr[i], graph.var_ptr[i + 1]):
                a = graph.edge_fac[graph.var_edges[k]]
                for e in range(graph.fac_ptr[a], graph.fac_ptr[a + 1]):
                    j = graph.edge_var[e]
                    if not seen[j]:
                        seen[j] = True
                        dq.append(j)
    return out
