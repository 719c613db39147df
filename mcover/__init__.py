"""mcover: message passing on factor graphs and their M-covers.

This package is the face of the project: it re-exports the public API of the
working packages ``fgraph``, ``lifts`` and ``algorithms`` and holds the
command-line interface (``mcover`` / ``python -m mcover``).

Examples
--------
>>> import mcover
>>> g = mcover.FactorGraph()
>>> _ = g.add_variables(2)
>>> _ = g.add_ising([0, 1], J=0.5)
>>> round(float(mcover.exact.log_z(g.compile())), 6)
1.506409
"""

from importlib.metadata import PackageNotFoundError, version

import algorithms
import fgraph
import lifts
from fgraph import (
    CompiledGraph,
    FactorGraph,
    FactorType,
    Wiring,
    exact,
    from_networkx,
    problems,
    read,
    register_factor_type,
    to_networkx,
    write,
)

from . import sweep

try:
    __version__ = version("mcover")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "CompiledGraph",
    "FactorGraph",
    "FactorType",
    "Wiring",
    "algorithms",
    "exact",
    "fgraph",
    "from_networkx",
    "lifts",
    "problems",
    "read",
    "register_factor_type",
    "sweep",
    "to_networkx",
    "write",
]
