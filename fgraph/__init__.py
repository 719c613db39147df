"""fgraph: factor graphs built once, compiled to frozen arrays, with exact inference and file I/O."""

from .compiled import CompiledGraph
from .factors import FactorType, get_factor_type, register_factor_type
from .graph import FactorGraph
from .wiring import Wiring

__all__ = [
    "CompiledGraph",
    "FactorGraph",
    "FactorType",
    "Wiring",
    "get_factor_type",
    "register_factor_type",
]
