"""Figures for covers (matplotlib is imported lazily, inside the functions)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_comparisons"]


def plot_comparisons(comparisons, path=None, labels=None, title=None):
    """Cycle-length counts and the spread between copies, one group per comparison.

    Parameters
    ----------
    comparisons : sequence of lifts.Comparison
        Results of :func:`lifts.compare` on covers of the same base graph
        (cycle counts must have been computed).
    path : str or os.PathLike, optional
        Where to save the figure (PNG, PDF, ... by extension).
    labels : sequence of str, optional
        One label per comparison (default: the kernel descriptions).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import fgraph, lifts
    >>> g = fgraph.problems.ising_grid(4, J=0.3, seed=0).graph
    >>> cs = [lifts.compare(g, M=2, kernel=k, seed=0, init="asymmetric") for k in ("identity", "uniform")]
    >>> fig = plot_comparisons(cs)
    >>> len(fig.axes)
    2
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    comparisons = list(comparisons)
    if not comparisons:
        raise ValueError("plot_comparisons needs at least one comparison")
    if any(not c.cycles for c in comparisons):
        raise ValueError("every comparison needs cycle counts (compare(..., max_length=...))")
    labels = list(labels) if labels is not None else [c.lift.kernel for c in comparisons]
    if len(labels) != len(comparisons):
        raise ValueError(f"labels has {len(labels)} entries for {len(comparisons)} comparisons")
    lengths = sorted({k for c in comparisons for part in ("base", "lift") for k, n in c.cycles[part].items()
                      if n > 0}) or [min(comparisons[0].cycles["base"])]
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / (len(comparisons) + 1)
    x = np.arange(len(lengths))
    M = comparisons[0].M
    base_counts = [M * comparisons[0].cycles["base"].get(k, 0) for k in lengths]
    ax_c.bar(x, base_counts, width, label="M x base", color="0.6")
    for j, (c, lab) in enumerate(zip(comparisons, labels, strict=True)):
        ax_c.bar(x + (j + 1) * width, [c.cycles["lift"].get(k, 0) for k in lengths], width, label=lab)
    ax_c.set_xticks(x + 0.4 - width / 2)
    ax_c.set_xticklabels([str(k) for k in lengths])
    ax_c.set_xlabel("cycle length")
    ax_c.set_ylabel("number of cycles")
    ax_c.set_yscale("symlog", linthresh=1)
    ax_c.set_title("short cycles of the cover")
    ax_c.legend(fontsize=8)
    data = [np.asarray(c.spread) for c in comparisons]
    ax_s.boxplot(data, showfliers=False)
    ax_s.set_xticks(np.arange(1, len(labels) + 1))
    ax_s.set_xticklabels(labels, rotation=15, fontsize=8)
    ax_s.set_ylabel("spread between copies (TV)")
    ax_s.set_title(f"copies after BP (init: {comparisons[0].init})")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
