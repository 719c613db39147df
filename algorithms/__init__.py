"""algorithms: message-passing engines that run on any CompiledGraph (base graph or lift).

* belief propagation (:func:`run_bp`), with rules for tables, Ising, Potts,
  parity and dense GLM factors (relaxed BP);
* GAMP on dense learning problems and on M-covers of their factor graph
  (:func:`run_amp`), with the priors and channels of :mod:`algorithms.denoisers`
  and their state evolution (:func:`run_se`).

Subpackages: :mod:`algorithms.bp` (driver, rule table, kernels and engines),
:mod:`algorithms.amp` (GAMP, its kernels, state evolution) and
:mod:`algorithms.denoisers` (the prior/channel contract they share).
``algorithms`` imports ``fgraph`` only: a lift is itself a compiled graph, and
lifted AMP takes the cover's permutation array.

Examples
--------
>>> import fgraph, algorithms
>>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
>>> _ = g.add_ising([0, 1], J=0.5)
>>> r = algorithms.run_bp(g.compile())
>>> r.converged, round(r.log_z, 6)
(True, 1.506409)
"""

from .amp import (
    AMPConfig,
    AMPProgress,
    AMPResult,
    SEResult,
    alpha_alg,
    alpha_it,
    alpha_thresholds,
    perceptron_free_entropy,
    run_amp,
    run_se,
)
from .bp import (
    BPConfig,
    BPProgress,
    BPResult,
    BPRule,
    CommitteeRule,
    EnumerationRule,
    GLMRule,
    IsingRule,
    ParityRule,
    PottsRule,
    TableRule,
    bethe_log_z,
    bethe_terms,
    bp_rule_names,
    check_bp_rule,
    dense_f2v,
    dense_log_z,
    get_bp_rule,
    register_bp_rule,
    run_bp,
)
from .denoisers import (
    BinaryPrior,
    Channel,
    DiscretePrior,
    GaussBernoulli,
    GaussianChannel,
    GaussianPrior,
    NoisySignChannel,
    Prior,
    SignChannel,
    check_denoiser,
)
from .denoisers import from_name as denoiser_from_name

__all__ = [
    "AMPConfig",
    "AMPProgress",
    "AMPResult",
    "run_amp",
    "BinaryPrior",
    "Channel",
    "DiscretePrior",
    "EnumerationRule",
    "GLMRule",
    "GaussBernoulli",
    "GaussianChannel",
    "GaussianPrior",
    "NoisySignChannel",
    "Prior",
    "SEResult",
    "SignChannel",
    "alpha_alg",
    "alpha_it",
    "alpha_thresholds",
    "check_denoiser",
    "denoiser_from_name",
    "perceptron_free_entropy",
    "run_se",
    "CommitteeRule",
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
