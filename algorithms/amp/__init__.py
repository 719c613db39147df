"""Approximate message passing: GAMP (dense, or on an M-cover) and its state evolution.

* :mod:`algorithms.amp.gamp` -- :func:`run_amp`, :class:`AMPConfig`, :class:`AMPResult`;
* :mod:`algorithms.amp.kernels` -- the fused Numba iterations (dense and lifted operators);
* :mod:`algorithms.amp.state_evolution` -- :func:`run_se`, the perceptron's thresholds.

Priors and channels come from :mod:`algorithms.denoisers`.
"""

from .gamp import AMPConfig, AMPProgress, AMPResult, run_amp
from .state_evolution import (
    SEResult,
    alpha_alg,
    alpha_it,
    alpha_thresholds,
    perceptron_free_entropy,
    run_se,
    se_step,
)

__all__ = [
    "AMPConfig",
    "AMPProgress",
    "AMPResult",
    "SEResult",
    "alpha_alg",
    "alpha_it",
    "alpha_thresholds",
    "perceptron_free_entropy",
    "run_amp",
    "run_se",
    "se_step",
]
