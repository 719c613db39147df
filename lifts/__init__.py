"""lifts: M-covers of compiled factor graphs (kernels Q, lift, cycle statistics).

The transform itself arrives with the M-cover issue; the package exists so the
layout and the import graph (lifts -> algorithms -> fgraph) are fixed now.
"""

__all__: list[str] = []
