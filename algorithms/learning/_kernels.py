"""Numba kernels of the online rules: one epoch of M routed binary perceptrons or committees.

Both kernels take the parameters with their copy axis first, the examples in
visiting order, and an optional routing table (docs/theory.md §7.2):

* ``h`` float64 (M, N) (perceptron) or (M, K, N) (committee): hidden real
  weights, the binary weight being ``w = sign(h)`` with ``sign(0) = +1``;
* ``table`` uint8/uint16 (n_factors, n_units, M) and ``unit_of`` int64
  (n_params,): routed model m at example f reads parameter j from copy
  ``table[f, unit_of[j], m]``; ``routed=False`` reads copy m (the table is
  then a dummy and never touched).

Each example is processed in two passes: all M routed fields first (from the
parameters as they were before the example), then the M messages.  Because
``table[f, u]`` is a permutation of the copies, every parameter copy receives
at most one message per example and the order of the second pass does not
matter.  Fields are summed over i in ascending order for every copy, so a
copy's arithmetic is the same whether or not it is routed: identity routing
reproduces single-model training bit for bit.
"""

from __future__ import annotations

import numpy as np

from fgraph.jit import njit

CLIPPED, SBPI = 0, 1


@njit(cache=True)
def _sgn(v):
    return 1.0 if v >= 0.0 else -1.0


@njit(cache=True)
def _clip(v, hmax):
    if v > hmax:
        return hmax
    if v < -hmax:
        return -hmax
    return v


@njit(cache=True)
def perceptron_epoch(h, X, y, order, table, unit_of, routed, coins, rule, eta, kappa, hmax,
                     p_s, theta, errors, updates):
    """One epoch of M binary perceptrons (clipped perceptron or SBPI); updates ``h`` in place.

    A visit of example f with label y_f and routed field ``phi = sum_i sign(h~_i) x_fi``:

    * clipped (``rule=0``): if ``y_f phi <= kappa``, ``h~_i += eta y_f x_fi`` for all i;
    * SBPI (``rule=1``): if ``y_f phi <= 0``, the same step; else if
      ``y_f phi <= theta`` and ``coins[t] < p_s``, the step is applied only to
      the weights that already agree with it (``sign(h~_i) = sign(y_f x_fi)``),
      which deepens them without flipping any (the metaplastic reinforcement).

    After a step ``|h| <= hmax`` (``hmax = inf``: no clipping).  ``errors[m]``
    counts visits with ``y_f phi <= 0``, ``updates[m]`` visits with a step.
    """
    M, N = h.shape
    field = np.zeros(M)
    for t in range(order.size):
        f = order[t]
        yf = y[f]
        for m in range(M):
            field[m] = 0.0
        if routed:
            for i in range(N):
                xi = X[f, i]
                u = unit_of[i]
                for m in range(M):
                    field[m] += xi if h[table[f, u, m], i] >= 0.0 else -xi
        else:
            for m in range(M):
                acc = 0.0
                for i in range(N):
                    acc += X[f, i] if h[m, i] >= 0.0 else -X[f, i]
                field[m] = acc
        for m in range(M):
            stab = yf * field[m]
            if stab <= 0.0:
                errors[m] += 1
            mode = 0  # 0: no step, 1: full step, 2: reinforce the agreeing weights only
            if rule == CLIPPED:
                if stab <= kappa:
                    mode = 1
            elif stab <= 0.0:
                mode = 1
            elif stab <= theta and coins[t] < p_s:
                mode = 2
            if mode == 0:
                continue
            updates[m] += 1
            step = eta * yf
            for i in range(N):
                s = table[f, unit_of[i], m] if routed else m
                d = step * X[f, i]
                if mode == 2 and _sgn(h[s, i]) != _sgn(d):
                    continue
                h[s, i] = _clip(h[s, i] + d, hmax)
    return errors, updates


@njit(cache=True)
def committee_epoch(h, X, y, order, table, unit_of, routed, eta, hmax, errors, updates):
    """One epoch of M binary committee machines with the least-action rule; updates ``h``.

    ``h`` float64 (M, K, N); unit field ``phi_k = sum_i sign(h~_ki) x_fi``,
    output ``sign(sum_k sign(phi_k))``.  On an error, among the units whose
    sign differs from ``y_f`` the one with the smallest ``|phi_k|`` takes the
    step ``h~_ki += eta y_f x_fi`` (then ``|h| <= hmax``): the least change
    of internal representation that moves the vote towards the label.
    """
    M, K, N = h.shape
    field = np.zeros((M, K))
    for t in range(order.size):
        f = order[t]
        yf = y[f]
        for m in range(M):
            for k in range(K):
                field[m, k] = 0.0
        if routed:
            for k in range(K):
                for i in range(N):
                    xi = X[f, i]
                    u = unit_of[k * N + i]
                    for m in range(M):
                        field[m, k] += xi if h[table[f, u, m], k, i] >= 0.0 else -xi
        else:
            for m in range(M):
                for k in range(K):
                    acc = 0.0
                    for i in range(N):
                        acc += X[f, i] if h[m, k, i] >= 0.0 else -X[f, i]
                    field[m, k] = acc
        for m in range(M):
            vote = 0.0
            for k in range(K):
                vote += _sgn(field[m, k])
            if yf * vote > 0.0:
                continue
            errors[m] += 1
            best = -1
            best_abs = np.inf
            for k in range(K):
                if _sgn(field[m, k]) != yf and abs(field[m, k]) < best_abs:
                    best_abs = abs(field[m, k])
                    best = k
            if best < 0:
                continue
            updates[m] += 1
            step = eta * yf
            for i in range(N):
                s = table[f, unit_of[best * N + i], m] if routed else m
                h[s, best, i] = _clip(h[s, best, i] + step * X[f, i], hmax)
    return errors, updates
