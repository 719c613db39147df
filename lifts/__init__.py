"""lifts: M-covers of compiled factor graphs.

* :mod:`lifts.kernels` -- permutation kernels Q: which permutation wires the
  copies across each edge (identity, uniform, cyclic shifts, rings, blocks,
  bands, any matrix), sampled exactly from the permanental law;
* :mod:`lifts.cover` -- :func:`lift` builds the M-cover (a :class:`Lift`, itself
  a compiled graph that every engine accepts); :func:`project` averages copies;
* :mod:`lifts.cycles` -- girth, local girth, exact short-cycle counts, and the
  holonomy of base cycles in a lift;
* :mod:`lifts.compare` -- BP on base and cover side by side, and exact
  partition functions of covers (Vontobel's <Z_M>^(1/M));
* :mod:`lifts.glm` -- :func:`glm_perms`, the permutations of an M-cover of a
  dense learning problem, for lifted AMP;
* :mod:`lifts.routing` -- :func:`route`, training M model copies whose local
  rules run on models routed across the copies along the kernel;
* :mod:`lifts.bp_learner` -- :func:`bp_learn`, the same construction with BP
  messages as the local rule (relaxed BP on the M-cover of a perceptron).
"""

from .bp_learner import BPLearnRun, bayes_error, bp_learn
from .compare import INITS, Comparison, CoverLogZ, compare, copy_log_z, cover_log_z
from .cover import (
    Lift,
    ProjectedResult,
    copies,
    copies_of,
    copy_overlap,
    copy_spread,
    edge_copies,
    factor_copies_of,
    lift,
    lift_messages,
    project,
)
from .cycles import (
    base_cycles,
    count_cycles,
    cycle_table,
    cycle_types,
    girth,
    holonomy,
    lift_cycle_table,
    local_girth,
    nonbacktracking_counts,
)
from .glm import glm_perms
from .kernels import (
    Band,
    Block,
    CyclicShift,
    Diagnostic,
    Directional,
    FromMatrix,
    Identity,
    Kernel,
    Marginal,
    Ring,
    SamplingWarning,
    Uniform,
    block_marginal,
    from_spec,
    kernel_spec_names,
    permanent,
    register_kernel_spec,
    sinkhorn,
    unregister_kernel_spec,
)
from .routing import RoutedRun, route

__all__ = [
    "BPLearnRun", "Band", "Block", "Comparison", "CoverLogZ", "CyclicShift", "Diagnostic",
    "Directional", "FromMatrix", "INITS", "Identity", "Kernel", "Lift", "Marginal",
    "ProjectedResult", "Ring", "RoutedRun", "SamplingWarning", "Uniform", "base_cycles",
    "bayes_error", "block_marginal", "bp_learn", "compare", "copies", "copies_of", "copy_log_z",
    "copy_overlap", "copy_spread", "count_cycles", "cover_log_z", "cycle_table", "cycle_types",
    "edge_copies", "factor_copies_of", "from_spec", "girth", "glm_perms", "holonomy",
    "kernel_spec_names", "lift", "lift_cycle_table", "lift_messages", "local_girth",
    "nonbacktracking_counts", "permanent", "project", "register_kernel_spec", "route", "sinkhorn",
    "unregister_kernel_spec",
]
