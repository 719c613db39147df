"""Factor types: how each kind of factor stores its parameters.

A factor type is a descriptor (no per-factor Python objects).  The parameters of
all factors of one type live in a few arrays (a *block*); factor ``a`` reads row
``fac_param[a]`` of its block, so lifted copies of a factor share one row.

Built-in types (log-potential ``log psi`` over the scope in argument order):

======== ======================================= ===================================
name     parameters (per row)                    log psi(x_1..x_k)
======== ======================================= ===================================
table    ``ptr`` (rows+1), ``logp`` (flat)       ``logp[ptr[r] + ravel(x)]``, C order:
                                                 the *last* argument changes fastest
unary    same as table, arity 1                  ``logp[ptr[r] + x]``
ising    ``J`` float                             ``J * s_1 * s_2`` with ``s = 2x - 1``
potts    ``J`` float                             ``J * [x_1 == x_2]``
parity   ``weight`` float >= 0 (inf = hard),     ``0`` if ``sum(x) % 2 == target``
         ``target`` int64 in {0, 1}              else ``-weight``
======== ======================================= ===================================

Users add their own type by subclassing :class:`FactorType` and calling
:func:`register_factor_type`; nothing in the package needs editing.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

from .dtypes import FLOAT, INDEX, as_float, as_index

__all__ = [
    "FactorType",
    "TableType",
    "UnaryType",
    "IsingType",
    "PottsType",
    "ParityType",
    "register_factor_type",
    "get_factor_type",
    "factor_type_names",
    "check_log_values",
]


def check_log_values(logp: np.ndarray, what: str) -> None:
    """Refuse NaN and +inf in log-potentials (``-inf``, a hard zero, is allowed).

    Examples
    --------
    >>> import numpy as np
    >>> check_log_values(np.array([0.0, -np.inf]), "table")   # fine
    >>> check_log_values(np.array([np.nan]), "table")
    Traceback (most recent call last):
    ...
    ValueError: table: log-potential nan at flat entry 0 (NaN or +inf)"""
    bad = np.isnan(logp) | (logp == np.inf)
    if np.any(bad):
        k = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"{what}: log-potential {float(logp.ravel()[k])!r} at flat entry {k} (NaN or +inf)")


def probs_to_log(p: np.ndarray, what: str) -> np.ndarray:
    """Validate probabilities/potentials (finite, >= 0) and return their logs."""
    bad = ~np.isfinite(p) | (p < 0)
    if np.any(bad):
        k = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"{what}: potential {float(p.ravel()[k])!r} at flat entry {k} "
            "(potentials must be finite and >= 0)"
        )
    with np.errstate(divide="ignore"):
        return np.log(p)


class FactorType:
    """Descriptor of one kind of factor.

    Subclasses set ``name`` and implement :meth:`log_table`, :meth:`concat` and
    :meth:`check_block`; builders produce parameter dicts whose arrays have one
    row per factor (or a ``ptr``/flat pair for ragged rows).

    Examples
    --------
    A user-defined "all equal" factor (hard constraint), registered without
    editing the package:

    >>> import numpy as np
    >>> from fgraph.factors import FactorType, register_factor_type
    >>> class AllEqual(FactorType):
    ...     name = "all_equal_doc"
    ...     def log_table(self, params, row, cards):
    ...         idx = np.indices(cards).reshape(len(cards), -1)
    ...         ok = (idx == idx[0]).all(axis=0)
    ...         return np.where(ok, 0.0, -np.inf).reshape(cards)
    >>> _ = register_factor_type(AllEqual(), overwrite=True)
    """

    name: str = ""

    def n_rows(self, params) -> int:
        """Number of parameter rows in a block."""
        if not params:
            return 0
        if "ptr" in params:
            return int(params["ptr"].size - 1)
        return int(next(iter(params.values())).shape[0])

    def log_table(self, params, row: int, cards) -> np.ndarray:
        """Dense log-potential of row ``row`` for argument cardinalities ``cards``.

        Returns
        -------
        ndarray of float64, shape ``tuple(cards)``
        """
        raise NotImplementedError(
            f"factor type {self.name!r} must implement log_table(params, row, cards)"
        )

    def concat(self, blocks):
        """Concatenate parameter dicts of several chunks (row order preserved)."""
        if not blocks:
            return {}
        keys = blocks[0].keys()
        if "ptr" in keys:
            return _concat_ragged(blocks)
        return {k: np.concatenate([b[k] for b in blocks]) for k in keys}

    def check_block(self, params, ptr: np.ndarray, cards: np.ndarray, rows: np.ndarray) -> None:
        """Check a block against the factors that use it; raise ValueError.

        Parameters
        ----------
        params : mapping of str to ndarray
        ptr : ndarray of int64, shape (n_f + 1,)
            CSR offsets of the factors' scopes into ``cards`` (starts at 0).
        cards : ndarray of int64, shape (ptr[-1],)
            Cardinality of every argument of every factor, factor-major.
        rows : ndarray of int64, shape (n_f,)
            Parameter row of each factor.
        """
        n = self.n_rows(params)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise ValueError(f"{self.name}: fac_param points outside the {n} parameter rows")

    def describe(self, params, row: int) -> str:
        """Short text for a factor's parameters (used by ``mcover info``)."""
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _concat_ragged(blocks):
    ptrs, logps, off = [np.zeros(1, dtype=INDEX)], [], 0
    for b in blocks:
        ptrs.append(b["ptr"][1:] + off)
        logps.append(b["logp"])
        off += b["logp"].size
    out = {"ptr": np.concatenate(ptrs), "logp": np.concatenate(logps) if logps else np.zeros(0)}
    for k in blocks[0]:
        if k not in out:
            out[k] = np.concatenate([b[k] for b in blocks])
    return out


class TableType(FactorType):
    """Dense table of any arity; ragged rows ``logp[ptr[r]:ptr[r+1]]`` in C order.

    Examples
    --------
    >>> import numpy as np
    >>> params = {"ptr": np.array([0, 4]), "logp": np.log([1.0, 2.0, 3.0, 4.0])}
    >>> np.exp(TableType().log_table(params, 0, [2, 2])).round(12).tolist()
    [[1.0, 2.0], [3.0, 4.0]]"""

    name = "table"
    min_arity = 1
    max_arity = None

    def log_table(self, params, row, cards):
        lo, hi = params["ptr"][row], params["ptr"][row + 1]
        return params["logp"][lo:hi].reshape(tuple(int(c) for c in cards))

    def check_block(self, params, ptr, cards, rows):
        super().check_block(params, ptr, cards, rows)
        tptr, logp = params["ptr"], params["logp"]
        if tptr[0] != 0 or tptr[-1] != logp.size or np.any(np.diff(tptr) < 0):
            raise ValueError(f"{self.name}: ptr must run from 0 to len(logp), non-decreasing")
        check_log_values(logp, f"{self.name} block")
        sizes = np.diff(tptr)
        deg = np.diff(ptr)
        bad = deg < self.min_arity
        if self.max_arity is not None:
            bad |= deg > self.max_arity
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{self.name}: factor {k} of the block has arity {int(deg[k])}")
        want = np.multiply.reduceat(cards, ptr[:-1]) if rows.size else np.zeros(0, dtype=INDEX)
        wrong = np.flatnonzero(sizes[rows] != want)
        if wrong.size:
            k = int(wrong[0])
            r = int(rows[k])
            raise ValueError(
                f"{self.name}: parameter row {r} has {int(sizes[r])} entries, the scope "
                f"cardinalities {cards[ptr[k]:ptr[k + 1]].tolist()} need {int(want[k])}"
            )
        # A factor that is zero everywhere makes Z = 0.
        if logp.size:
            starts = tptr[:-1][sizes > 0]
            mx = np.maximum.reduceat(logp, starts) if starts.size else np.zeros(0)
            dead = np.flatnonzero(mx == -np.inf)
            if dead.size:
                r = int(np.flatnonzero(sizes > 0)[dead[0]])
                raise ValueError(f"{self.name}: parameter row {r} is zero everywhere (Z = 0)")

    def describe(self, params, row):
        return f"{self.name}[{int(params['ptr'][row + 1] - params['ptr'][row])}]"


class UnaryType(TableType):
    """A one-variable factor with its own table (kept as a factor, not as evidence).

    Examples
    --------
    >>> import numpy as np
    >>> params = {"ptr": np.array([0, 3]), "logp": np.zeros(3)}
    >>> UnaryType().log_table(params, 0, [3]).tolist()
    [0.0, 0.0, 0.0]"""

    name = "unary"
    min_arity = 1
    max_arity = 1


class IsingType(FactorType):
    """Pairwise Ising coupling ``log psi = J s_i s_j`` on binary variables (s = 2x - 1).

    Examples
    --------
    >>> import numpy as np
    >>> IsingType().log_table({"J": np.array([0.5])}, 0, [2, 2]).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]"""

    name = "ising"

    def log_table(self, params, row, cards):
        J = float(params["J"][row])
        return np.array([[J, -J], [-J, J]], dtype=FLOAT)

    def check_block(self, params, ptr, cards, rows):
        super().check_block(params, ptr, cards, rows)
        if not np.all(np.isfinite(params["J"])):
            raise ValueError("ising: couplings J must be finite")
        if np.any(np.diff(ptr) != 2):
            raise ValueError("ising: every factor must have arity 2")
        if np.any(cards != 2):
            raise ValueError("ising: a factor touches a variable that is not binary")

    def describe(self, params, row):
        return f"ising(J={float(params['J'][row]):g})"


class PottsType(FactorType):
    """Pairwise Potts coupling ``log psi = J [x_i == x_j]`` (equal cardinalities).

    Examples
    --------
    >>> import numpy as np
    >>> PottsType().log_table({"J": np.array([2.0])}, 0, [3, 3]).diagonal().tolist()
    [2.0, 2.0, 2.0]"""

    name = "potts"

    def log_table(self, params, row, cards):
        q = int(cards[0])
        return float(params["J"][row]) * np.eye(q, dtype=FLOAT)

    def check_block(self, params, ptr, cards, rows):
        super().check_block(params, ptr, cards, rows)
        if not np.all(np.isfinite(params["J"])):
            raise ValueError("potts: couplings J must be finite")
        if np.any(np.diff(ptr) != 2):
            raise ValueError("potts: every factor must have arity 2")
        if np.any(cards[0::2] != cards[1::2]):
            raise ValueError("potts: a factor joins variables of different cardinality")

    def describe(self, params, row):
        return f"potts(J={float(params['J'][row]):g})"


class ParityType(FactorType):
    """Parity check on binary variables: ``psi = 1`` if ``sum(x) % 2 == target`` else ``exp(-weight)``.

    Examples
    --------
    >>> import numpy as np
    >>> p = {"weight": np.array([np.inf]), "target": np.array([0])}
    >>> ParityType().log_table(p, 0, [2, 2]).tolist()
    [[0.0, -inf], [-inf, 0.0]]"""

    name = "parity"

    def log_table(self, params, row, cards):
        k = len(cards)
        w, t = float(params["weight"][row]), int(params["target"][row])
        par = np.indices((2,) * k).sum(axis=0) % 2 if k else np.zeros(())
        return np.where(par == t, 0.0, -w).astype(FLOAT)

    def check_block(self, params, ptr, cards, rows):
        super().check_block(params, ptr, cards, rows)
        w, t = params["weight"], params["target"]
        deg = np.diff(ptr)
        if np.any(np.isnan(w)) or np.any(w < 0):
            raise ValueError("parity: weights must be >= 0 (inf for a hard check)")
        if np.any((t != 0) & (t != 1)):
            raise ValueError("parity: targets must be 0 or 1")
        if np.any(deg < 1):
            raise ValueError("parity: every check needs at least one variable")
        if np.any(cards != 2):
            raise ValueError("parity: a check touches a variable that is not binary")

    def describe(self, params, row):
        w = float(params["weight"][row])
        return f"parity(target={int(params['target'][row])}, weight={'hard' if math.isinf(w) else f'{w:g}'})"


_REGISTRY: dict[str, FactorType] = {}


def register_factor_type(ftype: FactorType, overwrite: bool = False) -> FactorType:
    """Register a factor type so the builder, compiler and exact inference know it.

    Parameters
    ----------
    ftype : FactorType
        Instance with a unique non-empty ``name``.
    overwrite : bool
        Replace an existing registration of the same name.

    Returns
    -------
    FactorType
        ``ftype`` itself.

    Examples
    --------
    >>> from fgraph.factors import get_factor_type
    >>> get_factor_type("ising").name
    'ising'
    """
    if not isinstance(ftype, FactorType):
        raise TypeError(f"ftype must be a FactorType instance, got {type(ftype).__name__}")
    if not isinstance(ftype.name, str) or not ftype.name:
        raise ValueError("a factor type needs a non-empty string name")
    if ftype.name in _REGISTRY and not overwrite:
        raise ValueError(f"factor type {ftype.name!r} is already registered (pass overwrite=True)")
    _REGISTRY[ftype.name] = ftype
    return ftype


def get_factor_type(name: str) -> FactorType:
    """Look up a registered factor type by name (clear error if unknown).

    Examples
    --------
    >>> get_factor_type("parity")
    ParityType(name='parity')"""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown factor type {name!r}; registered types: {sorted(_REGISTRY)}. "
            "Define a fgraph.factors.FactorType subclass and call register_factor_type()."
        ) from None


def factor_type_names() -> list[str]:
    """Registered type names in registration order (the compile order of blocks).

    Examples
    --------
    >>> factor_type_names()[:5]
    ['unary', 'table', 'ising', 'potts', 'parity']"""
    return list(_REGISTRY)


for _t in (UnaryType(), TableType(), IsingType(), PottsType(), ParityType()):
    register_factor_type(_t)


def freeze_params(params) -> MappingProxyType:
    """Read-only mapping of read-only arrays."""
    out = {}
    for k, v in params.items():
        a = np.ascontiguousarray(v)
        a.flags.writeable = False
        out[k] = a
    return MappingProxyType(out)


def ragged_params(logps: list[np.ndarray]) -> dict:
    """Pack a list of flat log-tables into ``ptr``/``logp`` arrays."""
    sizes = np.array([lp.size for lp in logps], dtype=INDEX)
    ptr = np.zeros(sizes.size + 1, dtype=INDEX)
    np.cumsum(sizes, out=ptr[1:])
    logp = np.concatenate(logps).astype(FLOAT, copy=False) if logps else np.zeros(0, FLOAT)
    return {"ptr": ptr, "logp": logp}


def scalar_rows(x, n: int, name: str) -> np.ndarray:
    """Broadcast a scalar or length-``n`` array to float64 (n,)."""
    arr = as_float(x, name)
    if arr.ndim == 0:
        return np.full(n, float(arr), dtype=FLOAT)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    return arr.copy()


def int_rows(x, n: int, name: str) -> np.ndarray:
    """Broadcast a scalar or length-``n`` array to int64 (n,)."""
    arr = as_index(x, name)
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=INDEX)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    return arr.copy()
