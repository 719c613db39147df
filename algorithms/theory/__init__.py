"""algorithms.theory: typical-case theory of learning with quantized weights.

* :mod:`algorithms.theory.quantizers` -- uniform level sets in three conventions
  (mid-rise, mid-tread, cells), power-of-two levels, Lloyd-Max and Max's uniform
  quantizers for N(0, 1), rounding to the nearest level and its straight-through
  surrogate gradient (docs/theory.md §8.1).
"""

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

__all__ = [
    "KINDS", "MAX_BITS", "LloydMaxResult", "MaxUniformResult", "lloyd_max", "max_uniform",
    "power_of_two_levels", "quantize", "quantizer_mse", "ste_grad", "thresholds", "uniform_levels",
]
