"""The ``mcover`` command line.

Subcommands (this release): ``info FILE``, ``bp FILE``, ``lift FILE``, ``compare FILE``,
``amp``, ``route``, ``quant``, ``ste``, ``sweep`` and ``demo``.  Every subcommand prints a readable table by
default and, with ``--json``, one JSON object on stdout whose keys are documented in README.md and
kept stable.  Errors in user input (missing or malformed files, bad options)
exit with status 2 and a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import fgraph
from fgraph import exact

from . import cli_amp, cli_cover, cli_quant, cli_route, cli_ste, cli_sweep, demo

__all__ = ["main", "build_parser"]

#: ``info`` computes exact log Z only while log2(largest cluster table) stays below this.
INFO_MAX_WIDTH = exact.DEFAULT_MAX_WIDTH


def _finite_or_none(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _info(args) -> int:
    g = fgraph.read(args.file, evidence=args.evidence)
    out = g.summary()
    out["file"] = str(args.file)
    out["log_z"] = None
    out["log_z_note"] = None
    t0 = time.perf_counter()
    order = exact.elimination_order(g)
    out["induced_width"] = int(order.width)
    try:
        lz = float(exact.log_z(g, max_width=args.max_width))
        out["log_z"] = lz if math.isfinite(lz) else None
        out["log_z_note"] = "exact" if math.isfinite(lz) else "Z = 0 (contradictory evidence or constraints)"
        out["log_z_seconds"] = round(time.perf_counter() - t0, 3)
    except ValueError as err:  # the cluster-size limit: report honestly, never guess
        out["log_z_note"] = f"not computed: {err}"
    if args.json:
        print(json.dumps(out))
        return 0
    rows = [
        ("file", out["file"]),
        ("variables", out["n_variables"]),
        ("factors", out["n_factors"]),
        ("edges", out["n_edges"]),
        ("cardinalities", ", ".join(f"{c}: {n}" for c, n in out["cardinalities"].items())),
        ("factor types", ", ".join(f"{k}: {v}" for k, v in out["factor_types"].items()) or "none"),
        ("variable degree", _deg(out["variable_degree"])),
        ("factor degree", _deg(out["factor_degree"])),
        ("observed variables", out["n_evidence"]),
        ("induced width", out.get("induced_width", "?")),
        ("log Z", f"{out['log_z']:.10g}" if out["log_z"] is not None else "-"),
        ("", out["log_z_note"] or ""),
    ]
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    return 0


def _bp(args) -> int:
    import algorithms

    g = fgraph.read(args.file, evidence=args.evidence)
    cfg = algorithms.BPConfig(
        mode=args.mode, damping=args.damping, schedule=args.schedule, max_iter=args.max_iter, tol=args.tol,
        n_threads=args.threads,
    )
    res = algorithms.run_bp(g, cfg, init=args.init, seed=args.seed)
    names = g.var_names or tuple(str(i) for i in range(g.n_var))
    out = {
        "file": str(args.file),
        "config": cfg.identify(),
        "converged": bool(res.converged),
        "iterations": int(res.n_iter),
        "residual": float(res.residuals[-1]) if res.residuals.size else None,
        "log_z": _finite_or_none(res.log_z),
        "seconds": round(res.seconds, 4),
        "engine": res.engine,
        "consistent": bool(res.consistent),
        "contradiction": res.contradiction,
        "variables": list(names),
        "marginals": [m.tolist() for m in res.marginals],
    }
    if res.map_state is not None:
        out["map_state"] = res.map_state.tolist()
        out["map_log_score"] = _finite_or_none(g.log_score(res.map_state))
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{cfg.identify()} on {args.file}")
    print(
        f"converged: {res.converged}   sweeps: {res.n_iter}   last residual: {out['residual']:.2e}   "
        f"time: {res.seconds:.3f} s"
    )
    label = "log Z (Bethe)" if args.mode == "sum" else "max-product log score (Bethe form)"
    print(f"{label}: {res.log_z:.10g}")
    if res.map_state is not None:
        print(f"MAP state log-score: {out['map_log_score']:.10g}")
    if not res.consistent:
        print(f"CONTRADICTION: {res.contradiction}")
    shown = range(min(g.n_var, args.show))
    head = "max-marginal" if args.mode == "max" else "marginal"
    print(f"\n{'variable':>10}  {head}" + ("   MAP" if res.map_state is not None else ""))
    for i in shown:
        probs = " ".join(f"{p:.4f}" for p in res.marginals[i])
        extra = f"   {int(res.map_state[i])}" if res.map_state is not None else ""
        print(f"{names[i]:>10}  {probs}{extra}")
    if g.n_var > args.show:
        print(f"... {g.n_var - args.show} more (use --show N or --json)")
    if not res.converged:
        print("\nwarning: BP did not converge; try --damping 0.5 or --schedule sequential", file=sys.stderr)
    return 0


def _deg(d) -> str:
    return f"min {d['min']}, mean {d['mean']:.3g}, max {d['max']}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mcover`` command.

    Examples
    --------
    >>> build_parser().parse_args(["info", "model.uai", "--json"]).json
    True"""
    p = argparse.ArgumentParser(
        prog="mcover",
        description="Message passing on factor graphs and their M-covers.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    pi = sub.add_parser("info", help="describe a model file (.uai, .fg, .alist) and its exact log Z")
    pi.add_argument("file", type=Path, help="model file: .uai (MARKOV/BAYES), .fg (libDAI) or .alist")
    pi.add_argument("--evidence", type=Path, default=None, help="UAI .evid evidence file")
    pi.add_argument(
        "--max-width",
        type=int,
        default=INFO_MAX_WIDTH,
        help=f"largest log2 of a cluster table's size for exact log Z (default {INFO_MAX_WIDTH})",
    )
    pi.add_argument("--json", action="store_true", help="print one JSON object")
    pi.set_defaults(func=_info)
    pb = sub.add_parser("bp", help="run belief propagation on a model file")
    pb.add_argument("file", type=Path, help="model file: .uai, .fg or .alist")
    pb.add_argument("--evidence", type=Path, default=None, help="UAI .evid evidence file")
    pb.add_argument("--mode", choices=("sum", "max"), default="sum", help="sum- or max-product (default sum)")
    pb.add_argument("--damping", type=float, default=0.0, help="damping in [0, 1) (default 0)")
    pb.add_argument("--schedule", choices=("parallel", "sequential", "residual"), default="parallel")
    pb.add_argument("--max-iter", type=int, default=1000, help="largest number of sweeps (default 1000)")
    pb.add_argument("--tol", type=float, default=1e-9, help="convergence threshold (default 1e-9)")
    pb.add_argument("--init", choices=("uniform", "random"), default="uniform", help="initial messages")
    pb.add_argument("--seed", type=int, default=None, help="seed for --init random")
    pb.add_argument("--threads", type=int, default=None, help="threads for the parallel kernels")
    pb.add_argument("--show", type=int, default=20, help="variables shown in the table (default 20)")
    pb.add_argument("--json", action="store_true", help="print one JSON object")
    pb.set_defaults(func=_bp)
    cli_cover.add_parsers(sub)
    cli_amp.add_parser(sub)
    cli_route.add_parser(sub)
    cli_quant.add_parser(sub)
    cli_ste.add_parser(sub)
    cli_sweep.add_parser(sub)
    pd = sub.add_parser("demo", help="run the built-in demonstration")
    pd.add_argument("--size", type=int, default=8, help="side of the Ising grid (default 8)")
    pd.add_argument("--code-length", type=int, default=4000, help="LDPC code length (default 4000)")
    pd.add_argument("--M", type=int, default=8, help="copies in the cover and routing parts (default 8)")
    pd.add_argument("--plot", type=Path, default=Path("mcover_demo.png"),
                    help="where the cover figure is saved (default ./mcover_demo.png)")
    pd.add_argument("--no-plot", action="store_true", help="do not save the figure")
    pd.add_argument("--json", action="store_true", help="also print the results as JSON")
    pd.set_defaults(func=demo.run)
    return p


def main(argv=None) -> int:
    """Entry point of the ``mcover`` console script; returns the exit status.

    Examples
    --------
    >>> main(["info", "--help"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    SystemExit: 0"""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, IsADirectoryError) as err:
        print(f"mcover {args.command}: error: {err}", file=sys.stderr)
        return 2
