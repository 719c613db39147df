"""The one gate through which arrays and seeds enter mcover.

Every index array in the library is ``INDEX`` (int64) and every float array is
``FLOAT`` (float64).  The helpers below convert user input, check it and give
clear errors that name the offending argument.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["INDEX", "FLOAT", "as_index", "as_float", "as_generator", "readonly"]

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
