"""Problem: what every builder in :mod:`fgraph.problems` returns.

A problem bundles a compiled factor graph with the ground truth that generated
it (when one exists) and a read-only record of its settings.  Learning problems
(a later addition) also fill ``F`` (the data matrix) and ``y`` (the labels).

This module also holds the small helpers the builders share: seed recording and
read-only freezing of ``meta`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..compiled import CompiledGraph
from ..dtypes import FrozenPickle, as_generator

__all__ = ["Problem"]


def _freeze_value(v):
    """Read-only view of arrays (dense or scipy sparse); other values as they are."""
    if isinstance(v, np.ndarray):
        if v.flags.writeable:
            v = v.view()
            v.flags.writeable = False
        return v
    if hasattr(v, "tocsr") and hasattr(v, "nnz"):  # scipy sparse: freeze its buffers
        for name in ("data", "indices", "indptr", "row", "col"):
            arr = getattr(v, name, None)
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False
        return v
    if isinstance(v, dict):
        return MappingProxyType({k: _freeze_value(x) for k, x in v.items()})
    if isinstance(v, list):
        return tuple(_freeze_value(x) for x in v)
    return v


def _describe(v) -> str:
    """Short text for one meta value in a repr."""
    if isinstance(v, np.ndarray):
        return f"<{v.dtype} {v.shape}>"
    if hasattr(v, "tocsr") and hasattr(v, "nnz"):
        return f"<sparse {v.dtype} {v.shape}, nnz={v.nnz}>"
    if isinstance(v, Mapping):
        return f"<mapping, {len(v)} entries>"
    if isinstance(v, tuple) and len(v) > 4:
        return f"<tuple, {len(v)} entries>"
    if isinstance(v, float):
        return repr(float(f"{v:.6g}"))
    return repr(v)


@dataclass(frozen=True, eq=False)
class Problem(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """A compiled factor graph with its ground truth and settings.

    Attributes
    ----------
    graph : CompiledGraph or None
        The factor graph, ready for the algorithms; None for a learning problem
        given only in dense form (e.g. a Gaussian prior, which has no finite
        alphabet for BP).
    truth : ndarray of int64, shape (n_var,), or None
        The state that generated the data when there is one (the transmitted
        codeword, the teacher); ``None`` for models without a planted state.
        Read-only.
    meta : mapping
        Read-only record of the settings and derived facts: always ``kind`` (the
        builder's name), then the builder's parameters, ``seed`` when the
        builder drew random numbers, and facts such as edge counts.  Array
        values are read-only.
    F : ndarray or None
        Data matrix of a learning problem, float64 (P, N); ``None`` for graphs.
    y : ndarray or None
        Observations/labels of a learning problem, float64 (P,).

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_ising([0, 1], J=0.5)
    >>> p = Problem(g.compile(), meta={"kind": "pair"})
    >>> p
    Problem(kind='pair', graph: n_var=2 n_fac=1 factors {'ising': 1}, no truth, meta: {})
    >>> p.meta["kind"]
    'pair'
    """

    graph: CompiledGraph | None
    truth: np.ndarray | None = None
    meta: Mapping = field(default_factory=dict)
    F: np.ndarray | None = None
    y: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.graph is not None and not isinstance(self.graph, CompiledGraph):
            raise TypeError(f"graph must be a CompiledGraph or None, got {type(self.graph).__name__}")
        if not isinstance(self.meta, Mapping):
            raise TypeError(f"meta must be a mapping, got {type(self.meta).__name__}")
        if self.truth is not None:
            t = np.asarray(self.truth)
            if self.graph is not None and t.shape != (self.graph.n_var,):
                raise ValueError(f"truth must have shape ({self.graph.n_var},), got {t.shape}")
            object.__setattr__(self, "truth", _freeze_value(t))
        for name in ("F", "y"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, _freeze_value(np.asarray(v)))
        frozen = {str(k): _freeze_value(v) for k, v in self.meta.items()}
        object.__setattr__(self, "meta", MappingProxyType(frozen))

    @property
    def kind(self) -> str | None:
        """The builder's name (``meta['kind']``), or None."""
        return self.meta.get("kind")

    def __repr__(self) -> str:
        g = self.graph
        if self.truth is None:
            truth = "no truth"
        else:
            truth = f"truth <{self.truth.dtype} {self.truth.shape}>"
        items = ", ".join(f"{k}={_describe(v)}" for k, v in self.meta.items() if k != "kind")
        extra = ""
        if self.F is not None:
            extra += f", F <{self.F.dtype} {self.F.shape}>"
        if self.y is not None:
            extra += f", y <{self.y.dtype} {self.y.shape}>"
        if g is None:
            gtext = "graph: None"
        else:
            gtext = (f"graph: n_var={g.n_var} n_fac={g.n_fac} "
                     f"factors {dict(zip(g.types, np.diff(g.type_ptr).tolist()))}")
        return f"Problem(kind={self.kind!r}, {gtext}, {truth}{extra}, meta: {{{items}}})"


def _seeded(seed) -> tuple[np.random.Generator, int | None]:
    """Return ``(rng, recorded_seed)``.

    ``seed=None`` draws fresh OS entropy and records it, so that a problem
    built without a seed can still be rebuilt exactly from ``meta['seed']``.
    An int is recorded as is; for a Generator nothing can be recorded (None).
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    rng = as_generator(seed)
    recorded = int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None
    return rng, recorded
