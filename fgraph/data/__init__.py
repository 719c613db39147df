"""Small example model files shipped with the package, and :func:`example_path` to find them.

Every file was written by :func:`fgraph.write` from a model built with
:class:`fgraph.FactorGraph` or :mod:`fgraph.problems` (the recipes are
rebuilt and compared in ``tests/fgraph/test_data.py``).  All are small
enough for exact inference and loopy, so belief propagation is approximate.

``spinglass4x4.fg`` (libDAI, 3.1 KB)
    A 4 x 4 Edwards-Anderson spin glass (open boundaries), 16 binary spins:
    ``problems.ising_grid(4, J="gauss", J_scale=1.0, h="gauss", h_scale=0.3, seed=4)``.
    24 pairwise coupling tables, then 16 arity-1 field tables (40 factors).
    Exact log Z = 21.908327 (induced width 4).  Sum-product BP converges
    (about 46 sequential sweeps, about 100 parallel ones) to a Bethe log Z of
    21.701096, and its marginals are off by up to 0.099.  Undamped
    max-product BP does not converge on it (1000 sweeps, either schedule).
``mixed.uai`` and ``mixed.uai.evid`` (UAI ``MARKOV`` and its evidence, 1.2 KB)
    12 variables on a 3 x 4 grid with mixed cardinalities (six binary, three
    ternary, three with 4 states), 17 pairwise tables on the grid edges, 3
    tables of 3 variables and 2 arity-1 tables (22 factors); entries are
    ``exp(N(0, 1.2^2))`` rounded to 2 decimals (at least 0.01).  The
    evidence file observes variable 3 in state 2 and variable 8 in state 1.
    With the evidence: exact log Z = 19.872161 (induced width 3); sum-product
    BP converges (about 15 sequential sweeps) to a Bethe log Z of 19.825150,
    marginals off by up to 0.048; max-product BP converges in a few sweeps to
    the exact MAP state (log-score 18.420460, 0.345 above the runner-up).
    Without the evidence: exact log Z = 21.621939.
``ldpc_96_3_6.alist`` (MacKay alist, 1.9 KB)
    A (3, 6)-regular LDPC code of length 96 with 48 checks,
    ``problems.regular_ldpc(96, 3, 6, seed=0)``, as hard parity factors.  The
    parity-check matrix has full GF(2) rank 48, so Z counts the 2^48
    codewords: exact log Z = 48 log 2 = 33.271065 (computed by GF(2)
    elimination; the min-fill induced width is 56).

Examples
--------
>>> import fgraph
>>> from fgraph.data import example_names, example_path
>>> example_names()
['ldpc_96_3_6.alist', 'mixed.uai', 'mixed.uai.evid', 'spinglass4x4.fg']
>>> g = fgraph.read(example_path("mixed.uai"), evidence=example_path("mixed.uai.evid"))
>>> g.n_var, g.n_fac, g.evidence()
(12, 22, {3: 2, 8: 1})
>>> round(float(fgraph.exact.log_z(g)), 6)
19.872161
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["example_names", "example_path"]

_HERE = Path(__file__).resolve().parent
_NAMES = ("ldpc_96_3_6.alist", "mixed.uai", "mixed.uai.evid", "spinglass4x4.fg")


def example_names() -> list[str]:
    """Names of the example files, sorted.

    Returns
    -------
    list of str
        File names (with their extensions) accepted by :func:`example_path`.

    Examples
    --------
    >>> [n for n in example_names() if n.endswith(".fg")]
    ['spinglass4x4.fg']
    """
    return list(_NAMES)


def example_path(name: str) -> Path:
    """The path of an example file shipped in ``fgraph/data``.

    Parameters
    ----------
    name : str
        A file name from :func:`example_names`, e.g. ``"spinglass4x4.fg"``.

    Returns
    -------
    pathlib.Path
        Absolute path of the file inside the installed package.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    FileNotFoundError
        If the package was installed without its data files.

    Examples
    --------
    >>> import fgraph
    >>> p = example_path("spinglass4x4.fg")
    >>> p.name, p.is_file()
    ('spinglass4x4.fg', True)
    >>> round(float(fgraph.exact.log_z(fgraph.read(p))), 6)
    21.908327
    >>> example_path("grid.fg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown example 'grid.fg'; the examples are: ldpc_96_3_6.alist, mixed.uai, ...
    """
    if not isinstance(name, str) or name not in _NAMES:
        raise ValueError(f"unknown example {name!r}; the examples are: {', '.join(_NAMES)}")
    path = _HERE / name
    if not path.is_file():
        raise FileNotFoundError(
            f"example file {name!r} is missing from {_HERE} (was the package installed without its data?)"
        )
    return path
