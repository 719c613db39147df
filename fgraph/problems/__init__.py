"""Problem builders: physics models and codes as factor graphs, returned as :class:`Problem`.

Every builder returns ``Problem(graph, truth, meta)``: a compiled graph ready for
the algorithms, the ground truth when there is one (the transmitted codeword),
and a read-only record of the settings.  Random builders take ``seed`` (int,
None or ``numpy.random.Generator``); the same seed gives the same problem, and
``seed=None`` records the fresh entropy it drew in ``meta['seed']``.

* :mod:`~fgraph.problems.ising` -- :func:`ising` (any graph), :func:`ising_grid`,
  :func:`random_regular_ising`, :func:`sk`;
* :mod:`~fgraph.problems.ldpc` -- :func:`regular_ldpc` (parity-check matrices),
  :func:`ldpc` (decoding over BEC / BSC / AWGN), :func:`random_codeword`,
  :func:`gf2_rank`;
* learning problems (teacher-student, with the data matrix ``F`` and labels ``y``
  for AMP, and an explicit factor graph of ``glm`` factors for BP when the prior
  is a finite alphabet): :func:`perceptron`, :func:`committee`,
  :func:`quantized_regression`.

Examples
--------
>>> from fgraph import problems
>>> p = problems.ising_grid(4, J=0.3, h=0.1)
>>> p.graph.n_var, p.graph.n_fac, p.truth is None
(16, 24, True)
"""

from ._problem import Problem
from .committee import committee
from .ising import grid_edges, ising, ising_grid, random_regular_edges, random_regular_ising, sk
from .ldpc import CHANNELS, gf2_rank, ldpc, random_codeword, regular_ldpc
from .perceptron import perceptron
from .quantized import quantized_regression

__all__ = [
    "CHANNELS",
    "Problem",
    "committee",
    "gf2_rank",
    "grid_edges",
    "ising",
    "ising_grid",
    "ldpc",
    "perceptron",
    "quantized_regression",
    "random_codeword",
    "random_regular_edges",
    "random_regular_ising",
    "regular_ldpc",
    "sk",
]
