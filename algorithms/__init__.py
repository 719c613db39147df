"""algorithms: message-passing engines (BP, AMP) that run on any CompiledGraph.

The engines arrive with the BP and AMP issues.  ``algorithms`` imports
``fgraph`` only; a lift is itself a compiled graph, so no engine needs ``lifts``.
"""

__all__: list[str] = []
