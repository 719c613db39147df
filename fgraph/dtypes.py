"""The one gate through which arrays and seeds enter mcover.

Every index array in the library is ``INDEX`` (int64) and every float array is
``FLOAT`` (float64).  The helpers below convert user input, check it and give
clear errors that name the offending argument.
"""

from __future__ import annotations

import numbers
from types import MappingProxyType

import numpy as np

__all__ = ["INDEX", "FLOAT", "as_index", "as_float", "as_generator", "readonly", "FrozenPickle"]

INDEX = np.int64
FLOAT = np.float64


def as_index(x, name: str, ndim: int | None = None) -> np.ndarray:
    """Convert ``x`` to an int64 array, refusing non-integral input.

    Parameters
    ----------
    x : array_like
        Integers (bool and float arrays with integral values are refused
        unless they hold whole numbers).
    name : str
        Argument name used in error messages.
    ndim : int, optional
        Required number of dimensions.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> as_index([0, 2, 1], "scope")
    array([0, 2, 1])
    """
    arr = np.asarray(x)
    if arr.dtype == bool:
        raise TypeError(f"{name} must hold integers, got a boolean array")
    if arr.dtype.kind in "iu":
        out = arr.astype(INDEX, copy=False)
    elif arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold integers, got non-finite values")
        out = arr.astype(INDEX)
        if not np.array_equal(out, arr):
            raise TypeError(f"{name} must hold integers, got non-integral values")
    elif arr.dtype == object and arr.size == 0:
        out = arr.astype(INDEX)
    else:
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if ndim is not None and out.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {out.shape}")
    return out


def as_float(x, name: str, ndim: int | None = None) -> np.ndarray:
    """Convert ``x`` to a float64 array (NaN and inf are *not* checked here).

    Examples
    --------
    >>> as_float([1, 2], "J")
    array([1., 2.])
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    out = arr.astype(FLOAT, copy=False)
    if ndim is not None and out.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {out.shape}")
    return out


def as_generator(seed) -> np.random.Generator:
    """Turn ``seed`` (None, int or Generator) into a ``numpy.random.Generator``.

    The same int always gives the same stream; a Generator is used as is.

    Examples
    --------
    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy Generator, got {type(seed).__name__}")


def readonly(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` (made contiguous) with its write flag cleared.

    Examples
    --------
    >>> a = readonly(np.arange(3))
    >>> a.flags.writeable
    False"""
    arr = np.ascontiguousarray(arr)
    arr.flags.writeable = False
    return arr


# ----------------------------------------------------------------------------- pickling
# Invariant kept by FrozenPickle: an object unpickles with the same fields, its
# read-only arrays still read-only and its mapping proxies still mapping
# proxies.  Pickle alone keeps neither: arrays load writeable (protocol < 5,
# or any protocol for a non-contiguous array) and
# ``types.MappingProxyType`` cannot be pickled at all.  The markers below carry
# such values through pickle and rebuild them on load; nothing global (no
# ``copyreg`` entry for MappingProxyType) is touched.
def _readonly_array(arr: np.ndarray) -> np.ndarray:
    """Unpickling side of a read-only array: clear its write flag again."""
    arr.flags.writeable = False
    return arr


def _mapping_proxy(d: dict) -> MappingProxyType:
    """Unpickling side of a mapping proxy: wrap the rebuilt dict again."""
    return MappingProxyType(d)


def _readonly_sparse(m):
    """Unpickling side of a scipy sparse array whose buffers were read-only."""
    for name in ("data", "indices", "indptr", "row", "col"):
        arr = getattr(m, name, None)
        if isinstance(arr, np.ndarray):
            arr.flags.writeable = False
    return m


class _Rebuild:
    """Pickle marker: on load, ``func(value)`` replaces it."""

    __slots__ = ("func", "value")

    def __init__(self, func, value):
        self.func = func
        self.value = value

    def __reduce__(self):
        return self.func, (self.value,)


def _is_sparse(v) -> bool:
    return hasattr(v, "tocsr") and hasattr(v, "nnz") and isinstance(getattr(v, "data", None), np.ndarray)


def _pack(v):
    """``v`` with read-only arrays and mapping proxies (also inside plain tuples,
    lists and dicts) wrapped in markers that rebuild them on load."""
    if isinstance(v, np.ndarray):
        return v if v.flags.writeable else _Rebuild(_readonly_array, v)
    if isinstance(v, MappingProxyType):
        return _Rebuild(_mapping_proxy, {k: _pack(x) for k, x in v.items()})
    t = type(v)
    if t is tuple:
        return tuple(_pack(x) for x in v)
    if t is list:
        return [_pack(x) for x in v]
    if t is dict:
        return {k: _pack(x) for k, x in v.items()}
    if _is_sparse(v) and not v.data.flags.writeable:
        return _Rebuild(_readonly_sparse, v)
    return v


class FrozenPickle:
    """Mixin: pickle a frozen object so that it unpickles equal *and* frozen.

    ``__getstate__`` returns the instance ``__dict__`` with every read-only
    array and every ``types.MappingProxyType`` (also inside plain tuples,
    lists and dicts) wrapped in a marker that rebuilds it on load: arrays come
    back read-only, proxies come back proxies.  Loading restores ``__dict__``
    directly (pickle's default), so ``__init__``/``__post_init__`` does not run
    again: the state was validated when the original was built.  Objects held
    in fields pickle by their own rules.  The mixin serves classes whose
    instances have a ``__dict__``; a subclass with ``__slots__`` only needs its
    own ``__getstate__``.

    Examples
    --------
    >>> import pickle, fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2); _ = g.add_ising([0, 1], J=0.5)
    >>> cg = pickle.loads(pickle.dumps(g.compile()))  # CompiledGraph is a FrozenPickle
    >>> cg.card.flags.writeable, type(cg.params[0]).__name__, cg.params[0]["J"].flags.writeable
    (False, 'mappingproxy', False)
    """

    __slots__ = ()

    def __getstate__(self):
        return {k: _pack(v) for k, v in self.__dict__.items()}
