"""Flooding sum-product BP for binary pairwise tables and parity checks: the ratio form.

For binary variables a normalised message is one number: its odds
``X = p(1) / p(0) = e^L`` (``L = m(1) - m(0)`` the log-odds).  A sweep works on
odds only, with products and quotients and no exp or log:

* variable side (one pass over the variables, prefix and suffix products, never
  a division by a message)::

      E_{i->a} = e^{h_i} prod_{b in di \\ a} X_{b->i},   h_i = log phi_i(1) - log phi_i(0)

* a 2 x 2 table ``[[A, B], [C, D]]`` (rows x0, columns x1; every entry positive)
  is a Moebius map of the other slot's cavity odds.  With ``p = B / A``,
  ``q = C / A``, ``r = D / A``::

      X_{a->1} = (p + r E_{0->a}) / (1 + q E_{0->a}),   X_{a->0} = (q + r E_{1->a}) / (1 + p E_{1->a})

  The Ising factor ``psi = exp(J s0 s1)`` is the case ``p = q = c = e^{-2J}``,
  ``r = 1``: ``X = (E + c) / (c E + 1)``.  A message depends on one cavity
  only, so the variable pass applies the map as soon as it forms ``E`` and
  writes the partner edge's new message directly (no second pass over the
  edges of these blocks).  Ising-only graphs use the Ising coefficients (one
  coefficient per edge); any general table switches the pass to ``(p, q, r)``;
* a unary table (arity 1) sends the constant odds ``T(1) / T(0)``;
* parity check (weight w, target t), the tanh rule of LDPC decoding, without a
  cap (:func:`parity_ratio`).  With ``T_j = (E_j - 1) / (E_j + 1)``::

      tau_{a->k} = sgn tanh(w / 2) prod_{j != k} (-T_j),   X_{a->k} = (1 + tau) / (1 - tau)

  ``sgn = -1`` for target 0.  The magnitude comes from ``1 - |tau|``, formed
  without cancellation: with ``m_j = |T_j|`` and its complement
  ``u_j = 1 - m_j = 2 min(E_j, 1) / (E_j + 1)`` (one division), prefix and
  suffix recurrences of positive terms give ``U = 1 - prod |T_j|``
  (``U <- U + |P| u_j``, ``P <- P m_j``; combined as ``U_a + |P_a| U_b``), and
  ``1 - |tau| = D1 = cw1 + cw U`` with ``cw = tanh(w / 2)`` and
  ``cw1 = 1 - cw = 2 / (e^w + 1)`` (0 for a hard check).  The new odds are
  ``(2 - D1) / D1`` for positive tau and ``D1 / (2 - D1)`` for negative: every
  step adds or multiplies positive numbers, so ``D1`` has a relative error of a
  few ulps (times the degree), and the log-odds an absolute error of a few
  1e-16, whatever their size.  The sign of ``prod (-T_j)`` is that of a
  product of ``m_j = 1 - u_j``, which is wrong only when ``|tau|`` is within
  1e-16 of 0, where both signs give the same odds to round-off.

**Damping** mixes the normalised log-messages, ``L <- (1 - g) L_new + g L_old``
(libDAI's and PGMax's definition, :func:`algorithms.bp.kernels.damp_commit`),
that is ``X <- X_new^(1 - g) X_old^g``.  For a dyadic ``g = m / 2^k`` (``k <=
DYADIC_MAX_K``: 0.5, 0.25, 0.75, ...) this is ``k`` nested square roots
(Horner over the binary digits of ``1 - g``; each root is correctly rounded),
done inside the kernels at almost no cost.  Any other ``g`` takes
``X_old * exp((1 - g) log(X_new / X_old))`` with NumPy's SIMD exp and log over
whole arrays between the kernels.  Messages are exact before damping (no cap
anywhere), so damped runs are exact too, for every block kind.

The **residual** is the largest change of a message probability after damping,
``|p_new - p_old| = |X_new - X_old| / ((1 + X_new)(1 + X_old))``, exactly the
quantity the log-domain engine measures.

**Exact to round-off, by a range argument.**  Every product and quotient of
positive normal floats has a relative error of a few ulps, which in the log
domain is an absolute error of a few 1e-16 -- what the log-domain engine's own
sums carry.  Only overflow or underflow could break this; two plans exclude it
(:func:`ratio_plan`):

* **static** (graphs without parity checks): a table's messages are bounded by
  its entries (a Moebius map sends ``[0, inf]`` onto ``[q, r / p]`` or
  ``[p, r / q]``), so a message's log-odds never exceed ``m_e = max(lb_e,
  |L_init,e|)``, ``lb_e`` the log of the table's largest entry ratio (``2|J|``
  for a coupling; damping mixes convexly).  The plan needs every ``m_e <=
  EDGE_BOUND`` (100) and ``|h_i| + sum_e m_e <= VAR_BOUND`` (700) at every
  variable with finite evidence, so every product lies within e^+-700.  A
  variable with hard evidence (``h = +-inf``, allowed next to tables only) has
  cavity odds exactly 0 or inf, which the maps send to ``p``, ``q`` or
  (through the clamp below) ``r / q``, ``r / p``;
* **dynamic** (graphs with parity checks, whose messages are as confident as
  their least confident input, or graphs of tables that fail the static
  bounds): the variable pass tracks every prefix and suffix product and flags
  the sweep when one leaves ``[PROD_LO, PROD_HI] = [1e-300, 1e300]`` (a
  product of two normal numbers in range is correctly rounded, so the first one
  out of range -- an overflow, an underflow to a subnormal or 0 -- is caught
  before it can feed another product).  A cavity odds ``E = prefix * suffix``
  of two tracked products is then correctly rounded or has overflowed or
  underflowed: a Moebius map takes an overflow as the clamp ``BIG`` (the exact
  ``E`` is above it) and an underflow as ``E <= 1e-300`` (``r E`` is then
  below 1e-265, negligible next to ``p`` or ``q``); the parity kernel flags a
  cavity odds outside ``[PAR_LO, PAR_HI] = [1e-150, 1e150]``, overflowed and
  underflowed ones included.
  Inside these windows ``u_j >= 1e-150``, so ``D1 >= 1e-150`` and every check
  message lies in ``[5e-151, 2e150]``, and every product in :func:`_commit`
  (``N X_old D`` and friends, at most two such factors) stays inside
  ``[1e-301, 1e301]``.  A flagged sweep is discarded: the engine writes the
  last exact messages (those of the previous sweep) to ``f2v`` and hands the
  run over to the driver's log-domain rule sweeps (``BPResult.engine`` is then
  ``'tanh+rules'``).  Confident LDPC messages grow by a factor of about
  ``d_v - 1`` in log-odds per sweep once decoding has succeeded, so a run with
  a tiny ``tol`` hands over a few sweeps after the residual fell below about
  1e-30 (tests/algorithms/test_bp_ratio.py); with any usual ``tol`` it has
  stopped long before.  The dynamic plan needs
  ``|h_i| <= H_MAX`` (690, so ``e^{h_i}`` is in range), table edges with
  ``m_e <= EDGE_BOUND`` and initial check messages inside the parity window;
  otherwise the run hands over before its first sweep.

Ising-only graphs that fail the static bounds (extreme fields, huge degrees with
strong couplings, or initial messages certain to hundreds of nats) run in the
log-odds form (:func:`var_sweep`, :func:`ising_fac_sweep`: one tanh and one log
per edge, damping by mixing log-odds), equally exact and slower.  Cavity odds
above ``BIG = 1e60`` are clamped where they enter a Moebius map, which changes
its value by a relative ``2 R / BIG`` at most (``R <= e^K_MAX`` the table's
entry ratio: below 1e-25).  Divisions dominate the cost of a sweep, so the
residual and the new odds share one (:func:`_commit`).

It applies when every variable is binary and every block is an Ising coupling
block (|J| <= 15), a block of binary tables of arity 1 or 2 with positive
entries whose ratios stay below ``e^K_MAX`` (:func:`pair_table_block`), or a
parity block (:func:`parity_block`); then every message is finite.  Results
agree with the log-domain engine to round-off (not bit for bit), damped or not.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

__all__ = [
    "TANH", "TanhEngine", "TanhState", "IsingBlock", "ParityBlock", "PairTableBlock", "ising_block",
    "parity_block", "pair_table_block", "llr_from_log", "log_from_llr", "var_sweep", "ising_fac_sweep",
    "belief_llr", "var_cavity", "tanh_half", "RatioPlan", "ratio_plan", "dyadic",
    "var_ratio", "parity_ratio", "const_ratio", "mix_finish", "belief_odds",
]

#: Static plan (module docstring): per-edge log-odds and per-variable sums of |log-odds|
#: (with the field) that keep every product inside the normal range.
EDGE_BOUND = 100.0
VAR_BOUND = 700.0
#: Dynamic plan: |field| bound, the window of every product of the variable pass, and the
#: window of the cavity odds entering a parity check.
H_MAX = 690.0
PROD_LO, PROD_HI = 1e-300, 1e300
PAR_LO, PAR_HI = 1e-150, 1e150
#: Cavity odds are clamped to this where they enter a Moebius map.
BIG = 1e60
#: Largest log-ratio of the entries of a table run in the ratio form (Ising: 2|J| <= 30).
K_MAX = 80.0
#: Largest k of a damping m / 2^k done by nested square roots (beyond it, exp and log).
DYADIC_MAX_K = 2

VAR_CHUNK = 1024  # variables per parallel task of var_ratio
EDGE_CHUNK = 8192  # edges per parallel task of mix_finish


class IsingBlock(NamedTuple):
    """An Ising block offered to the tanh engine: factors lo..hi-1 and, per parameter row,
    ``tanh(J)`` (the log-odds form) and ``c = exp(-2 J)`` (the ratio form)."""

    lo: int
    hi: int
    tJ: np.ndarray  # float64 (n_param,)
    c: np.ndarray  # float64 (n_param,)

    @property
    def engine(self):
        return TANH


class ParityBlock(NamedTuple):
    """A parity block offered to the tanh engine: factors lo..hi-1 and, per parameter row,
    ``tanh(weight / 2)``, its complement ``2 / (e^weight + 1)`` and the target's sign."""

    lo: int
    hi: int
    tw: np.ndarray  # float64 (n_param,): 1 for a hard check
    sgn: np.ndarray  # float64 (n_param,): -1 for target 0, +1 for target 1
    cw1: np.ndarray  # float64 (n_param,): 1 - tw, accurately (0 for a hard check)

    @property
    def engine(self):
        return TANH


class PairTableBlock(NamedTuple):
    """A block of binary tables of arity 1 or 2 offered to the tanh engine (:func:`pair_table_block`).

    Per factor of lo..hi-1 (index ``a - lo``): ``p, q, r`` = ``B/A, C/A, D/A`` of a 2 x 2
    table ``[[A, B], [C, D]]``; for a unary table ``p = T(1)/T(0)`` (its constant
    message) and ``q = r = 0``; ``lb`` the log of the largest entry ratio (a bound of
    the factor's message log-odds).
    """

    lo: int
    hi: int
    p: np.ndarray
    q: np.ndarray
    r: np.ndarray
    lb: np.ndarray

    @property
    def engine(self):
        return TANH


def ising_block(graph, t, config):
    """The :class:`IsingBlock` of block t, or None when the tanh engine cannot run it.

    Needs sum-product and ``fast_paths``, and |J| <= 15 (so that tanh(J) < 1 in
    floating point).  Any damping in [0, 1).
    """
    if not (config.fast_paths and config.mode == "sum"):
        return None
    J = np.asarray(graph.params[t]["J"], dtype=np.float64)
    if not np.all(np.abs(J) <= 15.0):
        return None
    return IsingBlock(int(graph.type_ptr[t]), int(graph.type_ptr[t + 1]), np.tanh(J), np.exp(-2.0 * J))


def parity_block(graph, t, config):
    """The :class:`ParityBlock` of block t, or None when the tanh engine cannot run it.

    Needs sum-product and ``fast_paths`` (any damping: the checks are exact,
    :func:`parity_ratio`), finite evidence on the checks' variables, and no
    check of degree 1 with weight above ``log(PAR_HI)`` (its constant message
    would leave the parity window; a hard one is infinite).
    """
    if not (config.fast_paths and config.mode == "sum"):
        return None
    p = graph.params[t]
    lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
    w = np.asarray(p["weight"], dtype=np.float64)
    e_lo, e_hi = int(graph.fac_ptr[lo]), int(graph.fac_ptr[hi])
    if not np.all(np.isfinite(graph.var_unary[np.asarray(graph.edge_var[e_lo:e_hi]), :2])):
        return None
    deg = np.diff(np.asarray(graph.fac_ptr[lo : hi + 1]))
    wf = w[np.asarray(graph.fac_param[lo:hi])]
    if np.any((deg < 2) & ~(wf <= math.log(PAR_HI))):
        return None
    ew = np.exp(-w)  # 0 for a hard check
    return ParityBlock(lo, hi, (1.0 - ew) / (1.0 + ew), np.where(np.asarray(p["target"]) == 0, -1.0, 1.0),
                       2.0 * ew / (1.0 + ew))


def pair_table_block(graph, t, config):
    """The :class:`PairTableBlock` of a block of dense tables, or None when the ratio form cannot run it.

    Decided from the tables alone (never from a factor type's name): needs
    ``config.scaled_tables`` (the table engines' switch; ``fast_paths`` plays no
    part) and sum-product, every factor of arity 1 or 2 on binary variables, and
    every entry of every table positive and finite with ``log(max / min) <=
    K_MAX``.  Any damping.
    """
    if not (config.scaled_tables and config.mode == "sum"):
        return None
    lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
    if hi <= lo:
        return None
    fac_ptr = np.asarray(graph.fac_ptr)
    deg = np.diff(fac_ptr[lo : hi + 1])
    if np.any((deg < 1) | (deg > 2)):
        return None
    e_lo, e_hi = int(fac_ptr[lo]), int(fac_ptr[hi])
    if not np.all(np.asarray(graph.card)[np.asarray(graph.edge_var[e_lo:e_hi])] == 2):
        return None
    prm = graph.params[t]
    ptr, logp = np.asarray(prm["ptr"]), np.asarray(prm["logp"], dtype=np.float64)
    base = ptr[np.asarray(graph.fac_param[lo:hi])]
    pair = deg == 2
    idx = base[:, None] + np.arange(4)[None, :]
    vals = logp[np.where(pair[:, None], idx, np.minimum(idx, base[:, None] + 1))]  # unary: [T0, T1, T1, T1]
    if not np.all(np.isfinite(vals)):
        return None
    lb = vals.max(axis=1) - vals.min(axis=1)
    if not np.all(lb <= K_MAX):
        return None
    a = vals[:, 0]
    p = np.exp(vals[:, 1] - a)
    q = np.where(pair, np.exp(vals[:, 2] - a), 0.0)
    r = np.where(pair, np.exp(vals[:, 3] - a), 0.0)
    return PairTableBlock(lo, hi, p, q, r, lb)


def dyadic(damping: float, max_k: int = DYADIC_MAX_K):
    """``(k, bits)`` with ``1 - damping = sum_j b_j 2^-j`` (bit j - 1 of ``bits`` is b_j), or None.

    None when ``damping`` is not ``m / 2^k`` with ``k <= max_k`` (then the
    damped odds take exp and log).  ``(0, 0)`` for no damping.

    Examples
    --------
    >>> dyadic(0.5), dyadic(0.25), dyadic(0.75), dyadic(0.3)
    ((1, 1), (2, 3), (2, 2), None)
    """
    for k in range(max_k + 1):
        m = damping * 2**k
        if m == int(m):
            a = 2**k - int(m)  # 1 - damping = a / 2^k
            bits = 0
            for j in range(1, k + 1):  # b_j is bit (k - j) of a
                if (a >> (k - j)) & 1:
                    bits |= 1 << (j - 1)
            return k, bits
    return None


class RatioPlan(NamedTuple):
    """The per-run arrays of the ratio form (:func:`ratio_plan`).

    Attributes
    ----------
    eh : float64 (n_var,)
        ``exp(h_i)`` (0 or inf under hard evidence).
    al : float64 (n_edge,)
        Moebius edges: the map's constant term for the message to the partner
        edge (``c`` of an Ising factor, ``p`` or ``q`` of a table), ``+`` when the
        partner is the next edge, ``-`` when it is the previous one; 0 on parity
        and unary-table edges.  The map's denominator coefficient is ``|al|`` of
        the partner edge.
    be : float64 (n_edge,)
        ``r`` of a table on both its edges (1 for a coupling); length 1 when ``gen``
        is False.
    gen : bool
        Any general table: the variable pass reads ``be`` and the partner's
        ``al`` (else the Ising form ``(E + c) / (c E + 1)``).
    check : bool
        The dynamic plan (range flags in the kernels, handover when raised).
    vchk : bool (n_var,)
        Variables whose products the dynamic plan tracks (finite evidence).
    k_edges : int64 (n_const,)
        Edges of unary tables, and ``k_odds`` (float64) their constant odds.
    d_max : int
        Largest variable degree (scratch length of :func:`var_ratio`).
    """

    eh: np.ndarray
    al: np.ndarray
    be: np.ndarray
    gen: bool
    check: bool
    vchk: np.ndarray
    k_edges: np.ndarray
    k_odds: np.ndarray
    d_max: int


def ratio_plan(graph, blocks, L0, dynamic=True):
    """The :class:`RatioPlan` of the graph, or None when the ratio form cannot run exactly.

    The static plan when the graph has no parity block and its bounds hold;
    otherwise (and when ``dynamic``) the dynamic plan when its conditions hold
    (module docstring).  Ising-only graphs get only the static plan (the
    log-odds form serves them otherwise).

    Parameters
    ----------
    graph : CompiledGraph
    blocks : list of IsingBlock, PairTableBlock or ParityBlock
    L0 : ndarray of float64, shape (n_edge,)
        Initial log-odds of the factor messages.
    dynamic : bool
        Allow the dynamic plan.
    """
    n_edge = graph.n_edge
    with np.errstate(invalid="ignore"):
        h = graph.var_unary[:, 1] - graph.var_unary[:, 0]
    if np.any(np.isnan(h)):
        return None
    fin = np.isfinite(h)
    al = np.zeros(n_edge)
    be = np.ones(n_edge)
    lb = np.zeros(n_edge)
    par = np.zeros(n_edge, dtype=bool)
    k_edges, k_odds = [], []
    gen = False
    for b in blocks:
        if b.hi <= b.lo:
            continue
        e_lo, e_hi = int(graph.fac_ptr[b.lo]), int(graph.fac_ptr[b.hi])
        first = np.asarray(graph.fac_ptr[b.lo : b.hi])
        if isinstance(b, IsingBlock):
            c = b.c[np.asarray(graph.fac_param[b.lo : b.hi])]
            al[first] = c
            al[first + 1] = -c
            lb[first] = lb[first + 1] = np.abs(np.log(c))
        elif isinstance(b, PairTableBlock):
            gen = True
            deg = np.diff(np.asarray(graph.fac_ptr[b.lo : b.hi + 1]))
            two = deg == 2
            f2 = first[two]
            al[f2] = b.p[two]  # slot 0's cavity -> message to slot 1: (p + r E) / (1 + q E)
            al[f2 + 1] = -b.q[two]  # slot 1's cavity -> message to slot 0: (q + r E) / (1 + p E)
            be[f2] = be[f2 + 1] = b.r[two]
            lb[f2] = lb[f2 + 1] = b.lb[two]
            k_edges.append(first[~two])
            k_odds.append(b.p[~two])
            lb[first[~two]] = b.lb[~two]
        else:
            par[e_lo:e_hi] = True
    m = np.maximum(lb, np.abs(L0))
    deg = np.diff(graph.var_ptr)
    d_max = int(deg.max()) if deg.size else 1
    k_e = np.concatenate(k_edges).astype(np.int64) if k_edges else np.zeros(0, np.int64)
    k_o = np.concatenate(k_odds) if k_odds else np.zeros(0)
    with np.errstate(over="ignore"):
        eh = np.exp(h)
    plan = RatioPlan(eh, al, be if gen else np.ones(1), gen, False, fin, k_e, k_o, d_max)
    tab = ~par
    if not par.any():
        # hard-evidence variables count without their field: their cavity odds are then exactly 0 or inf
        per_var = np.abs(np.where(fin, h, 0.0)) + np.bincount(graph.edge_var, weights=m,
                                                               minlength=graph.n_var)
        if m.max(initial=0.0) <= EDGE_BOUND and per_var.max(initial=0.0) <= VAR_BOUND:
            return plan
    if not dynamic or all(isinstance(b, IsingBlock) for b in blocks):
        return None
    if np.any(np.abs(h[fin]) > H_MAX) or np.any(m[tab] > EDGE_BOUND):
        return None
    if np.any(np.abs(L0[par]) > math.log(PAR_HI)):
        return None
    return plan._replace(check=True)


class TanhState:
    """The tanh engine's state as a callback sees it: the factor messages (odds or log-odds), the fields."""

    def __init__(self, graph, h, Lf=None, eh=None, X=None):
        self.graph, self.h, self.Lf, self.eh, self.X = graph, h, Lf, eh, X

    def log_messages(self, out):
        """Write the normalised log-messages (n_edge, q_max) into ``out``."""
        log_from_llr(self.Lf if self.X is None else np.log(self.X), out)

    def hard_decision(self):
        """Argmax of the current beliefs, int64 (n_var,) (ties: state 0)."""
        g = self.graph
        out = np.empty(g.n_var)
        if self.X is None:
            belief_llr(g.var_ptr, g.var_edges, self.h, self.Lf, out)
            return (out > 0).astype(np.int64)
        belief_odds(g.var_ptr, g.var_edges, self.eh, self.X, out)
        return (out > 1.0).astype(np.int64)


class TanhEngine:
    """Flooding sum-product for binary graphs of Ising, binary-table and parity blocks (module docstring).

    The engine owns the variable side and the loop; each block updates its
    factors with its own kernel (pairwise factors during the variable pass).  A
    graph runs here when every variable is binary and every block's rule offers
    an :class:`IsingBlock`, :class:`PairTableBlock` or :class:`ParityBlock`.
    Any damping.
    """

    name = "tanh"

    def accepts(self, graph, config) -> bool:
        """Graph-wide conditions: sum-product, binary variables, each with an allowed state.

        Hard evidence is allowed (a block that cannot take it declines: parity
        checks); an Ising-only graph with hard evidence runs in the ratio form.
        """
        if not (config.mode == "sum" and np.all(graph.card == 2)):
            return False
        return bool(np.all(np.isfinite(graph.var_unary[:, :2]).any(axis=1)))

    def run(self, graph, blocks, config, f2v, report):
        """Iterate from the log-messages ``f2v`` and write the final ones back.

        ``report(iteration, residual, state)`` is called after every sweep; a
        true return value stops the run.  Returns ``(history, converged, stopped,
        handover)``: with ``handover`` true the messages left the range in which
        the ratio form is exact (module docstring), ``f2v`` holds the last exact
        ones and the driver continues in the log domain.
        """
        L0 = llr_from_log(f2v)
        blocks = [b for b in blocks if b.hi > b.lo]
        plan = ratio_plan(graph, blocks, L0)
        if plan is not None:
            return self._run_ratio(graph, blocks, config, f2v, report, L0, plan)
        ising_only = all(isinstance(b, IsingBlock) for b in blocks)
        if ising_only and np.all(np.isfinite(graph.var_unary[:, :2])):
            return self._run_llr(graph, blocks, config, f2v, report, L0) + (False,)
        return [], False, False, True

    def _run_ratio(self, graph, blocks, config, f2v, report, L0, plan):
        X = np.exp(L0)
        Xn = np.empty_like(X)
        Ein = np.empty_like(X)
        n_chunk = max(1, -(-graph.n_var // VAR_CHUNK))
        rch = np.zeros(n_chunk)
        rfin = np.zeros(max(1, -(-graph.n_edge // EDGE_CHUNK)))
        res = np.zeros(graph.n_fac)
        parity = [b for b in blocks if isinstance(b, ParityBlock)]
        S = np.empty_like(X) if parity else X  # prefix U of the checks
        k_res = np.zeros(1)
        g = config.damping
        dy = dyadic(g)
        mode, dk, dbits = (0, 0, 0) if g == 0.0 else ((1, dy[0], dy[1]) if dy is not None else (2, 0, 0))
        h = graph.var_unary[:, 1] - graph.var_unary[:, 0]
        state = TanhState(graph, h, eh=plan.eh, X=X)
        history, converged, stopped, handover = [], False, False, False
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # range flags, no-JIT runs
            for it in range(config.max_iter):
                n_bad = var_ratio(graph.var_ptr, graph.var_edges, plan.eh, plan.al, plan.be, plan.gen,
                                  plan.check, plan.vchk, X, Xn, Ein, rch, plan.d_max, mode, dk, dbits)
                r = float(rch.max())
                for b in parity:
                    n_bad += parity_ratio(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tw, b.cw1, b.sgn, Ein,
                                          S, X, Xn, res, mode, dk, dbits)
                    r = max(r, float(res[b.lo : b.hi].max()))
                if n_bad:  # a value left the window of the dynamic plan: X (the last sweep) is exact
                    handover = True
                    break
                if plan.k_edges.size:
                    const_ratio(plan.k_edges, plan.k_odds, X, Xn, k_res, mode, dk, dbits)
                    r = max(r, float(k_res[0]))
                if mode == 2:  # Xn holds X_new / X_old: X_old (X_new / X_old)^(1 - g) with SIMD log and exp
                    np.log(Xn, out=Xn)
                    Xn *= 1.0 - g
                    np.exp(Xn, out=Xn)
                    mix_finish(X, Xn, rfin)
                    r = float(rfin.max())
                X, Xn = Xn, X
                state.X = X
                history.append(r)
                converged = r < config.tol
                if report(it + 1, r, state):
                    stopped = True
                    break
                if converged:
                    break
        if history:
            log_from_llr(np.log(X), f2v)
        return history, converged, stopped, handover

    def _run_llr(self, graph, blocks, config, f2v, report, Lf):
        """The log-odds form of an Ising-only graph with finite evidence."""
        tau = np.tanh(0.5 * Lf)
        T = np.empty(graph.n_edge)
        h = np.ascontiguousarray(graph.var_unary[:, 1] - graph.var_unary[:, 0])
        res = np.zeros(graph.n_fac)
        state = TanhState(graph, h, Lf=Lf)
        history, converged, stopped = [], False, False
        for it in range(config.max_iter):
            var_sweep(graph.var_ptr, graph.var_edges, h, Lf, T)
            for b in blocks:
                ising_fac_sweep(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tJ, T, tau, Lf, config.damping,
                                res)
            r = float(res.max()) if res.size else 0.0
            history.append(r)
            converged = r < config.tol
            if report(it + 1, r, state):
                stopped = True
                break
            if converged:
                break
        log_from_llr(Lf, f2v)
        return history, converged, stopped


#: The tanh-domain flooding engine (one instance: blocks name it as their ``engine``).
TANH = TanhEngine()


def llr_from_log(f2v: np.ndarray) -> np.ndarray:
    """Log-odds ``m(1) - m(0)`` of binary log-messages, float64 (n_edge,)."""
    return np.ascontiguousarray(f2v[:, 1] - f2v[:, 0])


def log_from_llr(L: np.ndarray, out: np.ndarray) -> None:
    """Write normalised binary log-messages of log-odds ``L`` into ``out[:, :2]``.

    ``m(1) = -log(1 + e^-L)``, ``m(0) = -log(1 + e^L)`` (stable softplus form: both
    share ``log1p(e^-|L|)``, one exp and one log per edge).
    """
    s = np.log1p(np.exp(-np.abs(L)))
    out[:, 1] = -(np.maximum(0.0, -L) + s)
    out[:, 0] = -(np.maximum(0.0, L) + s)


# --------------------------------------------------------------------------- ratio form
@njit(inline="always")
def _commit(N, D, xo, mode, dk, dbits):
    """(value to store, residual) of a new message with odds ``N / D`` against the old odds ``xo``.

    mode 0: no damping; mode 1: dyadic damping ``(N/D)^(1-g) xo^g`` by ``dk``
    nested square roots (Horner over the bits of 1 - g); mode 2: the quotient
    ``(N/D) / xo``, finished by :func:`mix_finish` (residual 0 here).  The
    residual ``|v - xo| / ((1 + v)(1 + xo))`` and the quotient ``v = N / D``
    share one division when ``mode == 0`` or ``g == 1/2`` (``v = w / D`` with
    ``w = N`` or ``sqrt(N xo D)``); the plans keep every product here in the
    normal range (module docstring).
    """
    if mode == 2:
        return N / (D * xo), 0.0
    if mode == 0 or (dk == 1 and dbits == 1):
        w = N if mode == 0 else np.sqrt(N * xo * D)
        s = 1.0 + xo
        q = 1.0 / (D * (D + w) * s)
        return w * (D + w) * s * q, abs(w - xo * D) * D * q
    v = xo
    xn = N / D
    for j in range(dk, 0, -1):
        v = np.sqrt((xn if (dbits >> (j - 1)) & 1 else xo) * v)
    return v, abs(v - xo) / ((1.0 + v) * (1.0 + xo))


@pjit
def var_ratio(var_ptr, var_edges, eh, al, be, gen, check, vchk, X, Xn, Ein, rch, d_max, mode, dk, dbits):
    """The variable pass of the ratio form, with the pairwise factors applied on the fly.

    For every edge e = (i, a): the cavity odds ``E = e^{h_i} prod_{b != a} X_b``
    (prefix products in a small scratch, then suffix products).  On a parity or
    unary-table edge (``al[e] == 0``) E goes to ``Ein[e]``; on a pairwise edge
    the factor's message to the partner edge f, ``(|al[e]| + r E) / (1 + |al[f]| E)``
    (``r = be[e]`` when ``gen``, else the Ising form ``(E + c) / (c E + 1)``), is
    damped against ``X[f]`` and written to ``Xn[f]`` (:func:`_commit`), and
    ``rch[chunk]`` receives the largest residual of the chunk's variables.

    With ``check`` (the dynamic plan), every prefix and suffix product of a
    variable with ``vchk[i]`` is tracked, and a variable without it (hard evidence) takes
    ``E = e^{h_i}`` (0 or inf) directly; returns the number of chunks with a product outside
    ``[PROD_LO, PROD_HI]`` (0 without ``check``).

    Parameters
    ----------
    var_ptr, var_edges : ndarray of int64
    eh : ndarray of float64, shape (n_var,)
        ``exp(h_i)``.
    al, be, gen, check, vchk :
        :class:`RatioPlan` fields.
    X : ndarray of float64, shape (n_edge,)
        Current factor messages (odds).
    Xn : ndarray of float64, shape (n_edge,)
        Output: the new odds of pairwise edges.
    Ein : ndarray of float64, shape (n_edge,)
        Output: cavity odds of the other edges.
    rch : ndarray of float64, shape (ceil(n_var / VAR_CHUNK),)
        Output: residual per chunk of variables.
    d_max, mode, dk, dbits : int
    """
    n_var = eh.shape[0]
    n_bad = 0
    for c in prange(rch.shape[0]):
        pre = np.empty(d_max)
        r = 0.0
        mn = 1.0
        mx = 1.0
        for i in range(c * VAR_CHUNK, min(n_var, (c + 1) * VAR_CHUNK)):
            lo = var_ptr[i]
            hi = var_ptr[i + 1]
            chk = check and vchk[i]
            hv = check and not vchk[i]  # hard evidence (dynamic plan): E = e^h = 0 or inf, no products
            acc = eh[i]
            for k in range(lo, hi):
                pre[k - lo] = acc
                acc *= X[var_edges[k]]
                if chk:
                    mn = min(mn, acc)
                    mx = max(mx, acc)
            acc = 1.0
            for k in range(hi - 1, lo - 1, -1):
                e = var_edges[k]
                E = eh[i] if hv else pre[k - lo] * acc
                acc *= X[e]
                if chk:
                    mn = min(mn, acc)
                    mx = max(mx, acc)
                cc = al[e]
                if cc == 0.0:
                    Ein[e] = E
                    continue
                f = e + 1 if cc > 0.0 else e - 1
                cc = abs(cc)
                E = min(E, BIG)
                if gen:
                    v, d = _commit(cc + be[e] * E, 1.0 + abs(al[f]) * E, X[f], mode, dk, dbits)
                else:
                    v, d = _commit(E + cc, cc * E + 1.0, X[f], mode, dk, dbits)
                Xn[f] = v
                r = d if d > r else r
        rch[c] = r
        if mn < PROD_LO or mx > PROD_HI:
            n_bad += 1
    return n_bad


@pjit
def parity_ratio(lo, hi, fac_ptr, fac_param, tw, cw1, sgn, Ein, S, X, Xn, res, mode, dk, dbits):
    """Parity checks lo..hi-1 in the ratio form, exact, linear in the degree (module docstring).

    From the cavity odds ``Ein``: ``u_j = 2 min(E_j, 1) / (E_j + 1)`` (stored in
    ``Ein`` with the sign of ``-T_j``), prefix products ``P`` of ``-T_j`` (in
    ``Xn``) and prefix ``U = 1 - |P|`` (in ``S``) by positive recurrences; the
    backward pass carries the suffix pair, combines ``U = U_a + |P_a| U_b``,
    forms ``D1 = cw1 + tw U = 1 - |tau|`` and commits the odds ``(2 - D1) / D1``
    or ``D1 / (2 - D1)`` (:func:`_commit`, damped against ``X``) into ``Xn``;
    ``res[a]`` is the largest residual.  Returns the number of checks with a
    cavity odds outside ``[PAR_LO, PAR_HI]`` (left unchanged: the sweep is
    discarded).
    """
    n_bad = 0
    for k in prange(hi - lo):
        a = lo + k
        e_lo = fac_ptr[a]
        e_hi = fac_ptr[a + 1]
        row = fac_param[a]
        cw = tw[row]
        c1 = cw1[row]
        sg = sgn[row]
        P = 1.0
        U = 0.0
        elo = 1.0
        ehi = 1.0
        for e in range(e_lo, e_hi):  # branch-free: the sides of E = 1 come as signs (copysign)
            Xn[e] = P
            S[e] = U
            E = Ein[e]
            elo = min(elo, E)
            ehi = max(ehi, E)
            u = 2.0 * min(E, 1.0) / (E + 1.0)
            sd = 1.0 - E  # the sign of -T_j
            Ein[e] = math.copysign(u, sd)
            U += abs(P) * u
            P *= math.copysign(1.0 - u, sd)
        if not (elo >= PAR_LO and ehi <= PAR_HI):
            n_bad += 1
            continue
        Pb = 1.0
        Ub = 0.0
        r = 0.0
        for e in range(e_hi - 1, e_lo - 1, -1):
            Pa = Xn[e]
            D1 = c1 + cw * (S[e] + abs(Pa) * Ub)
            D2 = 2.0 - D1
            pos = sg * Pa * Pb > 0.0
            v, d = _commit(D2 if pos else D1, D1 if pos else D2, X[e], mode, dk, dbits)
            Xn[e] = v
            r = d if d > r else r
            su = Ein[e]
            u = abs(su)
            Ub += abs(Pb) * u
            Pb *= math.copysign(1.0 - u, su)
        res[a] = r
    return n_bad


@njit
def const_ratio(edges, odds, X, Xn, rmax, mode, dk, dbits):
    """Unary tables: commit the constant odds ``odds[k]`` on edge ``edges[k]`` (damped against ``X``)
    into ``Xn``; ``rmax[0]`` receives the largest residual."""
    r = 0.0
    for k in range(edges.shape[0]):
        e = edges[k]
        v, d = _commit(odds[k], 1.0, X[e], mode, dk, dbits)
        Xn[e] = v
        r = d if d > r else r
    rmax[0] = r


@pjit
def mix_finish(X, Q, rch):
    """General damping, last step: ``Q <- X * Q`` (Q holds ``(X_new / X)^(1 - g)``) and the
    largest residual ``|p(Q) - p(X)|`` of each chunk of EDGE_CHUNK edges into ``rch``."""
    n = X.shape[0]
    for c in prange(rch.shape[0]):
        r = 0.0
        for e in range(c * EDGE_CHUNK, min(n, (c + 1) * EDGE_CHUNK)):
            xo = X[e]
            v = xo * Q[e]
            Q[e] = v
            a = min(v, BIG)
            b = min(xo, BIG)
            d = abs(a - b) / ((1.0 + a) * (1.0 + b))
            r = d if d > r else r
        rch[c] = r


@pjit
def belief_odds(var_ptr, var_edges, eh, X, out):
    """Odds of every variable's belief: out[i] = e^{h_i} times the product of the incoming odds."""
    n_var = eh.shape[0]
    for i in prange(n_var):
        acc = eh[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            acc *= X[var_edges[k]]
        out[i] = acc


# --------------------------------------------------------------------------- log-odds form
# The fallback when the ratio form's range bounds fail (module docstring): one tanh
# on the variable side and one log on the factor side per edge.


@njit(error_model="numpy")
def _atanh2(t):
    """2 atanh(t) = log((1 + t) / (1 - t)) for |t| < 1."""
    return np.log((1.0 + t) / (1.0 - t))


def var_sweep(var_ptr, var_edges, h, Lf, T):
    """T[e] = tanh(L_{i->a} / 2) for every edge: the cavity sums of :func:`var_cavity`, then tanh."""
    var_cavity(var_ptr, var_edges, h, Lf, T)
    tanh_half(T)


@pjit
def tanh_half(T):
    """T <- tanh(T / 2) in place, as sign(T) (1 - e^-|T|) / (1 + e^-|T|): one exp that
    never overflows; exact limits +-1, and an absolute error ~1e-16 near 0, which is
    what the probability-domain residual sees."""
    for e in prange(T.shape[0]):
        v = T[e]
        u = np.exp(-abs(v))
        r = (1.0 - u) / (1.0 + u)
        T[e] = r if v >= 0.0 else -r


@pjit
def var_cavity(var_ptr, var_edges, h, Lf, V):
    """V[e] = L_{i->a} = h_i + sum of the other Lf at i (prefix and suffix sums)."""
    n_var = h.shape[0]
    for i in prange(n_var):
        acc = h[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            e = var_edges[k]
            V[e] = acc
            acc += Lf[e]
        acc = 0.0
        for k in range(var_ptr[i + 1] - 1, var_ptr[i] - 1, -1):
            e = var_edges[k]
            V[e] += acc
            acc += Lf[e]


@pjit
def ising_fac_sweep(lo, hi, fac_ptr, fac_param, tJ, T, tau, Lf, damping, res):
    """Ising factors in the tanh domain: tau_{a->0} = tanh(J) T[e1], tau_{a->1} = tanh(J) T[e0].

    Writes the new log-odds Lf and tanh-values tau of the factor's two edges
    (after damping) and res[a] = the largest probability change.
    """
    for k in prange(hi - lo):
        a = lo + k
        e0 = fac_ptr[a]
        e1 = e0 + 1
        t = tJ[fac_param[a]]
        n0 = t * T[e1]
        n1 = t * T[e0]
        if damping > 0.0:
            l0 = (1.0 - damping) * _atanh2(n0) + damping * Lf[e0]
            l1 = (1.0 - damping) * _atanh2(n1) + damping * Lf[e1]
            n0 = np.tanh(0.5 * l0)
            n1 = np.tanh(0.5 * l1)
        else:
            l0 = _atanh2(n0)
            l1 = _atanh2(n1)
        r0 = abs(n0 - tau[e0])
        r1 = abs(n1 - tau[e1])
        res[a] = 0.5 * (r0 if r0 > r1 else r1)
        tau[e0] = n0
        tau[e1] = n1
        Lf[e0] = l0
        Lf[e1] = l1


@pjit
def belief_llr(var_ptr, var_edges, h, Lf, out):
    """Log-odds of every variable's belief: out[i] = h_i + sum of the incoming Lf."""
    n_var = h.shape[0]
    for i in prange(n_var):
        acc = h[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            acc += Lf[var_edges[k]]
        out[i] = acc
