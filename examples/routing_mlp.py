"""Routed MLPs on 8x8 digits: test error of the copies and of their mean-logit ensemble vs M and kernel.

M copies of a one-hidden-layer MLP (ReLU, softmax cross-entropy, minibatch SGD) are
trained through permutation routing with *per-neuron* units (docs/theory.md §7.1, §7.4,
§7.5): each minibatch is a factor, and at every minibatch routed model m takes each
neuron (its incoming weights and bias) from copy pi_{f,u}(m), drawn once for the run from
a kernel Q -- Identity (independent copies), Ring(1) or Uniform.  Per-neuron routing never
splits a hidden unit, which matters because independently initialised copies label their
hidden units differently.

The data are scikit-learn's bundled 8x8 handwritten digits (1347 train / 450 test) when
scikit-learn is installed, otherwise Gaussian inputs labelled by a random teacher MLP of
the same sizes (``algorithms.learning.digits_or_teacher``); the source is printed.  For
every (M, kernel), over seeds (paired: each seed fixes the split, the first copy's start
and the minibatches), it reports the mean test error of the copies, the error of the
mean-logit ensemble, the error of freshly routed models (new per-neuron permutations from
the kernel: are the copies interchangeable?) and the paired differences to the Identity
kernel, with standard errors over seeds.  With M = 1 every kernel gives the same run.

Run:  python examples/routing_mlp.py [--out DIR] [--small] [--seeds 10] [--epochs 40]

The full mode (hidden 64, M in {1, 4, 8}, three kernels, 10 seeds, 40 epochs) takes about a
minute with a progress counter on stderr; ``--small`` (hidden 32, M in {1, 4}, two seeds,
5 epochs) runs in seconds.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.learning import MLP, digits_or_teacher, mean_sem
from lifts import Identity, Ring, Uniform, route
from mcover.progress import Progress

FULL = {"hidden": 64, "Ms": (1, 4, 8), "seeds": 10, "epochs": 40}
SMALL = {"hidden": 32, "Ms": (1, 4), "seeds": 2, "epochs": 5}
KERNELS = (("identity", Identity()), ("ring:1", Ring(1.0)), ("uniform", Uniform()))

HEADER = (f"{'M':>3} {'kernel':<9} {'copy err':>15} {'ensemble err':>15} {'routed err':>15} "
          f"{'d copy vs id':>15} {'d ens vs id':>15}")


def study(cfg: dict, seeds, epochs: int, granularity: str) -> tuple:
    """Errors float64 (n_M, n_kernel, n_seed) for copy, ensemble, routed; and the data source."""
    shape = (len(cfg["Ms"]), len(KERNELS), len(seeds))
    err = {k: np.full(shape, np.nan) for k in ("copy", "ensemble", "routed")}
    bar = Progress(int(np.prod(shape)), "routing_mlp")
    source = None
    for s_i, s in enumerate(seeds):
        data = digits_or_teacher(seed=s)  # one train/test split per seed
        source = data.source
        model = MLP(hidden=cfg["hidden"], n_classes=data.n_classes)
        for m_i, M in enumerate(cfg["Ms"]):
            for k_i, (name, kern) in enumerate(KERNELS):
                run = route(data.train, model, M, kern, epochs=epochs, seed=s, granularity=granularity,
                            test=data.test)
                err["copy"][m_i, k_i, s_i] = run.copy_gen_errors.mean()
                err["ensemble"][m_i, k_i, s_i] = run.ensemble_error
                err["routed"][m_i, k_i, s_i] = run.routed_error
                bar.tick(note=f"M={M} {name}")
    return err, source


def summarize(cfg, err) -> list:
    """One row per (M, kernel): means, standard errors and paired differences to Identity."""
    cm, cs = mean_sem(err["copy"])
    em, es = mean_sem(err["ensemble"])
    rm, rs = mean_sem(err["routed"])
    dcm, dcs = mean_sem(err["copy"] - err["copy"][:, :1])  # kernel 0 is Identity
    dem, des = mean_sem(err["ensemble"] - err["ensemble"][:, :1])
    rows = []
    for m_i, M in enumerate(cfg["Ms"]):
        for k_i, (name, _) in enumerate(KERNELS):
            i = (m_i, k_i)
            rows.append({"M": M, "kernel": name,
                         "copy_error": float(cm[i]), "copy_se": float(cs[i]),
                         "ensemble_error": float(em[i]), "ensemble_se": float(es[i]),
                         "routed_error": float(rm[i]), "routed_se": float(rs[i]),
                         "d_copy": float(dcm[i]), "d_copy_se": float(dcs[i]),
                         "d_ensemble": float(dem[i]), "d_ensemble_se": float(des[i])})
    return rows


def format_table(rows) -> str:
    pm = "{:.4f}+-{:.4f}".format
    lines = [HEADER]
    for r in rows:
        cells = [pm(r[f"{k}_error"], r[f"{k}_se"]) for k in ("copy", "ensemble", "routed")]
        diffs = [f"{r[k]:+.4f}+-{r[k + '_se']:.4f}" for k in ("d_copy", "d_ensemble")]
        lines.append(f"{r['M']:3d} {r['kernel']:<9} " + " ".join(f"{c:>15}" for c in cells + diffs))
    return "\n".join(lines)


def _figure(path, cfg, rows, source, granularity):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), sharey=True)
    for ax, key, title in zip(axes, ("copy", "ensemble", "routed"),
                              ("mean copy error", "mean-logit ensemble error", "freshly routed models")):
        for j, (name, _) in enumerate(KERNELS):
            rr = [r for r in rows if r["kernel"] == name]
            xs = np.array([r["M"] for r in rr]) * (1 + 0.03 * (j - 1))  # a small offset per kernel
            ax.errorbar(xs, [r[f"{key}_error"] for r in rr], yerr=[r[f"{key}_se"] for r in rr],
                        fmt="o-", capsize=2, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(cfg["Ms"], [str(m) for m in cfg["Ms"]])
        ax.set_xlabel("M (copies)")
        ax.set_title(title)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(f"test error ({source}, per-{granularity} routing)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(out: Path, small: bool = False, seeds=None, epochs=None, granularity: str = "neuron") -> dict:
    """Run the study, print the table, save the figure; return the results."""
    cfg = dict(SMALL if small else FULL)
    seeds = list(range(cfg["seeds"] if seeds is None else int(seeds)))
    epochs = cfg["epochs"] if epochs is None else int(epochs)
    err, source = study(cfg, seeds, epochs, granularity)
    print(f"Routed MLPs (hidden {cfg['hidden']}, per-{granularity} routing), data: {source}; "
          f"epochs={epochs}, {len(seeds)} seeds; test errors mean+-standard error over seeds, "
          f"d = paired difference to the Identity kernel")
    rows = summarize(cfg, err)
    table = format_table(rows)
    print(table)
    path = Path(out) / "routing_mlp.png"
    _figure(path, cfg, rows, source, granularity)
    print(f"\nfigure: {path}")
    return {"figure": path, "rows": rows, "errors": err, "Ms": list(cfg["Ms"]),
            "kernels": [n for n, _ in KERNELS], "seeds": seeds, "epochs": epochs, "source": source,
            "hidden": cfg["hidden"], "granularity": granularity, "table": table}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--small", action="store_true", help="the seconds-long mode (what the tests run)")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10; --small 2)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per run (default 40; --small 5)")
    ap.add_argument("--granularity", choices=("neuron", "weight", "tensor"), default="neuron")
    a = ap.parse_args()
    main(a.out, small=a.small, seeds=a.seeds, epochs=a.epochs, granularity=a.granularity)
