"""Learning by message passing on the routed cover: BP copies of the binary perceptron (docs/theory.md §7.8).

Routed training keeps M copies of the weights and lets every example's local rule act
on routed models whose weights come from different copies along permutations drawn
from a kernel Q.  With per-weight routing these permutations are the M-cover of the
factor graph (variables = weights, factors = examples), so relaxed BP with the ``glm``
rule (:func:`algorithms.run_bp`) on that cover *is* routing with BP messages as the
local rule: factor copy ``(mu, m)`` reads weight ``i`` from copy ``pi_mu,i(m)`` and
sends its message back to that copy.

**Symmetry breaking.**  BP from uniform messages on any cover stays the lifted base
fixed point (all copies equal: the cover invariance, docs/theory.md §3 and §7.3,
invariant 3).  Each copy therefore starts from its own random *messages*: variable
copy ``(i, m)`` draws a field ``h_(i,m) ~ N(0, init_scale^2)`` and every factor
message into it starts at the log-odds ``2 h_(i,m) / deg(i)``, so its initial
belief is ``P(w = +1) = sigmoid(2 h)``, i.e. magnetisation ``tanh(h)``.  Only the starting
point is random: the evidence, hence the fixed-point equations, are those of the cover.

**Reinforcement** (Braunstein & Zecchina 2006, optional).  An outer loop of short
:func:`~algorithms.run_bp` runs, each warm-started from the previous messages.  Before
step ``t >= 1`` the evidence of every variable copy becomes

    log phi_i^(t)(x) = log phi_i(x) + gamma_t log b_i^(t-1)(x),
    gamma_t = 1 - (1 - gamma_1) (1 - growth)^(t-1),

where ``b^(t-1)`` is the belief at the end of the previous step (itself including the
previous evidence), so the reinforcing field accumulates geometrically as
``gamma_t -> 1`` and drives every copy's marginals towards a single configuration.

Examples
--------
>>> import fgraph
>>> prob = fgraph.problems.perceptron(101, 3.0, seed=0)
>>> run = bp_learn(prob, 2, "ring:1.0", seed=1, n_test=2000)
>>> run.weights.shape, run.converged
((2, 101), True)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from algorithms import BPConfig, BPResult, run_bp, run_se
from algorithms.denoisers import from_name
from algorithms.learning import Perceptron, copy_and_ensemble_errors, teacher_test_set
from fgraph.compiled import CompiledGraph
from fgraph.dtypes import FLOAT, INDEX, FrozenPickle, readonly

from .cover import Lift, copies, edge_copies, lift

__all__ = ["BPLearnRun", "bp_learn", "bayes_error"]

#: Floor of the beliefs whose log feeds the reinforcing evidence (log 1e-300 ~ -691): a
#: saturated belief gives a large finite field, never a hard -inf evidence.
BELIEF_FLOOR = 1e-300
#: Fresh test examples for the ensemble error.
N_TEST = 10_000


# =========================================================================== result
@dataclass(frozen=True, eq=False)
class BPLearnRun(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Outcome of :func:`bp_learn` (frozen; arrays read-only).

    Attributes
    ----------
    lift : Lift
        The M-cover BP ran on (``lift.perms`` int64 (P*N, M), edge ``mu*N + i``).
    result : BPResult
        The final BP run on the cover (with reinforcement: the last step, whose graph
        is the cover with the reinforced evidence).
    weights : ndarray of float64, shape (M, N)
        Each copy's weights in {-1, +1}: the sign of its marginal mean (sign 0 = +1).
    magnetizations : ndarray of float64, shape (M, N)
        Marginal means ``b_(i,m)(+1) - b_(i,m)(-1)``.
    copy_gen_errors : ndarray of float64, shape (M,)
        Exact generalization error ``arccos(R_m) / pi`` of each copy,
        ``R_m = w_m . w* / (|w_m| |w*|)`` (docs/theory.md §7.6).
    copy_test_errors : ndarray of float64, shape (M,)
        Error of each copy on the fresh teacher test set (NaN without one).
    ensemble_error : float
        Error of the copies' majority vote on the test set (ties: sign of the summed
        fields); NaN when ``n_test`` is None.
    bayes_error : float
        Bayes-optimal generalization error from state evolution at ``alpha``
        (:func:`bayes_error`).
    train_errors : ndarray of int64, shape (M,)
        Training examples each copy's weights misclassify.
    converged : bool
        The (last) BP run's residual fell below ``tol``.
    n_iter : int
        BP sweeps in total (over all reinforcement steps).
    n_steps : int
        Reinforcement steps (1 without reinforcement).
    alpha : float
        P / N of the instance.
    init_fields : ndarray of float64, shape (N, M), or None
        The random starting field of every variable copy (zeros for
        ``init='uniform'``; None for explicit messages).
    seconds : float
        Wall time of the BP runs.

    Examples
    --------
    >>> import fgraph
    >>> prob = fgraph.problems.perceptron(51, 2.0, seed=3)
    >>> run = bp_learn(prob, 3, "identity", seed=0, n_test=None)
    >>> run.copy_overlaps().shape, run.initial_messages(0).shape
    ((3, 3), (5202, 2))
    """

    lift: Lift
    result: BPResult
    weights: np.ndarray
    magnetizations: np.ndarray
    copy_gen_errors: np.ndarray
    copy_test_errors: np.ndarray
    ensemble_error: float
    bayes_error: float
    train_errors: np.ndarray
    converged: bool
    n_iter: int
    n_steps: int
    alpha: float
    init_fields: np.ndarray | None
    seconds: float
    _init: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"BPLearnRun(M={self.M}, kernel={self.lift.kernel}, N={self.weights.shape[1]}, "
            f"alpha={self.alpha:g}, copy_gen_errors={np.round(self.copy_gen_errors, 4).tolist()}, "
            f"ensemble_error={self.ensemble_error:.4g}, bayes_error={self.bayes_error:.4g}, "
            f"converged={self.converged}, n_iter={self.n_iter}, n_steps={self.n_steps})"
        )

    @property
    def M(self) -> int:
        """Number of copies."""
        return self.lift.M

    def copy_overlaps(self) -> np.ndarray:
        """Overlaps of the copies' weights, float64 (M, M): ``W W^T / N`` (1 on the diagonal)."""
        W = self.weights
        return W @ W.T / W.shape[1]

    def initial_messages(self, m=None) -> np.ndarray:
        """The factor-to-variable log-messages BP started from (before normalisation).

        Parameters
        ----------
        m : int or None
            None: the whole cover's messages; an int: copy ``m`` of every base edge (the
            messages leaving factor copies ``(mu, m)``), base-edge order.

        Returns
        -------
        ndarray of float64, shape (P*N*M, 2) or (P*N, 2)
            With the identity kernel, ``run_bp(lift.base, init=run.initial_messages(m))``
            is copy ``m`` of the run.
        """
        L = self.lift
        msg = self._init if self.init_fields is None else _field_messages(L, self.init_fields)
        if m is None:
            return msg
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or not 0 <= m < L.M:
            raise ValueError(f"m must be a copy index in 0..{L.M - 1}, got {m!r}")
        return msg[edge_copies(L)[:, int(m)]]


# =========================================================================== helpers
def _check_problem(problem):
    """The glm graph, teacher (N,) and (P, N) of a binary teacher-student perceptron, else raise."""
    graph = getattr(problem, "graph", None)
    meta = getattr(problem, "meta", None)
    if not isinstance(graph, CompiledGraph) or not isinstance(meta, Mapping):
        raise TypeError(
            "problem must be a learning problem with a glm factor graph (fgraph.problems.perceptron(..., "
            f"graph=True)), got {type(problem).__name__}"
            + (" without a graph" if hasattr(problem, "graph") and graph is None else "")
        )
    if graph.types != ("glm",) or graph.n_fac == 0:
        raise ValueError(f"problem.graph must hold glm factors only, got factor types {graph.types}")
    levels = meta.get("levels")
    if (levels is None or np.asarray(levels).shape != (2,) or not np.array_equal(levels, [-1.0, 1.0])
            or np.any(graph.card != 2)):
        raise ValueError(f"problem must have binary weights with levels (-1, +1), got levels {levels}")
    teacher = meta.get("teacher")
    if teacher is None or meta.get("kind") != "perceptron":
        raise ValueError(
            "problem must be a teacher-student perceptron (meta kind 'perceptron' with a 'teacher')"
        )
    teacher = np.asarray(teacher, dtype=FLOAT)
    N, P = graph.n_var, graph.n_fac
    if teacher.shape != (N,) or graph.n_edge != P * N:
        raise ValueError(f"problem.graph is not a dense glm graph on the teacher's {teacher.size} weights")
    return graph, teacher, P, N


def _check_real(value, name, lo, hi, lo_open=False, hi_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    v = float(value)
    if v < lo or (lo_open and v == lo) or v > hi or (hi_open and v == hi):
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{name} must be in {left}{lo:g}, {hi:g}{right}, got {value!r}")
    return v


def _check_int(value, name, lo):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {lo}, got {value!r}")
    if value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value}")
    return int(value)


def _streams(seed):
    """(seed for the permutations, Generator of the starting fields, Generator of the test set).

    An int (or None) seeds the permutations directly, so ``lift.perms`` equals
    ``lifts.glm_perms(problem, M, kernel, seed)``; the starting fields and the test set
    come from independent children of ``SeedSequence(seed)``, the same for every kernel.
    A Generator is consumed in that order.
    """
    if isinstance(seed, np.random.Generator):
        return seed, seed, seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}")
    ss = np.random.SeedSequence(None if seed is None else int(seed))
    s_init, s_test, s_perm = ss.spawn(3)
    perm_seed = np.random.default_rng(s_perm) if seed is None else int(seed)
    return perm_seed, np.random.default_rng(s_init), np.random.default_rng(s_test)


def _field_messages(L: Lift, fields: np.ndarray) -> np.ndarray:
    """Lifted f2v log-messages (n_edge, 2) putting the field ``fields[i, m]`` on variable copy (i, m).

    Every edge into variable copy ``(i, m')`` carries ``(-h, +h) / deg(i)`` with
    ``h = fields[i, m']``, so the copy's initial log-odds is ``2 h``.
    """
    base = L.base
    deg = np.diff(base.var_ptr).astype(FLOAT)
    i_e = base.edge_var
    h = fields[i_e[:, None], L.perms] / deg[i_e][:, None]  # (n_edge_base, M): field of the target copy
    out = np.empty((L.n_edge, 2), dtype=FLOAT)
    E = edge_copies(L)
    out[E, 0] = -h
    out[E, 1] = h
    return out


@functools.lru_cache(maxsize=64)
def _se_error(alpha: float, prior: str, channel: str) -> float:
    se = run_se(from_name(prior, kind="prior"), from_name(channel, kind="channel"), alpha)
    return float("nan") if se.gen_error is None else float(se.gen_error[-1])


def bayes_error(alpha, channel: str = "sign", p_plus: float = 0.5) -> float:
    """Bayes-optimal generalization error of the binary perceptron from state evolution.

    State evolution (docs/theory.md §6.5) is iterated from an uninformative overlap
    ``q_0 = 1e-6``; the error is the channel's ``gen_error`` at the fixed point
    (``arccos(sqrt q) / pi`` for the sign channel).  Between ``alpha_IT ~ 1.245`` and
    ``alpha_alg ~ 1.493`` this is the error AMP and BP reach from an uninformative
    start; the information-theoretic optimum is already 0 there.

    Parameters
    ----------
    alpha : float > 0
        Samples per weight P / N.
    channel : str
        A channel name for :func:`algorithms.denoiser_from_name` (``'sign'``,
        ``'noisy_sign:0.1'``...).
    p_plus : float in (0, 1)
        Prior probability of a weight +1.

    Returns
    -------
    float
        NaN for a channel without a generalization error (e.g. Gaussian).

    Examples
    --------
    >>> round(bayes_error(1.0), 4), bayes_error(3.0) < 1e-6
    (0.2306, True)
    """
    alpha = _check_real(alpha, "alpha", 0.0, math.inf, lo_open=True)
    p_plus = _check_real(p_plus, "p_plus", 0.0, 1.0, lo_open=True, hi_open=True)
    prior = "binary" if p_plus == 0.5 else f"binary:{p_plus!r}"
    return _se_error(alpha, prior, str(channel))


def _problem_bayes_error(problem, alpha: float) -> float:
    meta = problem.meta
    w = meta.get("weights")
    p_plus = 0.5 if w is None else float(np.asarray(w, dtype=FLOAT)[1])
    ch = meta.get("channel", "sign")
    noise = float(meta.get("noise", 0.0) or 0.0)
    return bayes_error(alpha, ch if noise == 0.0 else f"{ch}:{noise!r}", p_plus)


def _read_copies(result: BPResult, L: Lift):
    """Magnetizations and sign weights, float64 (M, N) each."""
    cb = copies(result.beliefs, L)  # (N, M, 2)
    mag = np.ascontiguousarray((cb[:, :, 1] - cb[:, :, 0]).T)
    return mag, np.where(mag >= 0.0, 1.0, -1.0)


def _train_errors(problem, W: np.ndarray) -> np.ndarray:
    F = np.asarray(problem.F, dtype=FLOAT)
    y = np.asarray(problem.y, dtype=FLOAT)
    pred = np.where(F @ W.T >= 0.0, 1.0, -1.0)  # (P, M)
    return (pred != y[:, None]).sum(axis=0).astype(INDEX)


# =========================================================================== the learner
def bp_learn(problem, M, kernel=None, *, seed=None, perms=None, init="random", init_scale: float = 1.0,
             reinforcement: float = 0.0, reinforcement_growth: float = 0.05, reinforcement_sweeps: int = 2,
             max_iter: int = 200, damping: float = 0.2, tol: float = 1e-5, n_test=N_TEST, test_seed=None,
             n_threads=None, callback=None) -> BPLearnRun:
    """Learn a binary perceptron with relaxed BP on the M-cover drawn from a kernel Q.

    Parameters
    ----------
    problem : Problem
        A teacher-student perceptron with binary weights and its glm factor graph
        (``fgraph.problems.perceptron(N, alpha, seed=...)``): ``graph`` with N binary
        variables (state 0 = -1, state 1 = +1) and P ``glm`` factors, ``F`` (P, N),
        ``y`` (P,), ``meta['teacher']`` (N,).
    M : int >= 1
        Number of copies (cover degree).
    kernel : Kernel, str or None
        The kernel Q drawing one permutation per edge (``lifts.Ring(1.0)``,
        ``"ring:1.0"``, ``lifts.Identity()``...); None with ``perms``, or for the
        uniform kernel.
    seed : int, numpy Generator or None
        An int draws the permutations exactly as ``lifts.glm_perms(problem, M, kernel,
        seed)``; the starting fields and the test set come from independent streams of
        the same seed (shared by every kernel at a given M).
    perms : array_like of int, shape (P*N, M), optional
        Explicit permutations, row ``mu*N + i`` for edge (mu, i) (the layout of
        :func:`lifts.glm_perms`); then ``kernel`` must be None.
    init : {'random', 'uniform'} or ndarray of float64, shape (P*N*M, 2)
        ``'random'``: variable copy (i, m) starts with the field ``h ~ N(0,
        init_scale^2)`` spread over its incoming messages (module docstring);
        ``'uniform'``: uniform messages (every copy stays the lifted base run);
        an array: the cover's factor-to-variable log-messages (lifted edge order).
    init_scale : float > 0
        Standard deviation of the random starting fields.
    reinforcement : float in [0, 1)
        ``gamma_1`` of the reinforcement schedule; 0 (default) turns it off.  The
        reinforcement loop stops when every copy's weights classify the training set
        without error, when every copy is frozen (``|magnetization| > 1 - tol`` at a
        converged step), or after ``max_iter`` sweeps.  Small values with a slow growth
        (Braunstein & Zecchina's ``gamma_t = 1 - 0.95^t``: ``reinforcement =
        reinforcement_growth = 0.05``) let BP settle before the copies freeze.
    reinforcement_growth : float in (0, 1]
        ``gamma_t = 1 - (1 - gamma_1)(1 - growth)^(t-1)``.
    reinforcement_sweeps : int >= 1
        BP sweeps per reinforcement step.
    max_iter : int >= 1
        BP sweeps in total (over all reinforcement steps).
    damping : float in [0, 1)
        Log-domain damping of the messages (undamped BP oscillates between
        saturated states on some instances).
    tol : float > 0
        Convergence threshold on the largest change of a message (probabilities).
    n_test : int >= 1 or None
        Fresh teacher examples for the test and ensemble errors (None: skip; NaN).
    test_seed : int, Generator or None
        Seed of the test set (default: a stream of ``seed``).
    n_threads : int or None
        Threads of the BP kernels (see :class:`algorithms.BPConfig`).
    callback : callable, optional
        ``callback(step, progress)`` after every sweep, with the reinforcement step
        (0-based; 0 without reinforcement) and the :class:`algorithms.BPProgress` of the
        current run (its ``iteration`` counts within the step); returning True stops.

    Returns
    -------
    BPLearnRun

    Raises
    ------
    TypeError
        ``problem`` has no glm factor graph; an argument of the wrong type.
    ValueError
        ``M < 1``; ``perms`` of the wrong shape or not permutations; both ``kernel`` and
        ``perms``; a problem without binary +-1 weights or a teacher; an argument out
        of range (``reinforcement < 0``...).  Messages name the argument.

    Notes
    -----
    The cover has ``P N M`` edges and each sweep costs ``O(P N M)`` channel evaluations
    (the glm rule, docs/theory.md §6.10); BP's messages take ``4 * 16 P N M`` bytes.
    With the identity kernel copy ``m`` is BP on the base graph from
    ``run.initial_messages(m)``, to round-off (bit for bit in practice).

    Examples
    --------
    >>> import numpy as np, fgraph, lifts
    >>> prob = fgraph.problems.perceptron(201, 3.0, seed=0)
    >>> run = bp_learn(prob, 4, lifts.Ring(1.0), seed=1, n_test=2000)
    >>> run.weights.shape, run.magnetizations.dtype, run.lift.perms.shape
    ((4, 201), dtype('float64'), (121203, 4))
    >>> bool(run.copy_gen_errors.max() < 0.15), bool(run.bayes_error < 1e-3)
    (True, True)
    >>> bool(np.array_equal(run.lift.perms, lifts.glm_perms(prob, 4, lifts.Ring(1.0), seed=1)))
    True
    """
    graph, teacher, P, N = _check_problem(problem)
    if isinstance(M, bool) or not isinstance(M, numbers.Integral):
        raise TypeError(f"M must be an int >= 1, got {M!r}")
    if M < 1:
        raise ValueError(f"M (the number of copies) must be >= 1, got {M}")
    M = int(M)
    init_scale = _check_real(init_scale, "init_scale", 0.0, math.inf, lo_open=True)
    gamma1 = _check_real(reinforcement, "reinforcement", 0.0, 1.0, hi_open=True)
    growth = _check_real(reinforcement_growth, "reinforcement_growth", 0.0, 1.0, lo_open=True)
    step_sweeps = _check_int(reinforcement_sweeps, "reinforcement_sweeps", 1)
    max_iter = _check_int(max_iter, "max_iter", 1)
    damping = _check_real(damping, "damping", 0.0, 1.0, hi_open=True)
    tol = _check_real(tol, "tol", 0.0, math.inf, lo_open=True)
    if n_test is not None:
        n_test = _check_int(n_test, "n_test", 1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    config = BPConfig(damping=damping, tol=tol, max_iter=max_iter, n_threads=n_threads)
    perm_seed, init_rng, test_rng = _streams(seed)

    # ---- the cover
    if perms is not None:
        if kernel is not None:
            raise ValueError(f"give either kernel or perms, not both (kernel={kernel!r})")
        p = np.asarray(perms)
        if p.shape != (P * N, M):
            raise ValueError(f"perms must have shape (P*N, M) = {(P * N, M)}, got {p.shape}")
        L = lift(graph, M, perms=p)
    else:
        L = lift(graph, M, kernel=kernel, seed=perm_seed)

    # ---- starting messages (one random field per variable copy breaks the cover symmetry)
    explicit = None
    if isinstance(init, str):
        if init == "random":
            fields = init_scale * init_rng.standard_normal((N, M))
        elif init == "uniform":
            fields = np.zeros((N, M))
        else:
            raise ValueError(f"init must be 'random', 'uniform' or a message array, got {init!r}")
        fields = readonly(fields)
        f2v = _field_messages(L, fields)
    else:
        fields = None
        explicit = np.asarray(init, dtype=FLOAT)
        if explicit.shape != (L.n_edge, 2):
            raise ValueError(
                f"init messages must have shape (P*N*M, 2) = {(L.n_edge, 2)}, got {explicit.shape}"
            )
        f2v = explicit

    # ---- BP, with the optional reinforcement loop
    t0 = time.perf_counter()
    stop = [False]

    def hook(step):
        if callback is None:
            return None

        def cb(progress):
            if callback(step, progress):
                stop[0] = True
                return True
            return False

        return cb

    if gamma1 == 0.0:
        result = run_bp(L, config, init=f2v, callback=hook(0))
        n_iter, n_steps = result.n_iter, 1
    else:
        base_unary = np.asarray(L.var_unary, dtype=FLOAT)
        n_iter = n_steps = 0
        g = L
        result = None
        while n_iter < max_iter:
            if result is not None:
                gamma = 1.0 - (1.0 - gamma1) * (1.0 - growth) ** (n_steps - 1)
                # the reinforcing evidence: a fraction gamma of the current log-belief, which already
                # holds the previous evidence, so the field accumulates geometrically as gamma -> 1
                logb = np.log(np.maximum(result.beliefs, BELIEF_FLOOR))
                g = dataclasses.replace(L, var_unary=readonly(base_unary + gamma * logb))
            result = run_bp(g, config, init=f2v, callback=hook(n_steps),
                            max_iter=min(step_sweeps, max_iter - n_iter))
            f2v = result.f2v
            n_iter += result.n_iter
            n_steps += 1
            if stop[0]:
                break
            mag, W = _read_copies(result, L)
            if not _train_errors(problem, W).any():
                break  # every copy's weights fit the training set (Braunstein & Zecchina's stop)
            if result.converged and np.all(np.abs(mag) > 1.0 - tol):
                break  # frozen: every copy polarized at a fixed point; reinforcing further changes nothing
    seconds = time.perf_counter() - t0

    # ---- read the copies and score them
    mag, W = _read_copies(result, L)
    R = (W @ teacher) / (math.sqrt(N) * np.linalg.norm(teacher))
    gen = np.arccos(np.clip(R, -1.0, 1.0)) / math.pi
    if n_test is None:
        test_errs, ens = np.full(M, np.nan), float("nan")
    else:
        X, y = teacher_test_set(problem, n_test, seed=test_rng if test_seed is None else test_seed)
        test_errs, ens = copy_and_ensemble_errors(Perceptron(), {"h": W}, X, y)
    alpha = P / N
    return BPLearnRun(
        lift=L,
        result=result,
        weights=readonly(W),
        magnetizations=readonly(mag),
        copy_gen_errors=readonly(gen),
        copy_test_errors=readonly(np.asarray(test_errs, dtype=FLOAT)),
        ensemble_error=float(ens),
        bayes_error=_problem_bayes_error(problem, alpha),
        train_errors=readonly(_train_errors(problem, W)),
        converged=bool(result.converged),
        n_iter=int(n_iter),
        n_steps=int(n_steps),
        alpha=alpha,
        init_fields=fields,
        seconds=seconds,
        _init=explicit,
    )
