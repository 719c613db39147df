"""The ``mcover amp`` subcommand: AMP on a teacher-student problem against state evolution."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["add_parser"]

PROBLEMS = ("perceptron", "quantized")
CHANNELS = ("sign", "noisy_sign", "gaussian")


def _denoisers(args):
    """(builder prior argument, Prior, channel name for the builder, Channel)."""
    from algorithms import denoiser_from_name

    prior = denoiser_from_name(args.prior, kind="prior")
    if args.problem == "quantized":
        if not hasattr(prior, "levels"):
            raise ValueError(
                f"--problem quantized needs a finite prior such as levels:-1,0,1, got {args.prior!r}"
            )
        channel_name, noise = "gaussian", args.noise if args.noise > 0 else 0.01
    else:
        channel_name, noise = args.channel, args.noise
    if channel_name == "sign":
        if noise != 0:
            raise ValueError(f"--channel sign is noiseless; got --noise {noise} (use noisy_sign)")
        channel = denoiser_from_name("sign", kind="channel")
    else:
        if noise <= 0:
            raise ValueError(f"--channel {channel_name} needs --noise > 0, got {noise}")
        channel = denoiser_from_name(f"{channel_name}:{noise}", kind="channel")
    if args.prior == "binary":
        builder_prior = "binary"
    elif args.prior.startswith("gaussian"):
        builder_prior = "gaussian"
    elif hasattr(prior, "levels"):
        builder_prior = [float(v) for v in prior.levels]
    else:
        raise ValueError(f"--prior {args.prior!r}: the teacher can be binary, gaussian or levels:...")
    return builder_prior, prior, channel_name, noise, channel


def _amp(args) -> int:
    import numpy as np

    from algorithms import AMPConfig, run_amp, run_se
    from fgraph.problems import perceptron, quantized_regression

    if args.n < 2:
        raise ValueError(f"--n must be >= 2, got {args.n}")
    if not args.alpha > 0:
        raise ValueError(f"--alpha must be > 0, got {args.alpha}")
    builder_prior, prior, channel_name, noise, channel = _denoisers(args)
    if args.problem == "perceptron":
        prob = perceptron(args.n, args.alpha, prior=builder_prior, channel=channel_name, noise=noise,
                          seed=args.seed, graph=False)
    else:
        prob = quantized_regression(args.n, args.alpha, builder_prior, noise=noise, seed=args.seed,
                                    graph=False)
    cfg = AMPConfig(damping=args.damping, max_iter=args.iterations, tol=1e-300, dtype=args.dtype)
    lift = None
    if args.M is not None and args.M > 1:
        from lifts import from_spec, glm_perms

        lift = glm_perms(prob, args.M, from_spec(args.kernel), seed=args.seed)
    res = run_amp(prob, prior, channel, cfg, lift=lift, seed=args.seed)
    # SE from q0 = 0, as AMP from the prior mean; tol tiny so it runs every iteration
    se = run_se(prior, channel, prob.F.shape[0] / prob.F.shape[1], init=0.0, max_iter=args.iterations,
                tol=1e-300)
    amp_q = [float(v) for v in res.history["overlap"]]
    se_q = [float(v) for v in se.q[1 : len(amp_q) + 1]]
    out = {
        "problem": args.problem, "n": int(args.n), "p": int(prob.F.shape[0]), "alpha": float(args.alpha),
        "prior": prior.identify(), "channel": channel.identify(), "config": cfg.identify(),
        "M": None if lift is None else int(args.M), "kernel": None if lift is None else args.kernel,
        "iterations": int(res.n_iter), "amp_overlap": amp_q, "se_overlap": se_q,
        "amp_mse": [float(v) for v in res.history["mse"]],
        "se_mse": [float(v) for v in se.mse[1 : len(amp_q) + 1]],
        "seconds": round(float(res.seconds), 4),
    }
    if lift is not None:
        out["amp_overlap_copies"] = np.asarray(res.history["overlap_copies"]).tolist()
    if args.plot is not None:
        _plot(out, args.plot)
        out["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(out))
        return 0
    where = "" if lift is None else f", on a {args.M}-cover ({args.kernel})"
    print(f"AMP vs state evolution: {args.problem}, N = {args.n}, P = {out['p']} (alpha = {args.alpha:g}), "
          f"prior {out['prior']}, channel {out['channel']}{where}")
    print(f"{res.summary()}\n")
    print(f"{'iter':>4} {'AMP overlap':>12} {'SE overlap':>11} {'|diff|':>8} {'AMP mse':>9} {'SE mse':>9}")
    for t, (a, s) in enumerate(zip(amp_q, se_q)):
        print(f"{t + 1:>4} {a:12.5f} {s:11.5f} {abs(a - s):8.4f} {out['amp_mse'][t]:9.5f} "
              f"{out['se_mse'][t]:9.5f}")
    print("\noverlap = xhat . x* / N (AMP, one instance) and q_t of Bayes-optimal state evolution "
          "(infinite N)")
    if args.plot is not None:
        print(f"figure written to {args.plot}")
    return 0


def _plot(out: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    t = range(1, len(out["amp_overlap"]) + 1)
    ax.plot(t, out["se_overlap"], "-", label="state evolution")
    ax.plot(t, out["amp_overlap"], "o", ms=4, label=f"AMP, N = {out['n']}")
    for row in zip(*out.get("amp_overlap_copies", [])):
        ax.plot(t, row, "-", lw=0.5, alpha=0.5, c="C2")
    ax.set_xlabel("iteration")
    ax.set_ylabel("overlap with the teacher")
    ax.set_title(f"{out['problem']}, alpha = {out['alpha']:g}, {out['prior']} / {out['channel']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_parser(sub) -> None:
    """Register ``amp`` on the subparsers of the ``mcover`` parser."""
    pa = sub.add_parser("amp", help="AMP on a teacher-student problem, against state evolution")
    pa.add_argument("--problem", choices=PROBLEMS, default="perceptron", help="default perceptron")
    pa.add_argument("--prior", default="binary",
                    help="binary | gaussian | levels:-1,0,1 (teacher and AMP prior; default binary)")
    pa.add_argument("--channel", choices=CHANNELS, default="sign", help="default sign")
    pa.add_argument("--noise", type=float, default=0.0, help="channel noise variance (default 0)")
    pa.add_argument("--alpha", type=float, default=2.0, help="samples per weight P/N (default 2)")
    pa.add_argument("--n", type=int, default=2000, help="number of weights N (default 2000)")
    pa.add_argument("--iterations", type=int, default=20, help="AMP and SE iterations (default 20)")
    pa.add_argument("--damping", type=float, default=0.0, help="AMP damping in [0, 1) (default 0)")
    pa.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    pa.add_argument("--M", type=int, default=None, help="run AMP on an M-cover of the dense factor graph")
    pa.add_argument("--kernel", default="uniform",
                    help="kernel of the cover, a spec as for mcover lift (default uniform)")
    pa.add_argument("--seed", type=int, default=0, help="seed of the instance (default 0)")
    pa.add_argument("--plot", type=Path, default=None, help="save the overlap curves to PNG")
    pa.add_argument("--json", action="store_true", help="print one JSON object")
    pa.set_defaults(func=_amp)
