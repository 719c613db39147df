"""algorithms: message-passing engines that run on any CompiledGraph (base graph or lift).

``algorithms`` imports ``fgraph`` only; a lift is itself a compiled graph, so no
engine needs ``lifts``.

Examples
--------
>>> import fgraph, algorithms
>>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
>>> _ = g.add_ising([0, 1], J=0.5)
>>> r = algorithms.run_bp(g.compile())
>>> r.converged, round(r.log_z, 6)
(True, 1.506409)
"""

from .bp import BPConfig, BPProgress, BPResult, bethe_log_z, bethe_terms, run_bp
from .bp_rules import (
    BPRule,
    IsingRule,
    ParityRule,
    PottsRule,
    TableRule,
    bp_rule_names,
    check_bp_rule,
    dense_f2v,
    dense_log_z,
    get_bp_rule,
    register_bp_rule,
)

__all__ = [
    "BPConfig",
    "BPProgress",
    "BPResult",
    "BPRule",
    "IsingRule",
    "ParityRule",
    "PottsRule",
    "TableRule",
    "bethe_log_z",
    "bethe_terms",
    "bp_rule_names",
    "check_bp_rule",
    "dense_f2v",
    "dense_log_z",
    "get_bp_rule",
    "register_bp_rule",
    "run_bp",
]
