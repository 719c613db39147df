"""fgraph: factor graphs built once, compiled to frozen arrays, with exact inference and file I/O.

Examples
--------
>>> import fgraph
>>> g = fgraph.FactorGraph()
>>> x = g.add_variables(2)
>>> _ = g.add_ising([0, 1], J=1.0)
>>> cg = g.compile()
>>> round(float(fgraph.exact.log_z(cg)), 6)   # log(2e + 2/e)
1.820075
"""

from . import exact, problems
from .compiled import CompiledGraph
from .data import example_path
from .factors import FactorType, get_factor_type, register_factor_type
from .graph import FactorGraph
from .io import from_networkx, read, read_evidence, to_networkx, write, write_evidence
from .wiring import Wiring

__all__ = [
    "CompiledGraph",
    "FactorGraph",
    "FactorType",
    "Wiring",
    "exact",
    "example_path",
    "from_networkx",
    "get_factor_type",
    "problems",
    "read",
    "read_evidence",
    "register_factor_type",
    "to_networkx",
    "write",
    "write_evidence",
]
