"""Belief propagation: the driver, the open table of factor rules, and their engines.

* :mod:`algorithms.bp.driver` -- :func:`run_bp`, :class:`BPConfig`,
  :class:`BPResult`, schedules, the Bethe free energy and MAP decoding (no
  numerics of its own);
* :mod:`algorithms.bp.rules` -- the rule table (:func:`register_bp_rule`,
  :func:`get_bp_rule`, :func:`check_bp_rule`) and the rules of tables, Ising,
  Potts and parity factors;
* :mod:`algorithms.bp.kernels` -- the log-domain Numba kernels;
* :mod:`algorithms.bp.binary` -- the odds-form flooding engine of binary graphs (Ising, parity
  and binary table blocks);
* :mod:`algorithms.bp.scaled` -- the scaled-linear flooding engine (any dense tables);
* :mod:`algorithms.bp.glm`, :mod:`algorithms.bp.committee` -- relaxed-BP rules of dense
  learning factors.

The built-in rules are registered here, once, after every rule module is
imported: which rule serves a factor type never depends on the order in which
modules are imported, and a user's ``register_bp_rule(name, rule,
overwrite=True)`` (necessarily later) always wins.

Examples
--------
>>> from algorithms.bp import get_bp_rule
>>> get_bp_rule("committee")
CommitteeRule()
"""

from .committee import CommitteeRule
from .driver import BPConfig, BPProgress, BPResult, bethe_log_z, bethe_terms, flooding_engine, run_bp
from .glm import EnumerationRule, GLMRule
from .rules import (
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

#: The built-in rule of each built-in factor type.
BUILTIN_RULES = {
    "table": TableRule(),
    "unary": TableRule(),
    "ising": IsingRule(),
    "potts": PottsRule(),
    "parity": ParityRule(),
    "glm": GLMRule(),
    "committee": CommitteeRule(),
}
for _name, _rule in BUILTIN_RULES.items():
    register_bp_rule(_name, _rule)

__all__ = [
    "BUILTIN_RULES",
    "BPConfig",
    "BPProgress",
    "BPResult",
    "BPRule",
    "CommitteeRule",
    "EnumerationRule",
    "GLMRule",
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
    "flooding_engine",
    "get_bp_rule",
    "register_bp_rule",
    "run_bp",
]
