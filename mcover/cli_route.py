"""The ``mcover route`` subcommand: routed training of M model copies over several seeds.

For every seed index ``s = 0, ..., seeds - 1`` the subcommand draws a learning
problem and trains M copies of a model on it with permutation routing
(:func:`lifts.route`, docs/theory.md §7), then reports each copy's test error,
the error of the copies' ensemble and of freshly routed models, and their mean
and standard error over the seeds.

Seeds
-----
Row ``s`` uses two integer seeds:

* the *problem seed* ``s`` draws the teacher and the training data
  (``fgraph.problems.perceptron(n, alpha, seed=s)`` or
  ``committee(n, alpha, K, seed=s)``), or the train/test split of
  ``algorithms.learning.datasets.digits_or_teacher(seed=s)`` for the MLP;
* the *training seed* ``TRAIN_SEED_OFFSET + s`` is the ``seed`` of
  :func:`lifts.route` (initial copies, visiting order, permutations, fresh
  test set) and, with ``--baseline``, of :func:`algorithms.learning.train`.

So ``mcover route`` is reproducible, and its numbers are those of calling
:func:`lifts.route` directly with these seeds.

Progress
--------
One tick per seed and epoch (routed and baseline epochs) is drawn as a bar on
standard error, only when standard error is a terminal; standard output holds
nothing but the table or the JSON object.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from .progress import Progress

__all__ = ["add_parser", "TRAIN_SEED_OFFSET", "MODELS", "RULES", "Progress"]

#: The training seed of seed index ``s`` is ``TRAIN_SEED_OFFSET + s`` (the problem seed is ``s``).
TRAIN_SEED_OFFSET = 1000

MODELS = ("perceptron", "committee", "mlp")
#: Local rules of each model (the first is the default).
RULES = {"perceptron": ("clipped", "sbpi"), "committee": ("least_action",), "mlp": ("sgd",)}
#: Routing unit of each model when ``--granularity`` is not given.
DEFAULT_GRANULARITY = {"perceptron": "weight", "committee": "weight", "mlp": "neuron"}
DEFAULTS = {"alpha": 2.0, "n": 1001, "K": 3, "hidden": 64}


def _check_args(args) -> None:
    """Validate the options; ValueError with a one-line message naming the option."""
    if args.model not in MODELS:
        raise ValueError(f"unknown --model {args.model!r}; valid: {', '.join(MODELS)}")
    if args.M < 1:
        raise ValueError(f"--M must be >= 1, got {args.M}")
    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    if args.n_test < 1:
        raise ValueError(f"--n-test must be >= 1, got {args.n_test}")
    rules = RULES[args.model]
    if args.rule is not None and args.rule not in rules:
        raise ValueError(f"unknown --rule {args.rule!r} for --model {args.model}; valid: {', '.join(rules)}")
    if args.model == "mlp":
        given = [f"--{k}" for k in ("alpha", "n", "K") if getattr(args, k) is not None]
        if given:
            verb = "does" if len(given) == 1 else "do"
            raise ValueError(f"{' and '.join(given)} {verb} not apply to --model mlp "
                             "(it trains on the digits data set)")
    else:
        if args.hidden is not None:
            raise ValueError(f"--hidden applies to --model mlp only, not {args.model}")
        if args.K is not None and args.model != "committee":
            raise ValueError(f"--K applies to --model committee only, not {args.model}")
        for k in ("alpha", "n"):
            if getattr(args, k) is None:
                setattr(args, k, DEFAULTS[k])
        if not args.alpha > 0 or not math.isfinite(args.alpha):
            raise ValueError(f"--alpha must be > 0, got {args.alpha}")
        if args.n < 1:
            raise ValueError(f"--n must be >= 1, got {args.n}")
    if args.model == "committee" and args.K is None:
        args.K = DEFAULTS["K"]
    if args.model == "mlp" and args.hidden is None:
        args.hidden = DEFAULTS["hidden"]
    if args.hidden is not None and args.hidden < 1:
        raise ValueError(f"--hidden must be >= 1, got {args.hidden}")
    args.rule = args.rule or rules[0]
    args.granularity = args.granularity or DEFAULT_GRANULARITY[args.model]


def _model(args, n_classes: int | None = None):
    from algorithms.learning import Committee, Perceptron

    if args.model == "perceptron":
        return Perceptron(rule=args.rule)
    if args.model == "committee":
        try:
            return Committee(args.K)
        except (TypeError, ValueError) as err:
            raise ValueError(f"--K: {err}") from None
    from algorithms.learning.mlp import MLP

    return MLP(hidden=args.hidden, n_classes=n_classes)


def _kernel(args):
    from lifts import from_spec

    try:
        kernel = from_spec(args.kernel)
    except (TypeError, ValueError) as err:
        raise ValueError(f"--kernel {args.kernel!r}: {err}") from None
    try:
        kernel.Q(args.M)
    except ValueError as err:
        raise ValueError(f"--kernel {args.kernel!r} does not fit --M {args.M}: {err}") from None
    return kernel


def problem_of(args, s: int):
    """``(training problem, test data or None, model)`` of seed index ``s`` (problem seed ``s``)."""
    if args.model == "mlp":
        from algorithms.learning.datasets import digits_or_teacher

        data = digits_or_teacher(seed=s)
        return data.train, data.test, _model(args, n_classes=int(data.n_classes)), data.source
    from fgraph.problems import committee, perceptron

    if args.model == "perceptron":
        prob = perceptron(args.n, args.alpha, seed=s, graph=False)
    else:
        prob = committee(args.n, args.alpha, args.K, seed=s, graph=False)
    return prob, None, _model(args), None


def _baseline_error(prob, test, model, train_seed, args, tick) -> float:
    """Test error of one model trained alone with ``train`` from the same training seed."""
    import numpy as np

    from algorithms.learning import split_rng, teacher_test_set, train

    run = train(prob, model, epochs=args.epochs, seed=train_seed, callback=tick)
    params = {k: v[None] for k, v in run.params.items()}
    gen = model.gen_errors(params, prob)
    if gen is not None:
        return float(gen[0])
    if test is None:  # the fresh teacher test set route() draws from the same seed
        test = teacher_test_set(prob, args.n_test, split_rng(train_seed)[3])
    X, y = test
    return float(model.errors(params, X, np.asarray(y))[0] / len(y))


def _mean_sem(values):
    import numpy as np

    v = np.asarray(values, dtype=float)
    sem = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else None
    return float(v.mean()), sem


def _route(args) -> int:
    import numpy as np

    from lifts import route

    _check_args(args)
    kernel = _kernel(args)
    # the model's settings (and the granularity) are checked before any training starts
    probe = _model(args, n_classes=2) if args.model == "mlp" else _model(args)
    try:
        probe.check_granularity(args.granularity)
    except ValueError as err:
        raise ValueError(f"--granularity: {err}") from None
    per_seed = args.epochs * (2 if args.baseline else 1)
    bar = Progress(args.seeds * per_seed, "route")
    runs, curves, gen_curves = [], [], []
    model_config = source = None
    n_test = p = None
    t0 = time.perf_counter()
    try:
        for s in range(args.seeds):
            train_seed = TRAIN_SEED_OFFSET + s
            prob, test, model, source = problem_of(args, s)
            model_config = model.identify()
            note = f"seed {s + 1}/{args.seeds}"

            def tick(epoch, params, stats, note=note):
                bar.tick(note=note)

            res = route(prob, model, args.M, kernel, epochs=args.epochs, seed=train_seed,
                        granularity=args.granularity, dynamic=args.dynamic, callback=tick, test=test,
                        n_test=args.n_test)
            copy = [float(v) for v in res.copy_gen_errors]
            row = {
                "seed": s, "problem_seed": s, "train_seed": train_seed,
                "copy_errors": copy, "mean_copy_error": float(np.mean(res.copy_gen_errors)),
                "ensemble_error": float(res.ensemble_error), "routed_error": float(res.routed_error),
                "train_errors": [float(v) for v in res.history["errors"].mean(axis=1)],
            }
            if "gen_error" in res.history:
                row["gen_errors"] = [float(v) for v in res.history["gen_error"].mean(axis=1)]
                gen_curves.append(row["gen_errors"])
            curves.append(row["train_errors"])
            if args.baseline:
                row["baseline_error"] = _baseline_error(prob, test, model, train_seed, args, tick)
            runs.append(row)
            if test is not None:
                n_test = len(test[1])
                p = len(prob[1])
            else:
                n_test = int(args.n_test)
                p = int(prob.F.shape[0])
    finally:
        bar.close()
    summary = {}
    keys = ["mean_copy_error", "ensemble_error", "routed_error"]
    keys += ["baseline_error"] if args.baseline else []
    for k in keys:
        summary[k], summary[k + "_sem"] = _mean_sem([r[k] for r in runs])
    out = {
        "model": args.model, "model_config": model_config, "rule": args.rule, "M": int(args.M),
        "kernel": kernel.identify(), "kernel_spec": args.kernel,
        "alpha": None if args.alpha is None else float(args.alpha),
        "n": None if args.n is None else int(args.n), "K": None if args.K is None else int(args.K),
        "p": int(p), "dataset": source, "epochs": int(args.epochs), "dynamic": bool(args.dynamic),
        "granularity": args.granularity, "seeds": int(args.seeds), "train_seed_offset": TRAIN_SEED_OFFSET,
        "n_test": int(n_test), "baseline": bool(args.baseline), "runs": runs, "summary": summary,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if args.plot is not None:
        _plot(out, args.plot)
        out["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(out))
        return 0
    _table(out)
    return 0


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.4f}"


def _table(out: dict) -> None:
    if out["model"] == "mlp":
        what = f"mlp on {out['dataset']} (P = {out['p']} training, {out['n_test']} test examples)"
    else:
        k = f", K = {out['K']}" if out["K"] is not None else ""
        what = f"{out['model']}{k}, N = {out['n']}, P = {out['p']} (alpha = {out['alpha']:g})"
    cover = "dynamic routing" if out["dynamic"] else "static cover"
    print(f"routed training: {what}")
    print(f"{out['model_config']}, rule {out['rule']}")
    print(f"M = {out['M']} copies, kernel {out['kernel']}, {out['granularity']} routing, {cover}, "
          f"{out['epochs']} epochs, {out['seeds']} seeds ({out['seconds']:.1f} s)\n")
    base = out["baseline"]
    head = (f"{'seed':>4} {'train seed':>10} {'copy error':>10} {'min':>7} {'max':>7} {'ensemble':>8} "
            f"{'routed':>7}" + (f" {'single':>7}" if base else ""))
    print(head)
    for r in out["runs"]:
        line = (f"{r['seed']:>4} {r['train_seed']:>10} {r['mean_copy_error']:10.4f} "
                f"{min(r['copy_errors']):7.4f} {max(r['copy_errors']):7.4f} {r['ensemble_error']:8.4f} "
                f"{r['routed_error']:7.4f}")
        if base:
            line += f" {r['baseline_error']:7.4f}"
        print(line)
    sm = out["summary"]
    print("-" * len(head))
    print(f"{'mean':>15} {_fmt(sm['mean_copy_error']):>10} {'':>7} {'':>7} {_fmt(sm['ensemble_error']):>8} "
          f"{_fmt(sm['routed_error']):>7}" + (f" {_fmt(sm['baseline_error']):>7}" if base else ""))
    print(f"{'± sem':>15} {_fmt(sm['mean_copy_error_sem']):>10} {'':>7} {'':>7} "
          f"{_fmt(sm['ensemble_error_sem']):>8} {_fmt(sm['routed_error_sem']):>7}"
          + (f" {_fmt(sm['baseline_error_sem']):>7}" if base else ""))
    exact = " (exact arccos(R)/pi)" if out["model"] == "perceptron" else ""
    vote = "mean logits" if out["model"] == "mlp" else "majority vote"
    print(f"\ncopy error: test error of each copy{exact}: mean, min and max over the M copies")
    print(f"ensemble: {vote} of the copies; routed: mean error of M freshly routed models")
    if base:
        print("single: one model trained alone from the same training seed")
    if "plot" in out:
        print(f"figure written to {out['plot']}")


def _plot(out: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    seeds = [r["seed"] for r in out["runs"]]
    for r in out["runs"]:
        a.plot([r["seed"]] * len(r["copy_errors"]), r["copy_errors"], ".", c="0.6", ms=4)
    a.plot(seeds, [r["mean_copy_error"] for r in out["runs"]], "o", label="copies (mean)")
    a.plot(seeds, [r["ensemble_error"] for r in out["runs"]], "s", label="ensemble")
    a.plot(seeds, [r["routed_error"] for r in out["runs"]], "^", label="freshly routed")
    if out["baseline"]:
        a.plot(seeds, [r["baseline_error"] for r in out["runs"]], "x", label="single model")
    a.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set_xlabel("seed")
    a.set_ylabel("test error")
    a.legend(fontsize=8)
    epochs = np.arange(1, out["epochs"] + 1)
    train = np.mean([r["train_errors"] for r in out["runs"]], axis=0)
    b.plot(epochs, train, "-", label="training errors (mean over copies and seeds)")
    if all("gen_errors" in r for r in out["runs"]):
        b.plot(epochs, np.mean([r["gen_errors"] for r in out["runs"]], axis=0), "-",
               label="generalization error")
    b.xaxis.set_major_locator(MaxNLocator(integer=True))
    b.set_xlabel("epoch")
    b.set_ylabel("error")
    b.legend(fontsize=8)
    fig.suptitle(f"{out['model']}, M = {out['M']}, {out['kernel']}, {out['granularity']} routing"
                 + (", dynamic" if out["dynamic"] else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_parser(sub) -> None:
    """Register ``route`` on the subparsers of the ``mcover`` parser."""
    pr = sub.add_parser(
        "route", help="train M model copies with permutation routing, over several seeds",
        description=(
            "Train M copies of a model with permutation routing (lifts.route) on one learning problem "
            f"per seed. Seed index s = 0..SEEDS-1 uses problem seed s (teacher and data, or the digits' "
            f"train/test split for --model mlp) and training seed {TRAIN_SEED_OFFSET} + s (the seed of "
            "lifts.route: initial copies, visiting order, permutations, fresh test set; also the seed "
            "of the --baseline model), so every run is reproducible. A progress bar is drawn on "
            "standard error when it is a terminal."),
    )
    pr.add_argument("--model", default="perceptron", metavar="MODEL",
                    help="perceptron | committee | mlp (default perceptron)")
    pr.add_argument("--M", type=int, default=8, help="number of copies (default 8)")
    pr.add_argument("--kernel", default="ring:1",
                    help="mixing kernel spec, as for mcover lift (default ring:1)")
    pr.add_argument("--alpha", type=float, default=None,
                    help=f"examples per weight P/N (default {DEFAULTS['alpha']:g}; not for mlp)")
    pr.add_argument("--n", type=int, default=None,
                    help=f"number of inputs N (default {DEFAULTS['n']}; not for mlp)")
    pr.add_argument("--K", type=int, default=None,
                    help=f"hidden units of the committee, odd (default {DEFAULTS['K']})")
    pr.add_argument("--hidden", type=int, default=None,
                    help=f"hidden units of the mlp (default {DEFAULTS['hidden']})")
    pr.add_argument("--rule", default=None,
                    help="local rule: perceptron clipped (default) | sbpi; committee least_action; mlp sgd")
    pr.add_argument("--epochs", type=int, default=50, help="training epochs (default 50)")
    pr.add_argument("--seeds", type=int, default=10, help="number of seeds, s = 0..SEEDS-1 (default 10)")
    pr.add_argument("--granularity", default=None, metavar="G",
                    help="routing unit: weight | neuron | tensor (default weight; neuron for mlp)")
    pr.add_argument("--dynamic", action="store_true",
                    help="redraw the permutations at every visit instead of one static cover")
    pr.add_argument("--n-test", type=int, default=10_000,
                    help="fresh teacher test examples (default 10000; the mlp uses its test split)")
    pr.add_argument("--baseline", action="store_true",
                    help="also train one model alone (algorithms.learning.train, same training seed)")
    pr.add_argument("--plot", type=Path, default=None, help="save per-seed errors and training curves to PNG")
    pr.add_argument("--json", action="store_true", help="print one JSON object")
    pr.set_defaults(func=_route)
