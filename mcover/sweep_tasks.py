"""The built-in tasks of ``mcover sweep``: one function per subcommand, returning a flat dict.

Each task is a module-level function of keyword arguments that computes what the
subcommand of the same name computes, with the same library functions and the
same helpers of the ``mcover.cli_*`` modules, and returns a flat dict of
JSON-able results (numbers, strings, booleans, None, small lists) for
:func:`mcover.sweep.run`.  The defaults are small, so that a task runs in about a
second; random tasks are deterministic given their ``seed`` parameter.  Wall
times are not results (the sweep records each job's time itself), so calling a
task twice with the same parameters returns equal dicts.

==========  ===================================================================
task        computes
==========  ===================================================================
``bp``      belief propagation on a model file (``mcover bp``)
``compare`` BP on a model and on one of its M-covers (``mcover compare``)
``amp``     GAMP on a teacher-student instance (``mcover amp``; docs/theory.md §6)
``se``      the Bayes-optimal state evolution's fixed point (docs/theory.md §6)
``route``   routed training of M copies, one seed (``mcover route``; docs/theory.md §7)
``quant``   one replica-symmetric fixed point (``mcover quant rs``; docs/theory.md §8.2)
``ste``     online STE training against its theory (``mcover ste``; docs/theory.md §9)
==========  ===================================================================

:data:`BUILTIN` maps these names to the functions and :func:`resolve` turns a
spec's ``"task"`` (a built-in name or ``"module:function"``) into the name that
:func:`mcover.sweep.run` accepts.
"""

from __future__ import annotations

import math
from argparse import Namespace
from pathlib import Path

__all__ = ["BUILTIN", "amp", "bp", "compare", "quant", "resolve", "route", "se", "ste"]


# ----------------------------------------------------------------------------- helpers
def _num(x):
    """A float for JSON: None for inf and nan."""
    x = float(x)
    return x if math.isfinite(x) else None


def _model_path(model: str) -> Path:
    """A model file: an existing path, else the name of a model shipped in ``fgraph/data``."""
    import fgraph

    path = Path(model)
    if path.is_file():
        return path
    if path.name != str(model):  # a path that does not exist
        raise FileNotFoundError(f"model file {model!r} does not exist")
    return Path(fgraph.example_path(model))


def _flatten(obj: dict, prefix: str = "") -> dict:
    """Nested dicts as one flat dict, the keys joined by ``_``: ``{"a": {"b": 1}}`` -> ``{"a_b": 1}``."""
    out = {}
    for k, v in obj.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}_"))
        else:
            out[f"{prefix}{k}"] = v
    return out


# ----------------------------------------------------------------------------- factor graphs
def bp(model: str = "spinglass4x4.fg", schedule: str = "parallel", damping: float = 0.0,
       max_iter: int = 1000, tol: float = 1e-9, mode: str = "sum", init: str = "uniform",
       seed: int | None = None, evidence: str | None = None) -> dict:
    """Belief propagation on a model file, as ``mcover bp`` runs it.

    Parameters
    ----------
    model : str, optional
        A model file (.uai, .fg, .alist) or the name of one shipped in ``fgraph/data``
        (``spinglass4x4.fg``, ``mixed.uai``, ``ldpc_96_3_6.alist``).
    schedule, damping, max_iter, tol, mode, init, seed, evidence : optional
        As the options of ``mcover bp`` (``seed`` matters with ``init="random"`` only).

    Returns
    -------
    dict
        ``log_z`` (Bethe log Z, or the max-product score; None when infinite),
        ``converged``, ``n_iter``, ``residual`` (the last one; None without sweeps),
        ``consistent``.

    Examples
    --------
    >>> r = bp("spinglass4x4.fg", damping=0.2)
    >>> r["converged"], round(r["log_z"], 6)
    (True, 21.701096)
    """
    import algorithms
    import fgraph

    g = fgraph.read(_model_path(model), evidence=None if evidence is None else _model_path(evidence))
    cfg = algorithms.BPConfig(mode=mode, damping=damping, schedule=schedule, max_iter=max_iter, tol=tol)
    res = algorithms.run_bp(g, cfg, init=init, seed=seed)
    return {"log_z": _num(res.log_z), "converged": bool(res.converged), "n_iter": int(res.n_iter),
            "residual": float(res.residuals[-1]) if res.residuals.size else None,
            "consistent": bool(res.consistent)}


def compare(model: str = "spinglass4x4.fg", M: int = 4, kernel: str = "uniform", seed: int = 0,
            init: str = "uniform", damping: float = 0.0, max_iter: int = 1000, tol: float = 1e-9,
            max_length: int = 8, evidence: str | None = None) -> dict:
    """BP on a model and on one of its M-covers, as ``mcover compare`` runs them.

    Parameters
    ----------
    model : str, optional
        A model file or the name of one shipped in ``fgraph/data`` (see :func:`bp`).
    M, kernel, seed, init, damping, max_iter, tol, max_length, evidence : optional
        As the options of ``mcover compare`` (``kernel`` is a kernel spec, docs/cli.md).

    Returns
    -------
    dict
        The ``--json`` object of ``mcover compare`` without ``file`` and ``config``,
        flattened: ``M``, ``kernel``, ``init``, ``base_log_z``, ``base_iterations``,
        ``base_converged``, ``cover_log_z``, ``cover_log_z_per_copy`` (list),
        ``cover_iterations``, ``cover_converged``, ``mean_spread``, ``max_spread``,
        ``overlap``, ``distance_to_base``, ``invariance_error`` and
        ``cycles_base_<k>``, ``cycles_lift_<k>`` (cycles of length k).

    Examples
    --------
    >>> r = compare("spinglass4x4.fg", M=2)
    >>> r["base_converged"], abs(r["cover_log_z"] - 2 * r["base_log_z"]) < 1e-9
    (True, True)
    """
    import algorithms
    import lifts

    from .cli_cover import _kernel_and_lift

    args = Namespace(file=_model_path(model), evidence=None if evidence is None else _model_path(evidence),
                     M=M, kernel=kernel, seed=seed)
    g, _, cover = _kernel_and_lift(args)
    cfg = algorithms.BPConfig(damping=damping, max_iter=max_iter, tol=tol)
    c = lifts.compare(g, cover, init=init, seed=seed, config=cfg, max_length=max_length)
    return _flatten(c.to_dict())


# ----------------------------------------------------------------------------- AMP and SE
def amp(problem: str = "perceptron", prior: str = "binary", channel: str = "sign", noise: float = 0.0,
        alpha: float = 2.0, n: int = 500, iterations: int = 20, damping: float = 0.0, tol: float = 1e-300,
        M: int | None = None, kernel: str = "uniform", seed: int = 0) -> dict:
    """GAMP on a teacher-student instance, as ``mcover amp`` runs it (docs/theory.md §6).

    Parameters
    ----------
    problem, prior, channel, noise, alpha, n, iterations, damping, M, kernel, seed : optional
        As the options of ``mcover amp`` (``n`` defaults to 500 here).
    tol : float, optional
        AMP's convergence threshold; the default 1e-300 is that of ``mcover amp``
        (every iteration runs unless the estimate stops changing altogether).

    Returns
    -------
    dict
        ``p`` (examples), ``iterations`` (run), ``converged``, ``mse`` and
        ``overlap`` (AMP, after the last iteration; means over copies on a cover),
        ``se_mse`` and ``se_overlap`` (state evolution after as many iterations).

    Examples
    --------
    >>> r = amp(alpha=2.0, n=200, iterations=5, seed=1)
    >>> r["p"], r["iterations"], 0 < r["overlap"] <= 1
    (400, 5, True)
    """
    from algorithms import AMPConfig, run_amp, run_se
    from fgraph.problems import perceptron, quantized_regression

    from .cli_amp import _denoisers

    args = Namespace(problem=problem, prior=prior, channel=channel, noise=noise)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    builder_prior, pri, channel_name, noise, chan = _denoisers(args)
    if problem == "perceptron":
        prob = perceptron(n, alpha, prior=builder_prior, channel=channel_name, noise=noise, seed=seed,
                          graph=False)
    else:
        prob = quantized_regression(n, alpha, builder_prior, noise=noise, seed=seed, graph=False)
    cfg = AMPConfig(damping=damping, max_iter=iterations, tol=tol)
    lift = None
    if M is not None and M > 1:
        from lifts import from_spec, glm_perms

        lift = glm_perms(prob, M, from_spec(kernel), seed=seed)
    res = run_amp(prob, pri, chan, cfg, lift=lift, seed=seed)
    p = int(prob.F.shape[0])
    se_res = run_se(pri, chan, p / prob.F.shape[1], init=0.0, max_iter=iterations, tol=1e-300)
    t = int(res.n_iter)
    return {"p": p, "iterations": t, "converged": bool(res.converged),
            "mse": float(res.history["mse"][-1]), "overlap": float(res.history["overlap"][-1]),
            "se_mse": float(se_res.mse[min(t, len(se_res.mse) - 1)]),
            "se_overlap": float(se_res.q[min(t, len(se_res.q) - 1)])}


def se(alpha: float, prior: str = "binary", channel: str = "sign", noise: float = 0.0, init: float = 1e-6,
       max_iter: int = 1000, tol: float = 1e-10, damping: float = 0.0) -> dict:
    """The fixed point of Bayes-optimal state evolution (docs/theory.md §6).

    Parameters
    ----------
    alpha : float
        Samples per weight, ``P/N``.
    prior, channel, noise : optional
        As the options of ``mcover amp`` with ``--problem perceptron``: ``prior``
        ``binary``, ``gaussian`` or ``levels:v1,v2,...``; ``channel`` ``sign``
        (noiseless), ``noisy_sign`` or ``gaussian`` (both need ``noise > 0``).
    init, max_iter, tol, damping : optional
        Of :func:`algorithms.run_se` (``init`` is the initial overlap q0).

    Returns
    -------
    dict
        ``q`` (overlap), ``qhat``, ``mse`` (= rho - q), ``gen_error``, ``rho``,
        ``n_iter``, ``converged``.

    Examples
    --------
    >>> r = se(alpha=2.0)
    >>> r["converged"], 0 < r["q"] <= r["rho"] == 1.0
    (True, True)
    """
    from algorithms import run_se

    from .cli_amp import _denoisers

    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    args = Namespace(problem="perceptron", prior=prior, channel=channel, noise=noise)
    _, pri, _, _, chan = _denoisers(args)
    r = run_se(pri, chan, alpha, init=init, max_iter=max_iter, tol=tol, damping=damping)
    return {"q": _num(r.q_final), "qhat": _num(r.qhat[-1]), "mse": _num(r.mse_final),
            "gen_error": _num(r.gen_error[-1]), "rho": _num(r.rho), "n_iter": int(r.n_iter),
            "converged": bool(r.converged)}


# ----------------------------------------------------------------------------- learning
def route(model: str = "perceptron", M: int = 4, kernel: str = "ring:1", alpha: float | None = None,
          n: int | None = None, K: int | None = None, hidden: int | None = None, rule: str | None = None,
          epochs: int = 5, seed: int = 0, granularity: str | None = None, dynamic: bool = False,
          n_test: int = 1000) -> dict:
    """Routed training of M copies on one problem, as one seed of ``mcover route`` (docs/theory.md §7).

    Parameters
    ----------
    model, M, kernel, alpha, n, K, hidden, rule, epochs, granularity, dynamic, n_test : optional
        As the options of ``mcover route``; the defaults are smaller (``M`` 4, ``epochs`` 5,
        ``n_test`` 1000; ``alpha`` 2 and ``n`` 101 for the perceptron and the committee).
    seed : int, optional
        The seed index s of ``mcover route``: problem seed s, training seed 1000 + s, so the
        results equal row s of ``mcover route --seeds S`` (S > s) with the same options.

    Returns
    -------
    dict
        ``copy_errors`` (list, one test error per copy), ``mean_copy_error``,
        ``ensemble_error``, ``routed_error``, ``train_error`` (mean training error
        over copies after the last epoch), ``p`` (training examples).

    Examples
    --------
    >>> r = route(n=31, M=2, epochs=2, n_test=200)
    >>> len(r["copy_errors"]), 0 <= r["ensemble_error"] <= 1
    (2, True)
    """
    import numpy as np

    from lifts import route as _route

    from .cli_route import TRAIN_SEED_OFFSET, _check_args, _kernel, _model, problem_of

    if model in ("perceptron", "committee"):
        alpha = 2.0 if alpha is None else alpha
        n = 101 if n is None else n
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    args = Namespace(model=model, M=M, kernel=kernel, alpha=alpha, n=n, K=K, hidden=hidden, rule=rule,
                     epochs=epochs, seeds=1, granularity=granularity, dynamic=dynamic, n_test=n_test)
    _check_args(args)
    kern = _kernel(args)
    probe = _model(args, n_classes=2) if args.model == "mlp" else _model(args)
    probe.check_granularity(args.granularity)
    prob, test, mdl, _ = problem_of(args, seed)
    res = _route(prob, mdl, args.M, kern, epochs=args.epochs, seed=TRAIN_SEED_OFFSET + seed,
                 granularity=args.granularity, dynamic=args.dynamic, test=test, n_test=args.n_test)
    p = len(prob[1]) if test is not None else int(prob.F.shape[0])
    return {"copy_errors": [float(v) for v in res.copy_gen_errors],
            "mean_copy_error": float(np.mean(res.copy_gen_errors)),
            "ensemble_error": float(res.ensemble_error), "routed_error": float(res.routed_error),
            "train_error": float(res.history["errors"].mean(axis=1)[-1]), "p": int(p)}


# ----------------------------------------------------------------------------- quantization
def quant(alpha: float = 2.0, bits: int = 2, width: float | None = None, delta: float = 0.1,
          beta: float | None = None, ridge: float = 0.0, kind: str = "midrise",
          levels: str = "uniform") -> dict:
    """One replica-symmetric fixed point, as ``mcover quant rs`` computes it (docs/theory.md §8.2-8.4).

    Parameters
    ----------
    alpha, bits, width, delta, ridge, kind, levels : optional
        As the options of ``mcover quant rs`` (``width`` defaults to 1.5 for uniform levels).
    beta : float or None, optional
        Inverse temperature; None (the default) is zero temperature, ``beta = inf``
        (JSON has no infinity).

    Returns
    -------
    dict
        ``rho0``, ``m``, ``q``, ``Q``, ``chi_tilde``, ``chi``, ``D``, ``S``,
        ``gen_error``, ``gen_error_mean``, ``train_error``, ``train_error_mean``,
        ``lambda_at`` (None when infinite), ``stable``, ``converged``, ``n_iter``.

    Examples
    --------
    >>> r = quant(alpha=2.0, bits=2, width=1.5, delta=0.1, beta=10.0)
    >>> r["converged"], r["gen_error"] > 0
    (True, True)
    """
    from algorithms.theory.replica import solve_rs

    from .cli_quant import RS_KEYS, _check_common, _levels_args

    args = Namespace(alpha=alpha, bits=bits, width=width, delta=delta,
                     beta=math.inf if beta is None else beta, ridge=ridge, kind=kind, levels=levels)
    b = _check_common(args)
    lev, _, _ = _levels_args(args)
    res = solve_rs(alpha, lev, delta, beta=b, ridge=ridge)
    out = {k: _num(getattr(res, k)) for k in RS_KEYS}
    out.update({"stable": bool(res.stable), "converged": bool(res.converged), "n_iter": int(res.n_iter)})
    return out


def ste(bits: int = 2, width: float = 2.0, kind: str = "midrise", eta: float = 0.2, d: int = 100,
        tau: float = 5.0, seed: int = 0, seeds: int = 1, teacher: float | str = 1.0, delta: float = 0.0,
        clipped: bool = False, init_std: float = 1.0, points: int = 11) -> dict:
    """Online STE training against its theory, as ``mcover ste`` runs it (docs/theory.md §9).

    Simulation in dimension ``d`` (:func:`algorithms.theory.ste.simulate`), the
    finite-eta mean-field PDE, its eta -> 0 ODE, the fixed point and the plateau
    length, all through the same function as ``mcover ste``.

    Parameters
    ----------
    bits, width, kind, eta, d, tau, seed, seeds, teacher, delta, clipped, init_std, points : optional
        As the options of ``mcover ste``; the defaults are small (``d`` 100, ``tau`` 5,
        ``eta`` 0.2, ``points`` 11).  ``teacher`` is a number w* or ``"gaussian"``.

    Returns
    -------
    dict
        ``final_error`` (simulated error at tau), ``mean_field_final_error`` and
        ``ode_final_error`` (the PDE and the ODE at tau), ``max_deviation`` (largest
        gap simulation - PDE), ``max_deviation_ode``, ``fixed_point_error`` (eps_inf;
        None when undefined), ``sliding``, ``plateau_length``, ``plateau_error``
        (None without a plateau exit), ``kappa1``, ``kappa2``, ``verdict``.

    Examples
    --------
    >>> r = ste(d=50, tau=2.0, points=5)
    >>> r["final_error"] > 0, r["max_deviation"] >= 0
    (True, True)
    """
    from .cli_ste import _check_args, run_ste

    args = Namespace(bits=bits, width=width, kind=kind, eta=eta, d=d, tau=tau, seeds=seeds, seed=seed,
                     teacher=str(teacher), delta=delta, clipped=clipped, init_std=init_std, points=points)
    _check_args(args)
    out = run_ste(args)
    return {"final_error": out["final_error"], "mean_field_final_error": out["mean_field"]["gen_error"][-1],
            "ode_final_error": out["ode"]["gen_error"][-1], "max_deviation": out["max_deviation"],
            "max_deviation_ode": out["max_deviation_ode"],
            "fixed_point_error": out["fixed_point"]["gen_error"], "sliding": out["fixed_point"]["sliding"],
            "plateau_length": out["plateau_length"], "plateau_error": out["plateau_error"],
            "kappa1": out["kappa1"], "kappa2": out["kappa2"], "verdict": out["verdict"]}


# ----------------------------------------------------------------------------- registry
#: The built-in tasks by name.
BUILTIN = {"bp": bp, "compare": compare, "amp": amp, "se": se, "route": route, "quant": quant, "ste": ste}


def resolve(task) -> str:
    """The ``"module:function"`` name of a spec's task: a built-in name or such a name itself.

    Parameters
    ----------
    task : str
        A key of :data:`BUILTIN` or ``"module:function"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Not a string, or neither a built-in name nor of the form ``module:function``.

    Examples
    --------
    >>> resolve("se")
    'mcover.sweep_tasks:se'
    >>> resolve("mcover.sweep:demo_task")
    'mcover.sweep:demo_task'
    """
    if not isinstance(task, str) or not task:
        raise ValueError(f"task must be a built-in name or 'module:function', not {task!r}")
    if task in BUILTIN:
        return f"{__name__}:{task}"
    if ":" not in task:
        raise ValueError(f"unknown task {task!r}; built-in tasks: {', '.join(BUILTIN)} "
                         "(or give 'module:function')")
    return task
