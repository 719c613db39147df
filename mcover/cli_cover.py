"""The ``mcover lift`` and ``mcover compare`` subcommands (M-covers of a model file)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fgraph

__all__ = ["add_parsers"]


def _kernel_and_lift(args):
    import lifts

    g = fgraph.read(args.file, evidence=args.evidence)
    kernel = lifts.from_spec(args.kernel)
    cover = lifts.lift(g, args.M, kernel=kernel, seed=args.seed)
    return g, kernel, cover


def _stats(graph, max_length: int) -> dict:
    import lifts

    t = lifts.cycle_table(graph, max_length)
    return {
        "n_variables": int(graph.n_var), "n_factors": int(graph.n_fac), "n_edges": int(graph.n_edge),
        "girth": t["girth"], "cycles": {str(k): int(v) for k, v in t["counts"].items()},
    }


def _lift(args) -> int:
    import lifts

    g, kernel, cover = _kernel_and_lift(args)
    out = {"file": str(args.file), "M": int(args.M), "kernel": kernel.identify(), "seed": args.seed,
           "base": _stats(g, args.max_length), "lift": _stats(cover, args.max_length)}
    table = lifts.lift_cycle_table(cover, args.max_length, P=kernel.P(args.M))
    out["expected"] = {str(k): {"identity": row["expected_identity"], "uniform": row["expected_uniform"],
                                "kernel": row.get("expected_kernel"), "exact": bool(row["exact"])}
                       for k, row in table.items()}
    if args.output is not None:
        fgraph.write(cover, args.output)
        out["written"] = str(args.output)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{args.file}: {args.M}-cover with kernel {out['kernel']} (seed {args.seed})\n")
    b, c = out["base"], out["lift"]
    lengths = list(b["cycles"])
    print(f"{'':22} {'base':>10} {'cover':>10}   expected in the cover: {'identity':>9} {'uniform':>9} "
          f"{'kernel':>9}")
    for key, label in (("n_variables", "variables"), ("n_factors", "factors"), ("n_edges", "edges"),
                       ("girth", "girth")):
        print(f"{label:22} {_show(b[key]):>10} {_show(c[key]):>10}")
    for k in lengths:
        e = out["expected"][k]
        note = "" if e["exact"] else "  (k >= 2 girth: expectations count only lifted base k-cycles)"
        print(f"{k + '-cycles':22} {b['cycles'][k]:>10} {c['cycles'][k]:>10}   {'':22} {e['identity']:>9.4g} "
              f"{e['uniform']:>9.4g} {e['kernel']:>9.4g}{note}")
    print("\nkernel expectation: N_k tr((P Pt)^(k/2)) with P the kernel's marginal Pr[pi(m) = m']")
    if args.output is not None:
        print(f"cover written to {args.output}")
    return 0


def _show(v) -> str:
    return "inf" if v is None else str(v)


def _compare(args) -> int:
    import algorithms
    import lifts

    g, kernel, cover = _kernel_and_lift(args)
    cfg = algorithms.BPConfig(damping=args.damping, max_iter=args.max_iter, tol=args.tol)
    c = lifts.compare(g, cover, init=args.init, seed=args.seed, config=cfg, max_length=args.max_length)
    out = c.to_dict()
    out["file"] = str(args.file)
    out["config"] = cfg.identify()
    if args.plot is not None:
        from lifts.plot import plot_comparisons

        plot_comparisons([c], path=args.plot, title=f"{args.file.name}: M = {args.M}")
        out["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{args.file}: base vs {args.M}-cover, {cfg.identify()}\n")
    print(c.table())
    lz = out["cover"]["log_z_per_copy"]
    shown = ", ".join("-inf" if v is None else f"{v:.6f}" for v in lz[:8])
    print(f"Bethe log Z per copy: {shown}" + (" ..." if len(lz) > 8 else ""))
    if args.plot is not None:
        print(f"figure written to {args.plot}")
    if not (c.base_result.converged and c.cover_result.converged):
        print("\nwarning: BP did not converge on the base or the cover; try --damping 0.5", file=sys.stderr)
    return 0


def _common(p) -> None:
    p.add_argument("file", type=Path, help="model file: .uai, .fg or .alist")
    p.add_argument("--evidence", type=Path, default=None, help="UAI .evid evidence file")
    p.add_argument("--M", type=int, default=4, help="number of copies (default 4)")
    p.add_argument("--kernel", default="uniform",
                   help="identity | uniform | shift[:s] | ring:WIDTH | block:B:P_OUT | band:W[:H] | "
                        "directional:WIDTH:KAPPA:SHIFT | matrix:FILE, or a name registered with "
                        "lifts.register_kernel_spec (default uniform)")
    p.add_argument("--seed", type=int, default=0, help="seed of the permutations (default 0)")
    p.add_argument("--max-length", type=int, default=8, help="longest cycle counted (default 8)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_parsers(sub) -> None:
    """Register ``lift`` and ``compare`` on the subparsers of the ``mcover`` parser."""
    pl = sub.add_parser("lift", help="lift a model file to an M-cover; cycle statistics before and after")
    _common(pl)
    pl.add_argument("-o", "--output", type=Path, default=None, help="write the cover (.uai or .fg)")
    pl.set_defaults(func=_lift)
    pc = sub.add_parser("compare", help="BP on a model file and on an M-cover of it, side by side")
    _common(pc)
    pc.add_argument("--init", choices=("uniform", "random", "asymmetric", "base"), default="uniform",
                    help="initial messages of the cover (default uniform: the run stays lifted)")
    pc.add_argument("--damping", type=float, default=0.0, help="damping in [0, 1) (default 0)")
    pc.add_argument("--max-iter", type=int, default=1000, help="largest number of sweeps (default 1000)")
    pc.add_argument("--tol", type=float, default=1e-9, help="convergence threshold (default 1e-9)")
    pc.add_argument("--plot", type=Path, default=None, help="save a figure (cycles and spread) to PNG")
    pc.set_defaults(func=_compare)

