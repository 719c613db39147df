"""Certified Markov chains beyond the subset DP (lifts.kernels), against exact laws.

Oracles:

* the exact permanental law by enumeration (chi-square of whole permutations at
  M <= 6: the moves, informed pairs included, are in detailed balance);
* the subset DP (``method="exact"``) at M = 12..20;
* the block tables (:func:`lifts.block_marginal`) at any M, themselves checked
  against enumeration (M <= 6) and the subset DP (M = 8, 12);
* the cycle statistics of a lift, ``E[#fix(w_C)] = tr((Pbar Pbar^T)^(k/2))``
  for a base k-cycle (docs/theory.md §5.5), with the exact Pbar.

Every marginal entry of a Monte-Carlo estimate over N independent chains (one
draw each, so the binomial error is the whole Monte-Carlo error) must lie
within 4 standard errors ``sqrt(P (1 - P) / N)`` of the exact value P: the test
is the exact two-sided binomial tail at the level of |z| = 4, which equals the
normal rule for large counts and stays honest for entries with few expected
hits.  With M^2 entries an exact sampler fails it with probability about
M^2 * 6e-5 (1-4 %); the seeds are fixed.
"""

import contextlib
import itertools
import warnings

import numpy as np
import pytest
from scipy import stats

import fgraph
import lifts
from lifts import kernels as lk
from lifts.kernels import (
    MCMC_MIN_CHAINS,
    Z_CERT,
    Band,
    Block,
    CyclicShift,
    Diagnostic,
    FromMatrix,
    Ring,
    SamplingWarning,
    Uniform,
    block_marginal,
)

N = 20000  # chains behind every Monte-Carlo marginal
Z = 4.0
P_TAIL = 2 * stats.norm.sf(Z)  # the two-sided tail of |z| = 4


# ----------------------------------------------------------------- oracles and checks
def all_perms(M):
    return np.array(list(itertools.permutations(range(M))), dtype=np.int64)


def brute_marginal(Q):
    Q = np.asarray(Q, dtype=float)
    M = len(Q)
    perms = all_perms(M)
    w = np.prod(Q[np.arange(M), perms], axis=1)
    P = np.zeros((M, M))
    for m in range(M):
        np.add.at(P[m], perms[:, m], w / w.sum())
    return P


def binomial_z(P_hat, P, n):
    """|z| equivalent of the exact two-sided binomial tail of every entry (counts n P_hat)."""
    k = np.rint(np.asarray(P_hat) * n).astype(np.int64)
    tail = 2 * np.minimum(stats.binom.cdf(k, n, P), stats.binom.sf(k - 1, n, P))
    return stats.norm.isf(np.minimum(tail, 1.0) / 2)


def assert_entries_within_4se(P_hat, P, n, what):
    z = binomial_z(P_hat, P, n)
    worst = np.unravel_index(np.argmax(z), z.shape)
    assert z.max() <= Z, (f"{what}: entry {worst} = {P_hat[worst]:.6g}, exact {P[worst]:.6g}, "
                          f"{z.max():.2f} standard errors off (n = {n})")
    return float(z.max())


def lognormal(M, seed):
    """Rough random weights: exp(2 N(0, 1)) (sigma = 2)."""
    return FromMatrix(np.exp(2 * np.random.default_rng(seed).standard_normal((M, M))), name=f"lognormal{M}")


def kid(x):
    return x.identify() if isinstance(x, lk.Kernel) else str(x)


@contextlib.contextmanager
def no_sampling_warning():
    """Certified runs must not warn: a SamplingWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplingWarning)
        yield


# ----------------------------------------------------------------- block tables (the oracle beyond M = 20)
@pytest.mark.parametrize(
    "QB, L",
    [
        ([[1.0, 0.05], [0.05, 1.0]], 3),
        ([[2.0, 0.5], [0.1, 1.0]], 3),  # not symmetric
        ([[1.0, 0.3, 0.0], [0.2, 1.0, 0.5], [0.7, 0.0, 1.0]], 2),  # zeros
        (np.random.default_rng(0).lognormal(size=(6, 6)), 1),  # L = 1: any 6 x 6 matrix
        ([[1.0]], 5),
    ],
)
def test_block_marginal_matches_enumeration(QB, L):
    QB = np.asarray(QB, dtype=float)
    Q = np.kron(QB, np.ones((L, L)))
    P = np.kron(block_marginal(QB, L), np.ones((L, L)))
    np.testing.assert_allclose(P, brute_marginal(Q), atol=1e-13)


@pytest.mark.parametrize(
    "kernel, M",
    [(Block(4, 0.05), 8), (Block(4, 0.05), 12), (Block(3, 0.05), 12), (Block(2, 0.2), 12),
     (Block(6, 0.4), 12)],
    ids=kid,
)
def test_block_marginal_matches_subset_dp(kernel, M):
    dp = kernel.P(M, method="exact")  # the generic subset DP
    np.testing.assert_allclose(kernel.P(M), dp, atol=1e-12)  # auto: the block tables
    assert kernel.marginal(M).exact
    QB = np.random.default_rng(M).lognormal(size=(3, 3))  # a general Q_B, L = 4
    Q = np.kron(QB, np.ones((4, 4)))
    tables = np.kron(block_marginal(QB, 4), np.ones((4, 4)))
    np.testing.assert_allclose(tables, FromMatrix(Q).P(12), atol=1e-12)


def test_block_marginal_any_M():
    for M in (24, 27, 64):
        k = Block(4 if M % 4 == 0 else 3, 0.05)
        mg = k.marginal(M)
        assert mg.exact and mg.certified and mg.diagnostic is None and mg.ess == np.inf
        np.testing.assert_allclose(mg.P.sum(axis=0), 1.0, atol=1e-12)
        np.testing.assert_allclose(mg.P.sum(axis=1), 1.0, atol=1e-12)
        assert k.P(M, method="exact") is mg.P  # cached, and method="exact" reaches it beyond EXACT_MAX_M
        L = M // k.n_blocks
        # the marginal is constant on blocks; off-block mass per row shrinks below the Q-proportional value
        np.testing.assert_allclose(mg.P, np.kron(mg.P[::L, ::L], np.ones((L, L))), atol=1e-15)
        assert 0 < mg.P[0, L] < 0.05 / (L * (1 + 0.05 * (k.n_blocks - 1)))
    assert Block(2, 0.0).P(40)[0, 20] == 0.0


def test_block_marginal_errors():
    with pytest.raises(ValueError, match="too large"):
        block_marginal(np.ones((8, 8)), 20)
    with pytest.raises(ValueError, match="QB has permanent 0"):
        block_marginal([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], 2)
    with pytest.raises(ValueError, match=r"L \(the block size\) must be an int >= 1, got 0"):
        block_marginal(np.eye(2), 0)
    with pytest.raises(ValueError, match="n_blocks=3.*M=8"):
        Block(3, 0.1).P(8)
    # tables too large: no exact marginal beyond the subset DP
    with pytest.raises(ValueError, match="EXACT_MAX_M"):
        Block(24, 0.1).marginal(48, method="exact")


# ----------------------------------------------------------------- the chain is exact in law
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, Q",
    [
        ("lognormal", np.exp(2 * np.random.default_rng(1).standard_normal((5, 5)))),
        ("zeros", np.array([[1, 0, 2, 1, 3], [1, 1, 0, 2, 1], [4, 1, 1, 0, 1], [1, 2, 1, 1, 1],
                            [1, 1, 3, 1, 0.0]])),
        ("block", Block(3, 0.1).Q(6)),
        ("band-capped", Band(1).Q(5)),  # EPS entries: the informed proposals hit BADNESS_CAP
        ("tiny", np.where(np.eye(5, k=2) + np.eye(5, k=-3) > 0, 1e-200, 1.0) + np.eye(5)),  # log ratios
    ],
)
def test_chain_law_chi_square(name, Q):
    """Long fixed chains reproduce the whole permanental law (detailed balance of every move)."""
    M, n = len(Q), 100000
    assert lk._chain_tables(Q).use_log == (name == "tiny")
    perms = all_perms(M)
    w = np.prod(Q[np.arange(M), perms], axis=1)
    p = w / w.sum()
    samples = FromMatrix(Q).sample(n, M, seed=3, method="mcmc", mcmc_sweeps=40)
    codes = perms @ (M ** np.arange(M))
    index = np.searchsorted(codes, samples @ (M ** np.arange(M)), sorter=np.argsort(codes))
    counts = np.bincount(np.argsort(codes)[index], minlength=len(p))
    assert counts[p == 0].sum() == 0
    keep = p * n > 5  # chi-square cells with enough expected counts; the rest pooled
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(n * p[keep], n * p[~keep].sum())
    assert stats.chisquare(obs[exp > 0], exp[exp > 0]).pvalue > 1e-3


# ----------------------------------------------------------------- certified MCMC against the subset DP
@pytest.mark.slow
@pytest.mark.parametrize(
    "kernel, M",
    [
        (Block(4, 0.05), 12),
        (Block(4, 0.05), 20),
        (Block(3, 0.05), 12),
        (Block(3, 0.05), 18),
        (Ring(0.5), 12),
        (Ring(0.5), 20),
        (lognormal(12, 12), 12),
        (lognormal(16, 16), 16),
        (lognormal(20, 20), 20),
    ],
    ids=lambda x: x.identify()[:24] if isinstance(x, lk.Kernel) else str(x),
)
def test_mcmc_matches_subset_dp(kernel, M):
    with no_sampling_warning():
        mc = kernel.marginal(M, seed=1, n_samples=N, method="mcmc")
    assert mc.certified and not mc.exact and mc.n_samples == N and mc.ess == N
    assert mc.rhat < 1.01 and mc.sweeps == mc.diagnostic.history[-1][0]
    assert_entries_within_4se(mc.P, kernel.P(M, method="exact"), N, kernel.identify())


# ------------------------------------------------------------ certified MCMC against block tables (M > 20)
@pytest.mark.slow
@pytest.mark.parametrize("kernel, M", [(Block(4, 0.05), 24), (Block(3, 0.05), 24), (Block(3, 0.05), 27)],
                         ids=kid)
def test_mcmc_matches_block_tables_beyond_the_dp(kernel, M):
    exact = kernel.P(M)  # block tables
    with no_sampling_warning():
        perms, diag = kernel.sample(N, M, seed=1, method="mcmc", diagnostic=True)
    assert diag.certified and diag.n_chains == N
    counts = np.bincount((perms + M * np.arange(M)).ravel(), minlength=M * M).reshape(M, M)
    assert_entries_within_4se(counts / N, exact, N, f"{kernel.identify()} at M={M}")
    # block tables: E[n[b, b']] / L^2 per block pair, SE from the chains' own tables (independent chains)
    B, L = kernel.n_blocks, M // kernel.n_blocks
    blocks = perms // L
    tables = np.zeros((N, B, B))
    for b in range(B):
        for b2 in range(B):
            tables[:, b, b2] = (blocks[:, b * L:(b + 1) * L] == b2).sum(axis=1)
    mean, se = tables.mean(axis=0), tables.std(axis=0, ddof=1) / np.sqrt(N)
    np.testing.assert_array_less(np.abs(mean - exact[::L, ::L] * L**2), Z * se)


# ----------------------------------------------------------------- cycle statistics of a lift at M = 24
def squares(n_units):
    """n_units disjoint squares of spins: each an 8-cycle of the factor graph, edge-disjoint."""
    g = fgraph.FactorGraph()
    g.add_variables(4 * n_units)
    v = 4 * np.arange(n_units)[:, None, None] + np.array([[0, 1], [1, 2], [2, 3], [3, 0]])[None]
    g.add_factors(v.reshape(-1, 2), np.array([[2.0, 1.0], [1.0, 2.0]]))
    return g.compile()


@pytest.mark.slow
def test_block_lift_cycle_statistics():
    """Fixed points of the holonomy of base 8-cycles in a Block(4, 0.05) lift at M = 24 (MCMC)."""
    M, n_units, kernel = 24, 2000, Block(4, 0.05)
    base = squares(n_units)
    with no_sampling_warning():
        cover = lifts.lift(base, M, kernel=kernel, seed=5)
    assert cover.kernel == kernel.identify()
    P = kernel.P(M)  # exact, block tables
    row = lifts.lift_cycle_table(cover, 8, P=P, cover=False)[8]
    assert row["base"] == n_units and row["exact"]
    fix = lifts.cycle_types(cover, 8)[8][:, 0]  # #fix(w_C) of each (independent) base 8-cycle
    assert fix.sum() == row["lifted_k"]
    expected = float(np.trace(np.linalg.matrix_power(P @ P.T, 4)))
    assert row["expected_kernel"] == pytest.approx(n_units * expected, rel=1e-12)
    se = fix.std(ddof=1) / np.sqrt(n_units)
    assert abs(fix.mean() - expected) <= Z * se, (fix.mean(), expected, se)
    # power: the marginal of the old 20-sweep chain (0.0061 off the block instead of 0.0034) is rejected
    L = M // 4
    off = 0.0061
    biased = np.kron(np.full((4, 4), off) + np.eye(4) * ((1 - 3 * L * off) / L - off), np.ones((L, L)))
    assert abs(fix.mean() - float(np.trace(np.linalg.matrix_power(biased, 8)))) > 2 * Z * se


# ----------------------------------------------------------------- the diagnostic and its warning
def test_exports():
    assert lifts.SamplingWarning is SamplingWarning and issubclass(SamplingWarning, UserWarning)
    assert lifts.Diagnostic is Diagnostic and lifts.block_marginal is block_marginal


def test_exact_and_direct_draws_report_a_diagnostic():
    assert Ring(1.0).sample(5, 6, seed=0, diagnostic=True)[1] == Diagnostic("exact", True)
    assert Uniform().sample(5, 30, seed=0, diagnostic=True)[1] == Diagnostic("direct", True)
    perms, diag = CyclicShift(2).sample(3, 4, diagnostic=True)
    assert diag.method == "direct" and perms.shape == (3, 4)
    assert Ring(1.0).sample(0, 30, seed=0, diagnostic=True)[1].certified


def test_small_chain_population_and_fields():
    """A few edges run with auxiliary chains; the fields describe the run (small enough without JIT)."""
    kernel, M = Block(2, 0.1), 4
    with no_sampling_warning():
        perms, diag = kernel.sample(3, M, seed=0, method="mcmc", diagnostic=True)
    assert perms.shape == (3, M) and np.all(np.sort(perms, axis=1) == np.arange(M))
    assert diag.method == "mcmc" and diag.certified and diag.adaptive
    assert diag.n_chains == MCMC_MIN_CHAINS and diag.max_sweeps == lk.MCMC_MAX_SWEEPS
    assert diag.statistics == ("log_weight", "map_overlap", "ring_cos", "ring_sin", "svd_2", "svd_3")
    assert len(diag.z) == len(diag.rhat) == len(diag.statistics)
    sweeps = [t for t, _ in diag.history]
    assert sweeps[0] == lk.MCMC_MIN_SWEEPS and sweeps == [sweeps[0] * 2**i for i in range(len(sweeps))]
    assert diag.sweeps == sweeps[-1] and len(sweeps) >= 3
    assert all(z < Z_CERT for _, z in diag.history[-3:]) and diag.max_z < Z_CERT
    # the same seed gives the same permutations and the same diagnostic
    again = kernel.sample(3, M, seed=0, method="mcmc", diagnostic=True)
    np.testing.assert_array_equal(again[0], perms)
    assert again[1] == diag


def test_fixed_sweeps_and_argument_checks():
    kernel = Block(2, 0.1)
    with pytest.warns(SamplingWarning, match="could not be certified with mcmc_sweeps=1 sweeps"):
        _, diag = kernel.sample(2, 4, seed=0, method="mcmc", mcmc_sweeps=1, diagnostic=True)
    assert not diag.certified and not diag.adaptive and diag.sweeps == 1 and diag.max_sweeps == 1
    with pytest.raises(ValueError, match=r"mcmc_sweeps \(None: adaptive\) must be an int >= 1, got 0"):
        kernel.sample(2, 4, mcmc_sweeps=0)
    with pytest.raises(TypeError, match="mcmc_sweeps"):
        kernel.sample(2, 4, mcmc_sweeps=2.5)
    with pytest.raises(ValueError, match="max_sweeps must be an int >= 2, got 1"):
        kernel.marginal(24, max_sweeps=1)
    with pytest.raises(TypeError, match="max_sweeps"):
        CyclicShift().sample(2, 4, max_sweeps=None)


@pytest.mark.slow
def test_separated_modes_are_not_certified():
    """Q charges the identity and one M-cycle (EPS elsewhere): the chains cannot cross, and say so."""
    M = 24
    rng = np.random.default_rng(0)
    order = rng.permutation(M)
    cycle = np.empty(M, dtype=np.int64)
    cycle[order] = order[np.roll(np.arange(M), -1)]  # a single M-cycle, not a shift
    Q = np.full((M, M), 1e-9)
    Q[np.arange(M), np.arange(M)] = 1.0
    Q[np.arange(M), cycle] = 1.0
    kernel = FromMatrix(Q)
    with pytest.warns(SamplingWarning, match="within max_sweeps=64 sweeps .*still disagree"):
        _, diag = kernel.sample(100, M, seed=0, diagnostic=True, max_sweeps=64)
    assert not diag.certified and diag.sweeps == 64 and diag.max_z > Z_CERT
    with pytest.warns(SamplingWarning):
        mg = kernel.marginal(M, seed=0, n_samples=1000, max_sweeps=64)
    assert not mg.certified and mg.sweeps == 64 and mg.rhat > 1.01


def test_marginal_in_chunks_merges_the_diagnostics(monkeypatch):
    """A Monte-Carlo marginal larger than one chunk: each chunk certified, the worst of each field kept."""
    monkeypatch.setattr(lk, "_MC_CHUNK", 4)  # chunks of MCMC_MIN_CHAINS chains
    kernel, M, n = Block(2, 0.1), 4, 2 * MCMC_MIN_CHAINS + 100
    with no_sampling_warning():
        mg = kernel.marginal(M, seed=0, n_samples=n, method="mcmc")
    d = mg.diagnostic
    assert mg.n_samples == n and mg.certified and d.n_chains == 3 * MCMC_MIN_CHAINS
    assert len(d.history) >= 9 and d.sweeps == max(t for t, _ in d.history)
    np.testing.assert_allclose(mg.P.sum(axis=1), 1.0, atol=1e-12)
    assert_entries_within_4se(mg.P, kernel.P(M), n, "chunked marginal")
