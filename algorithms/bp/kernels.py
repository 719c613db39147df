"""Numba kernels of belief propagation (log domain, flat edge arrays).

Messages are float64 arrays of shape (n_edge, q_max): row ``e`` is the message
on edge ``e`` (factor-major edge ids), entries ``x >= card[edge_var[e]]`` are
``-inf`` padding.  ``v2f`` holds variable-to-factor messages mu_{i->a}, ``f2v``
factor-to-variable messages nu_{a->i}.  Every message is normalised: shifted to
log-sum-exp 0 (sum-product) or to max 0 (max-product).

The update equations (docs/theory.md §1.3)::

    mu_{i->a}(x) = log phi_i(x) + sum_{b in di, b != a} nu_{b->i}(x)
    nu_{a->i}(x) = LSE_{x_{da}, x_i = x} [ log psi_a(x_da) + sum_{j in da, j != i} mu_{j->a}(x_j) ]

Cavity sums are formed with prefix and suffix sums (never by subtracting a
message from a total), so hard zeros (-inf) never produce NaN.  A log-sum-exp
over entries that are all -inf returns -inf.

Factor rules: each ``*_one(a, ...)`` function updates the outgoing messages of
factor ``a``; ``*_range`` kernels loop over a range of factors (``prange``:
each thread writes only the rows of the factors it owns).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

NEG_INF = -np.inf


class GraphArrays(NamedTuple):
    """The arrays of a compiled graph that the sequential kernels read (one argument, not seven).

    Attributes
    ----------
    fac_ptr : int64 (n_fac + 1,)
        Edges of factor a are ``fac_ptr[a]:fac_ptr[a + 1]``.
    edge_var : int64 (n_edge,)
        Variable of each edge.
    var_ptr : int64 (n_var + 1,)
    var_edges : int64 (n_edge,)
        Edges at variable i are ``var_edges[var_ptr[i]:var_ptr[i + 1]]``.
    var_unary : float64 (n_var, q_max)
        Log unary factors (-inf padding).
    card : int64 (n_var,)
    fac_param : int64 (n_fac,)
        Parameter row of each factor in its type's block.
    """

    fac_ptr: np.ndarray
    edge_var: np.ndarray
    var_ptr: np.ndarray
    var_edges: np.ndarray
    var_unary: np.ndarray
    card: np.ndarray
    fac_param: np.ndarray


def graph_arrays(graph) -> GraphArrays:
    """The :class:`GraphArrays` of a compiled graph (views, no copies)."""
    return GraphArrays(graph.fac_ptr, graph.edge_var, graph.var_ptr, graph.var_edges, graph.var_unary,
                       graph.card, graph.fac_param)


class Messages(NamedTuple):
    """The message buffers of a sweep, float64 (n_edge, q_max) each.

    ``f2v`` the current factor-to-variable messages (updated in place),
    ``v2f`` the variable-to-factor messages, ``new`` the candidate f2v of a
    factor before damping, ``work`` scratch rows (owned by the factor of the edge).
    """

    f2v: np.ndarray
    v2f: np.ndarray
    new: np.ndarray
    work: np.ndarray


# ----------------------------------------------------------------- scalar helpers
@njit(inline="always")
def lse2(a, b):
    """log(e^a + e^b), exact for -inf arguments."""
    if a < b:
        a, b = b, a
    if b == NEG_INF:
        return a
    return a + np.log1p(np.exp(b - a))


@njit(inline="always")
def comb2(a, b, max_mode):
    """Sum-product: lse2; max-product: max."""
    if max_mode:
        return a if a > b else b
    return lse2(a, b)


@njit
def normalize_at(arr, e, q, max_mode):
    """Shift arr[e, :q] to LSE 0 (or max 0) in place; rows that are all -inf stay -inf.

    Returns the shift.  Takes the 2-D array and a row index rather than a row
    view, so hot loops create no view objects.  Binary rows take a branch-free
    path: the maximal entry contributes exp(0) = 1 exactly, so the sum is
    ``1 + exp(min - max)``, bit for bit the sum of the generic loop, with one
    exp fewer (and no data-dependent branch, which costs more than an exp).
    """
    if q == 2:
        v0 = arr[e, 0]
        v1 = arr[e, 1]
        m = v0 if v0 > v1 else v1
        if m == NEG_INF:
            return NEG_INF
        if max_mode:
            z = m
        else:
            z = m + np.log(1.0 + np.exp((v1 if v0 > v1 else v0) - m))
        arr[e, 0] = v0 - z
        arr[e, 1] = v1 - z
        return z
    m = NEG_INF
    for x in range(q):
        if arr[e, x] > m:
            m = arr[e, x]
    if m == NEG_INF:
        return NEG_INF
    if max_mode:
        z = m
    else:
        s = 0.0
        for x in range(q):
            s += np.exp(arr[e, x] - m)
        z = m + np.log(s)
    for x in range(q):
        arr[e, x] -= z
    return z


# ----------------------------------------------------------------- variable side
@njit
def _var_one(i, var_ptr, var_edges, var_unary, card, f2v, v2f, max_mode):
    """v2f on every edge of variable i: unary + prefix + suffix of incoming f2v (any card)."""
    q = card[i]
    lo = var_ptr[i]
    hi = var_ptr[i + 1]
    for x in range(q):
        acc = var_unary[i, x]
        for k in range(lo, hi):
            e = var_edges[k]
            v2f[e, x] = acc
            acc += f2v[e, x]
        acc = 0.0
        for k in range(hi - 1, lo - 1, -1):
            e = var_edges[k]
            v2f[e, x] += acc
            acc += f2v[e, x]
    for k in range(lo, hi):
        normalize_at(v2f, var_edges[k], q, max_mode)


@pjit
def var_sweep(var_ptr, var_edges, var_unary, card, f2v, v2f, max_mode):
    """All variable-to-factor messages from the current f2v (each thread owns its variables' rows).

    Binary variables are handled in the loop body itself (a call per variable
    passes every array as several scalars and would cost as much as the work):
    both running sums stay in registers and each row is normalised as soon as
    its suffix is added.  Every entry is the same sum, formed in the same
    order, as in the generic :func:`_var_one`.
    """
    n_var = card.shape[0]
    for i in prange(n_var):
        if card[i] != 2:
            _var_one(i, var_ptr, var_edges, var_unary, card, f2v, v2f, max_mode)
            continue
        lo = var_ptr[i]
        hi = var_ptr[i + 1]
        a0 = var_unary[i, 0]
        a1 = var_unary[i, 1]
        for k in range(lo, hi):
            e = var_edges[k]
            v2f[e, 0] = a0
            v2f[e, 1] = a1
            a0 += f2v[e, 0]
            a1 += f2v[e, 1]
        a0 = 0.0
        a1 = 0.0
        for k in range(hi - 1, lo - 1, -1):
            e = var_edges[k]
            v2f[e, 0] += a0
            v2f[e, 1] += a1
            a0 += f2v[e, 0]
            a1 += f2v[e, 1]
            normalize_at(v2f, e, 2, max_mode)


@pjit
def var_beliefs(var_ptr, var_edges, var_unary, card, f2v, out, max_mode):
    """Normalised log-beliefs b_i = log phi_i + sum of f2v, written to out (n_var, q_max);
    returns nothing; out[i, x] = -inf beyond card[i]."""
    n_var = card.shape[0]
    for i in prange(n_var):
        q = card[i]
        for x in range(q):
            acc = var_unary[i, x]
            for k in range(var_ptr[i], var_ptr[i + 1]):
                acc += f2v[var_edges[k], x]
            out[i, x] = acc
        normalize_at(out, i, q, max_mode)


@pjit
def var_log_z(var_ptr, var_edges, var_unary, card, f2v, out, max_mode):
    """log Z_i = LSE_x [log phi_i(x) + sum_a nu_{a->i}(x)] (max in max-product mode)."""
    n_var = card.shape[0]
    for i in prange(n_var):
        z = NEG_INF
        for x in range(card[i]):
            acc = var_unary[i, x]
            for k in range(var_ptr[i], var_ptr[i + 1]):
                acc += f2v[var_edges[k], x]
            z = comb2(z, acc, max_mode)
        out[i] = z


@pjit
def edge_log_z(edge_var, card, v2f, f2v, out, max_mode):
    """log Z_ai = LSE_x [mu_{i->a}(x) + nu_{a->i}(x)] for every edge."""
    n_edge = edge_var.shape[0]
    for e in prange(n_edge):
        z = NEG_INF
        for x in range(card[edge_var[e]]):
            z = comb2(z, v2f[e, x] + f2v[e, x], max_mode)
        out[e] = z


@pjit
def damp_commit(f2v, new, edge_var, card, damping, max_mode, res_out):
    """f2v <- normalise((1 - damping) new + damping f2v); res_out[e] = max_x |p_new - p_old|.

    Damping is a convex combination of log-messages (geometric mixing of the
    normalised messages); -inf stays -inf and never meets a 0 * inf.  The
    residual is measured on probabilities (exp of the normalised messages), so
    it is bounded by 1 and insensitive to entries of negligible mass.
    """
    n_edge = f2v.shape[0]
    for e in prange(n_edge):
        q = card[edge_var[e]]
        if damping > 0.0:
            for x in range(q):
                a = new[e, x]
                b = f2v[e, x]
                if a == NEG_INF or b == NEG_INF:
                    new[e, x] = NEG_INF  # (1 - g) a + g b with a hard zero on either side
                else:
                    new[e, x] = (1.0 - damping) * a + damping * b
            normalize_at(new, e, q, max_mode)
        r = 0.0
        for x in range(q):
            a = new[e, x]
            b = f2v[e, x]
            d = abs((np.exp(a) if a != NEG_INF else 0.0) - (np.exp(b) if b != NEG_INF else 0.0))
            if d > r:
                r = d
            f2v[e, x] = a
        res_out[e] = r


# ----------------------------------------------------------------- generic table
@njit
def _table_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, acc, xs, cs, max_mode):
    """Factor a: nu_{a->i_k}(x) = LSE over the table of logp + sum_{j != k} mu_j, for every slot k.

    Joint states are enumerated in C order (last argument fastest) by an
    odometer over the digits ``xs[:d]`` (cards in ``cs[:d]``; scratch int64
    arrays of length >= arity), so no integer division.  Two passes: the
    maximum of each output entry, then the sum of exp(score - max) in acc (a
    score equal to the maximum adds exp(0) = 1 exactly, without calling exp).
    Cavities use the count of -inf incoming entries instead of subtraction of
    -inf, so hard zeros never give NaN.
    """
    e0 = fac_ptr[a]
    d = fac_ptr[a + 1] - e0
    base = tab_ptr[fac_param[a]]
    size = tab_ptr[fac_param[a] + 1] - base
    for k in range(d):
        cs[k] = card[edge_var[e0 + k]]
        for x in range(out.shape[1]):
            out[e0 + k, x] = NEG_INF
            acc[e0 + k, x] = 0.0
    n_pass = 1 if max_mode else 2
    for p in range(n_pass):
        for k in range(d):
            xs[k] = 0
        for s in range(size):
            if s > 0:  # next joint state: increment the last digit, carry leftwards
                k = d - 1
                xs[k] += 1
                while xs[k] == cs[k]:
                    xs[k] = 0
                    k -= 1
                    xs[k] += 1
            lp = tab_logp[base + s]
            if lp == NEG_INF:
                continue
            # the finite part of the score, summed from the last slot to the first
            total = lp
            ninf = 0
            for k in range(d - 1, -1, -1):
                v = v2f[e0 + k, xs[k]]
                if v == NEG_INF:
                    ninf += 1
                else:
                    total += v
            if ninf > 1:
                continue
            for k in range(d - 1, -1, -1):
                xk = xs[k]
                v = v2f[e0 + k, xk]
                if ninf == 0:
                    sc = total - v
                elif v == NEG_INF:
                    sc = total
                else:
                    continue
                e = e0 + k
                o = out[e, xk]
                if p == 0:
                    out[e, xk] = sc if sc > o else o  # a select, not a branch
                else:
                    acc[e, xk] += 1.0 if sc == o else np.exp(sc - o)
    for k in range(d):
        e = e0 + k
        q = card[edge_var[e]]
        if not max_mode:
            for x in range(q):
                if out[e, x] != NEG_INF:
                    out[e, x] += np.log(acc[e, x])
        normalize_at(out, e, q, max_mode)


@njit
def max_arity(lo, hi, fac_ptr):
    """Largest number of edges of factors lo..hi-1 (at least 1: the size of digit scratch)."""
    d = 1
    for a in range(lo, hi):
        d = max(d, fac_ptr[a + 1] - fac_ptr[a])
    return d


TABLE_CHUNK = 256  # factors per parallel task of table_range (one digit scratch per task)


@pjit
def table_range(lo, hi, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, acc, max_mode):
    """Generic dense-table rule on factors lo..hi-1 (threads own whole chunks of factors)."""
    d = max_arity(lo, hi, fac_ptr)
    n_chunk = (hi - lo + TABLE_CHUNK - 1) // TABLE_CHUNK
    for c in prange(n_chunk):
        xs = np.empty(d, dtype=np.int64)
        cs = np.empty(d, dtype=np.int64)
        for a in range(lo + c * TABLE_CHUNK, min(hi, lo + (c + 1) * TABLE_CHUNK)):
            _table_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, acc, xs, cs,
                       max_mode)


@njit
def _table_log_z_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, max_mode):
    e0 = fac_ptr[a]
    d = fac_ptr[a + 1] - e0
    base = tab_ptr[fac_param[a]]
    size = tab_ptr[fac_param[a] + 1] - base
    m = NEG_INF
    for s in range(size):
        sc = tab_logp[base + s]
        rem = s
        for k in range(d - 1, -1, -1):
            c = card[edge_var[e0 + k]]
            sc += v2f[e0 + k, rem % c]
            rem //= c
        if sc > m:
            m = sc
    if max_mode or m == NEG_INF:
        return m
    tot = 0.0
    for s in range(size):
        sc = tab_logp[base + s]
        rem = s
        for k in range(d - 1, -1, -1):
            c = card[edge_var[e0 + k]]
            sc += v2f[e0 + k, rem % c]
            rem //= c
        tot += np.exp(sc - m)
    return m + np.log(tot)


@pjit
def table_log_z(lo, hi, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, max_mode):
    """log Z_a = LSE_x [log psi_a(x) + sum_j mu_{j->a}(x_j)] for factors lo..hi-1."""
    for a in prange(lo, hi):
        out[a] = _table_log_z_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, max_mode)


# ----------------------------------------------------------------- pairwise tables
@njit
def _pair_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, max_mode):
    """Arity-2 table: nu_{a->0}(x0) = LSE_x1 T[x0, x1] + mu_1(x1), and symmetrically."""
    e0 = fac_ptr[a]
    e1 = e0 + 1
    q0 = card[edge_var[e0]]
    q1 = card[edge_var[e1]]
    base = tab_ptr[fac_param[a]]
    for x0 in range(q0):
        z = NEG_INF
        for x1 in range(q1):
            z = comb2(z, tab_logp[base + x0 * q1 + x1] + v2f[e1, x1], max_mode)
        out[e0, x0] = z
    for x1 in range(q1):
        z = NEG_INF
        for x0 in range(q0):
            z = comb2(z, tab_logp[base + x0 * q1 + x1] + v2f[e0, x0], max_mode)
        out[e1, x1] = z
    normalize_at(out, e0, q0, max_mode)
    normalize_at(out, e1, q1, max_mode)


@pjit
def pair_range(lo, hi, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, max_mode):
    """Pairwise fast path for arity-2 tables on factors lo..hi-1."""
    for a in prange(lo, hi):
        _pair_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, out, max_mode)


# ----------------------------------------------------------------- Ising couplings
@njit
def _ising_one(a, fac_ptr, fac_param, J, v2f, out, max_mode):
    """log psi = J s0 s1 (s = 2x - 1): nu_{a->0}(x0) = LSE(T[x0,0] + mu_1(0), T[x0,1] + mu_1(1))."""
    e0 = fac_ptr[a]
    e1 = e0 + 1
    j = J[fac_param[a]]
    # T = [[j, -j], [-j, j]]
    out[e0, 0] = comb2(j + v2f[e1, 0], -j + v2f[e1, 1], max_mode)
    out[e0, 1] = comb2(-j + v2f[e1, 0], j + v2f[e1, 1], max_mode)
    out[e1, 0] = comb2(j + v2f[e0, 0], -j + v2f[e0, 1], max_mode)
    out[e1, 1] = comb2(-j + v2f[e0, 0], j + v2f[e0, 1], max_mode)
    normalize_at(out, e0, 2, max_mode)
    normalize_at(out, e1, 2, max_mode)


@pjit
def ising_range(lo, hi, fac_ptr, fac_param, J, v2f, out, max_mode):
    """Ising rule (closed form, binary) on factors lo..hi-1."""
    for a in prange(lo, hi):
        _ising_one(a, fac_ptr, fac_param, J, v2f, out, max_mode)


@pjit
def ising_log_z(lo, hi, fac_ptr, fac_param, J, v2f, out, max_mode):
    """log Z_a of Ising factors lo..hi-1."""
    for a in prange(lo, hi):
        e0 = fac_ptr[a]
        e1 = e0 + 1
        j = J[fac_param[a]]
        z = comb2(j + v2f[e0, 0] + v2f[e1, 0], -j + v2f[e0, 0] + v2f[e1, 1], max_mode)
        z = comb2(z, -j + v2f[e0, 1] + v2f[e1, 0], max_mode)
        out[a] = comb2(z, j + v2f[e0, 1] + v2f[e1, 1], max_mode)


# ----------------------------------------------------------------- Potts couplings
@njit
def _potts_one(a, fac_ptr, edge_var, card, fac_param, J, v2f, out, max_mode):
    """log psi = J [x0 == x1]: nu_{a->0}(x0) = LSE_x1 (J [x0 == x1] + mu_1(x1))."""
    e0 = fac_ptr[a]
    e1 = e0 + 1
    q = card[edge_var[e0]]
    j = J[fac_param[a]]
    for side in range(2):
        src = e1 if side == 0 else e0
        dst = e0 if side == 0 else e1
        for x in range(q):
            z = NEG_INF
            for y in range(q):
                z = comb2(z, (j if x == y else 0.0) + v2f[src, y], max_mode)
            out[dst, x] = z
        normalize_at(out, dst, q, max_mode)


@pjit
def potts_range(lo, hi, fac_ptr, edge_var, card, fac_param, J, v2f, out, max_mode):
    """Potts rule on factors lo..hi-1."""
    for a in prange(lo, hi):
        _potts_one(a, fac_ptr, edge_var, card, fac_param, J, v2f, out, max_mode)


@pjit
def potts_log_z(lo, hi, fac_ptr, edge_var, card, fac_param, J, v2f, out, max_mode):
    """log Z_a of Potts factors lo..hi-1."""
    for a in prange(lo, hi):
        e0 = fac_ptr[a]
        q = card[edge_var[e0]]
        j = J[fac_param[a]]
        z = NEG_INF
        for x in range(q):
            for y in range(q):
                z = comb2(z, (j if x == y else 0.0) + v2f[e0, x] + v2f[e0 + 1, y], max_mode)
        out[a] = z


# ----------------------------------------------------------------- parity checks
@njit(inline="always")
def _par_comb(pe, po, qe, qo, max_mode):
    """(even, odd) log-weights of the XOR of two independent bits."""
    return comb2(pe + qe, po + qo, max_mode), comb2(pe + qo, po + qe, max_mode)


@njit
def _parity_one(a, fac_ptr, fac_param, weight, target, v2f, out, acc, max_mode):
    """Parity check, cost linear in the degree.

    Prefix (even, odd) log-weights of the XOR of the slots before k are kept in
    acc[e, 0:2]; a backward sweep carries the suffix.  The cavity (even, odd)
    pair C then gives nu(x) = LSE_par C[par] + log psi((x + par) mod 2), with
    log psi = 0 when the parity equals the target and -weight otherwise.
    """
    e0 = fac_ptr[a]
    d = fac_ptr[a + 1] - e0
    w = weight[fac_param[a]]
    t = target[fac_param[a]]
    pe = 0.0
    po = NEG_INF
    for k in range(d):
        e = e0 + k
        acc[e, 0] = pe
        acc[e, 1] = po
        if k < d - 1:  # the parity of all d slots is not needed
            pe, po = _par_comb(pe, po, v2f[e, 0], v2f[e, 1], max_mode)
    se = 0.0
    so = NEG_INF
    for k in range(d - 1, -1, -1):
        e = e0 + k
        ce, co = _par_comb(acc[e, 0], acc[e, 1], se, so, max_mode)
        for x in range(2):
            # total parity = x + par; weight 0 if it equals the target, else -w
            ok_even = ((x + 0) % 2) == t
            ok_odd = ((x + 1) % 2) == t
            le = ce + (0.0 if ok_even else -w)
            lo_ = co + (0.0 if ok_odd else -w)
            out[e, x] = comb2(le, lo_, max_mode)
        normalize_at(out, e, 2, max_mode)
        if k > 0:
            se, so = _par_comb(se, so, v2f[e, 0], v2f[e, 1], max_mode)


@pjit
def parity_range(lo, hi, fac_ptr, fac_param, weight, target, v2f, out, acc, max_mode):
    """Parity rule on factors lo..hi-1."""
    for a in prange(lo, hi):
        _parity_one(a, fac_ptr, fac_param, weight, target, v2f, out, acc, max_mode)


@pjit
def parity_log_z(lo, hi, fac_ptr, fac_param, weight, target, v2f, out, max_mode):
    """log Z_a of parity factors lo..hi-1: the (even, odd) weights of all slots against psi."""
    for a in prange(lo, hi):
        e0 = fac_ptr[a]
        w = weight[fac_param[a]]
        t = target[fac_param[a]]
        pe = 0.0
        po = NEG_INF
        for e in range(e0, fac_ptr[a + 1]):
            pe, po = _par_comb(pe, po, v2f[e, 0], v2f[e, 1], max_mode)
        le = pe + (0.0 if t == 0 else -w)
        lo_ = po + (0.0 if t == 1 else -w)
        out[a] = comb2(le, lo_, max_mode)


# ----------------------------------------------------------------- sequential helpers
@njit
def load_cavities(a, g, f2v, v2f, max_mode):
    """Fresh v2f on the edges of factor a from the current f2v (exact cavity sums); g: GraphArrays."""
    for e in range(g.fac_ptr[a], g.fac_ptr[a + 1]):
        i = g.edge_var[e]
        q = g.card[i]
        for x in range(q):
            acc = g.var_unary[i, x]
            for k in range(g.var_ptr[i], g.var_ptr[i + 1]):
                e2 = g.var_edges[k]
                if e2 != e:
                    acc += f2v[e2, x]
            v2f[e, x] = acc
        normalize_at(v2f, e, q, max_mode)


@njit
def commit_factor(a, fac_ptr, edge_var, card, f2v, new, damping, max_mode):
    """Damp and write the new messages of factor a; return their largest residual."""
    r = 0.0
    for e in range(fac_ptr[a], fac_ptr[a + 1]):
        q = card[edge_var[e]]
        if damping > 0.0:
            for x in range(q):
                u = new[e, x]
                b = f2v[e, x]
                if u == NEG_INF or b == NEG_INF:
                    new[e, x] = NEG_INF
                else:
                    new[e, x] = (1.0 - damping) * u + damping * b
            normalize_at(new, e, q, max_mode)
        for x in range(q):
            u = new[e, x]
            b = f2v[e, x]
            d = abs((np.exp(u) if u != NEG_INF else 0.0) - (np.exp(b) if b != NEG_INF else 0.0))
            if d > r:
                r = d
            f2v[e, x] = u
    return r


@njit
def factor_residual(a, fac_ptr, edge_var, card, f2v, new):
    """Largest probability change the candidate messages of factor a would make."""
    r = 0.0
    for e in range(fac_ptr[a], fac_ptr[a + 1]):
        for x in range(card[edge_var[e]]):
            u = new[e, x]
            b = f2v[e, x]
            d = abs((np.exp(u) if u != NEG_INF else 0.0) - (np.exp(b) if b != NEG_INF else 0.0))
            if d > r:
                r = d
    return r


@njit
def seq_table(order, g, tab_ptr, tab_logp, m, damping, max_mode, pairwise):
    """One sequential sweep over the table factors listed in order; returns the max residual.

    g : GraphArrays; m : Messages (f2v updated in place).
    """
    r = 0.0
    d = 1
    for a in order:
        d = max(d, g.fac_ptr[a + 1] - g.fac_ptr[a])
    xs = np.empty(d, dtype=np.int64)
    cs = np.empty(d, dtype=np.int64)
    for a in order:
        load_cavities(a, g, m.f2v, m.v2f, max_mode)
        if pairwise:
            _pair_one(a, g.fac_ptr, g.edge_var, g.card, g.fac_param, tab_ptr, tab_logp, m.v2f, m.new,
                      max_mode)
        else:
            _table_one(a, g.fac_ptr, g.edge_var, g.card, g.fac_param, tab_ptr, tab_logp, m.v2f, m.new, m.work,
                       xs, cs, max_mode)
        r = max(r, commit_factor(a, g.fac_ptr, g.edge_var, g.card, m.f2v, m.new, damping, max_mode))
    return r


@njit
def seq_ising(order, g, J, m, damping, max_mode):
    """One sequential sweep over the Ising factors listed in order; returns the max residual."""
    r = 0.0
    for a in order:
        load_cavities(a, g, m.f2v, m.v2f, max_mode)
        _ising_one(a, g.fac_ptr, g.fac_param, J, m.v2f, m.new, max_mode)
        r = max(r, commit_factor(a, g.fac_ptr, g.edge_var, g.card, m.f2v, m.new, damping, max_mode))
    return r


@njit
def seq_potts(order, g, J, m, damping, max_mode):
    """One sequential sweep over the Potts factors listed in order; returns the max residual."""
    r = 0.0
    for a in order:
        load_cavities(a, g, m.f2v, m.v2f, max_mode)
        _potts_one(a, g.fac_ptr, g.edge_var, g.card, g.fac_param, J, m.v2f, m.new, max_mode)
        r = max(r, commit_factor(a, g.fac_ptr, g.edge_var, g.card, m.f2v, m.new, damping, max_mode))
    return r


@njit
def seq_parity(order, g, weight, target, m, damping, max_mode):
    """One sequential sweep over the parity factors listed in order; returns the max residual."""
    r = 0.0
    for a in order:
        load_cavities(a, g, m.f2v, m.v2f, max_mode)
        _parity_one(a, g.fac_ptr, g.fac_param, weight, target, m.v2f, m.new, m.work, max_mode)
        r = max(r, commit_factor(a, g.fac_ptr, g.edge_var, g.card, m.f2v, m.new, damping, max_mode))
    return r
