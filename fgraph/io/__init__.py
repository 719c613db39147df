"""Reading and writing factor graphs: UAI, libDAI ``.fg``, MacKay ``.alist``; networkx in and out.

:func:`read` and :func:`write` choose the format from the file extension
(case-insensitive): ``.uai``, ``.fg`` or ``.alist``.  Paths may be ``str`` or
``pathlib.Path``.  Every reader returns a :class:`~fgraph.compiled.CompiledGraph`.

One module per format; each module's docstring states its format and the
conventions of its reader and writer:

==========================  ===================================================================
:mod:`fgraph.io.uai`        UAI ``MARKOV``/``BAYES`` models (:func:`~fgraph.io.uai.read_uai`,
                            :func:`~fgraph.io.uai.write_uai`) and ``.evid`` evidence files
                            (:func:`read_evidence`, :func:`write_evidence`)
:mod:`fgraph.io.fg`         libDAI ``.fg`` (:func:`~fgraph.io.fg.read_fg`,
                            :func:`~fgraph.io.fg.write_fg`)
:mod:`fgraph.io.alist`      MacKay ``.alist`` parity-check matrices
                            (:func:`~fgraph.io.alist.read_alist`, :func:`~fgraph.io.alist.write_alist`)
:mod:`fgraph.io.nx`         networkx graphs (:func:`to_networkx`, :func:`from_networkx`)
==========================  ===================================================================

The helpers they share (the tokenizer that finds line numbers, dense tables,
exact linear-scale potentials, atomic writes) live in the private module
``fgraph.io._common``.

Evidence
--------
``read(path, evidence=...)`` applies hard evidence to a model of any format:
``True`` reads the UAI evidence file ``<path>.evid``, a path reads that
``.evid`` file, a mapping ``{variable: state}`` is applied directly.

Writing
-------
Writes are atomic: the text goes to a temporary file in the target's
directory, which then replaces the target (``os.replace``), so an error
never leaves a half-written file; an existing file keeps its permissions.

* ``.uai`` and ``.fg`` hold only dense tables of linear potentials, so every
  factor type (``ising``, ``potts``, ``parity``, ``unary``, user types) is
  written as a dense table and reads back as a ``table`` factor (``unary``
  factors become arity-1 tables), in the graph's factor order.
* Each log-potential ``l`` is written as ``repr(p)`` of a float ``p`` with
  ``log(p) == l`` exactly, when one exists (``exp(l)`` or one of its nearest
  neighbours); ``-inf`` is written as 0.  Hence *write -> read is exact for
  graphs read from these files* (cardinalities, wiring, parameter arrays
  bit for bit, names).  A graph built in the log domain (e.g. Ising couplings)
  may contain log values that no float's logarithm hits; those come back
  within one ulp, and a second write -> read cycle is then exact.  A
  log-potential too large (``> 709.78``) or too small (underflowing to 0) for
  a linear float raises ValueError.
* ``var_unary`` (fields, soft and hard evidence) is written as extra arity-1
  factors (``.uai``, ``.fg``; hard evidence may go to an ``.evid`` file
  instead); ``.alist`` files hold hard parity checks only.  The format
  modules state the details.

Errors
------
A malformed file raises ValueError naming the file and the line, e.g.
``ValueError: bad.uai, line 7: expected 4 table entries for factor 2 (...), found 3``.
The whole file is split once into tokens; line numbers are computed only
when an error is reported, so reading stays fast (a UAI file with 10^5
factors parses in about a second).
"""

from __future__ import annotations

import os

from ..compiled import CompiledGraph
from ._common import check_graph
from .alist import read_alist, write_alist
from .fg import read_fg, write_fg
from .nx import from_networkx, to_networkx
from .uai import apply_evidence, read_evidence, read_uai, write_evidence, write_uai

__all__ = ["read", "write", "read_evidence", "write_evidence", "to_networkx", "from_networkx"]

SUPPORTED = (".uai", ".fg", ".alist")
_READERS = {".uai": read_uai, ".fg": read_fg, ".alist": read_alist}


def _ext(path) -> str:
    name = os.fspath(path)
    ext = os.path.splitext(name)[1].lower()
    if ext not in SUPPORTED:
        raise ValueError(
            f"unsupported file extension {ext or '(none)'!r} for {name!r}; supported: {', '.join(SUPPORTED)}"
        )
    return ext


def read(path, evidence=None) -> CompiledGraph:
    """Read a factor graph from a ``.uai``, ``.fg`` or ``.alist`` file.

    The format modules (:mod:`fgraph.io.uai`, :mod:`fgraph.io.fg`,
    :mod:`fgraph.io.alist`) state the formats and their conventions.

    Parameters
    ----------
    path : str or os.PathLike
        The model file; its extension chooses the format.
    evidence : None, True, str, os.PathLike or mapping, optional
        ``None`` (default): no evidence.  ``True``: read the UAI evidence file
        ``<path>.evid`` (e.g. ``model.uai.evid``).  A path: read that evidence
        file.  A mapping ``{variable: state}``: apply it directly (variables
        by index, or by name for ``.fg`` labels, e.g. ``{"7": 1}``).
        Evidence is hard and lands in ``var_unary``.

    Returns
    -------
    CompiledGraph
        ``.uai``/``.fg``: all factors of type ``table`` (one per file factor,
        file order), ``var_unary`` zero except evidence.  ``.alist``: binary
        variables and hard ``parity`` factors.

    Raises
    ------
    ValueError
        For an unsupported extension (listing the supported ones) and for a
        malformed file, naming the file and line.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> text = "MARKOV\\n2\\n2 3\\n1\\n2 0 1\\n\\n6\\n1 2 3 4 5 6\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "tiny.uai")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text)
    ...     g = read(path)
    ...     ge = read(path, evidence={1: 2})
    >>> g
    CompiledGraph(n_var=2, n_fac=1, n_edge=2, q_max=3, factors: table=1)
    >>> np.exp(g.log_table(0)).round(12).tolist()    # C order: last variable fastest
    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    >>> ge.evidence()
    {1: 2}

    A malformed file names the file and the line:

    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "bad.uai")
    ...     with open(path, "w") as f:
    ...         _ = f.write(text.replace("6\\n1 2", "5\\n1 2"))
    ...     read(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../bad.uai, line 7: expected 6 table entries for factor 0 (...), found 5
    """
    graph = _READERS[_ext(path)](path)
    return apply_evidence(graph, evidence, path)


def write(graph: CompiledGraph, path, evidence_path=None) -> None:
    """Write a compiled graph to a ``.uai``, ``.fg`` or ``.alist`` file (atomically).

    Parameters
    ----------
    graph : CompiledGraph
    path : str or os.PathLike
        Target file; its extension chooses the format.
    evidence_path : None, True, str or os.PathLike, optional
        ``.uai`` only.  Where to write hard evidence as a UAI ``.evid`` file
        (``True``: ``<path>.evid``).  Without it, hard evidence is written as
        0/1 arity-1 factors in the model file.

    Notes
    -----
    Structured factors are written as dense tables and ``var_unary`` rows as
    extra arity-1 factors; potentials are written so that reading them back
    gives the stored log values exactly whenever a float allows it.  The
    docstrings of :mod:`fgraph.io` and of the format modules state the exact
    rules.

    Raises
    ------
    ValueError
        For an unsupported extension, a graph the format cannot hold (alist),
        or a log-potential outside the range of linear floats.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(card=[2, 3])
    >>> _ = g.add_factor([0, 1], [[1, 2, 3], [4, 5, 0]])
    >>> cg = g.compile()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write(cg, os.path.join(d, "m.uai"))
    ...     print(open(os.path.join(d, "m.uai")).read())
    ...     write(cg, os.path.join(d, "m.fg"))
    ...     print(open(os.path.join(d, "m.fg")).read())
    ...     back = read(os.path.join(d, "m.fg"))
    MARKOV
    2
    2 3
    1
    2 0 1
    <BLANKLINE>
    6
    1.0 2.0 3.0 4.0 5.0 0.0
    <BLANKLINE>
    1
    <BLANKLINE>
    2
    0 1
    2 3
    5
    0 1.0
    1 4.0
    2 2.0
    3 5.0
    4 3.0
    <BLANKLINE>
    >>> np.array_equal(back.log_table(0), cg.log_table(0)), back.var_names
    (True, ('0', '1'))
    """
    check_graph(graph)
    ext = _ext(path)
    if evidence_path is not None and evidence_path is not False and ext != ".uai":
        raise ValueError(f"evidence_path is only supported for .uai files, not {ext}")
    if ext == ".uai":
        write_uai(graph, path, evidence_path)
    elif ext == ".fg":
        write_fg(graph, path)
    else:
        write_alist(graph, path)
