"""algorithms.theory: typical-case theory of learning with quantized weights.

* :mod:`algorithms.theory.quantizers` -- uniform level sets in three conventions
  (mid-rise, mid-tread, cells), power-of-two levels, Lloyd-Max and Max's uniform
  quantizers for N(0, 1), rounding to the nearest level and its straight-through
  surrogate gradient (docs/theory.md §8.1);
* :mod:`algorithms.theory.replica` -- the replica-symmetric saddle point of linear
  regression with quantized student weights, at finite or zero temperature, with its
  AT stability and zero-temperature response (§8.2-8.5);
* :mod:`algorithms.theory.quant_amp` -- AMP for the same Gibbs measure and its state
  evolution (§8.6);
* :mod:`algorithms.theory.quant_study` -- the findings as sweeps: phase diagram,
  optimal width, error curves and the interpolation peak, uniform vs Lloyd-Max (§8.7);
* :mod:`algorithms.theory.ste` -- learning dynamics of a quantized linear model under the
  straight-through estimator: online simulation, the finite-eta mean-field PDE, its eta -> 0
  ODE, sliding-mode fixed points and the plateau (§9).

Examples
--------
>>> from algorithms.theory import solve_rs, uniform_levels
>>> r = solve_rs(2.0, uniform_levels(2, 1.5), 0.1, beta=10.0)
>>> round(r.gen_error, 4), bool(r.stable)
(0.3581, True)
"""

from .quant_amp import QuantAMPResult, QuantSEResult, anneal_schedule, quantized_amp, quantized_se, site_prior
from .quant_study import (
    ErrorCurve,
    LevelComparison,
    OptimalWidth,
    PhaseDiagram,
    compare_levels,
    error_curve,
    interpolation_peak,
    optimal_width,
    phase_diagram,
)
from .quantizers import (
    KINDS,
    MAX_BITS,
    LloydMaxResult,
    MaxUniformResult,
    lloyd_max,
    max_uniform,
    power_of_two_levels,
    quantize,
    quantizer_mse,
    ste_grad,
    thresholds,
    uniform_levels,
)
from .replica import RSResult, at_eigenvalue, response_S, rounding_error, rs_closure, solve_rs
from .ste import (
    FixedPoint,
    MeanFieldResult,
    ODEResult,
    STESimulation,
    fixed_point,
    kappas,
    mean_field,
    ode,
    plateau_length,
    simulate,
)

__all__ = [
    "KINDS", "MAX_BITS", "ErrorCurve", "FixedPoint", "LevelComparison", "LloydMaxResult",
    "MaxUniformResult", "MeanFieldResult", "ODEResult", "OptimalWidth", "PhaseDiagram",
    "QuantAMPResult", "QuantSEResult", "RSResult", "STESimulation", "anneal_schedule", "at_eigenvalue",
    "compare_levels", "error_curve", "fixed_point", "interpolation_peak", "kappas", "lloyd_max",
    "max_uniform", "mean_field", "ode", "optimal_width", "phase_diagram", "plateau_length",
    "power_of_two_levels", "quantize", "quantized_amp", "quantized_se", "quantizer_mse", "response_S",
    "rounding_error", "rs_closure", "simulate", "site_prior", "solve_rs", "ste_grad", "thresholds",
    "uniform_levels",
]
