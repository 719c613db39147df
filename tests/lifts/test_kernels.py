"""Permutation kernels Q (lifts.kernels): every numerical routine against an oracle.

Oracles: enumeration of all M! permutations (laws, marginals, permanents,
Sinkhorn invariance), chi-square goodness of fit of sampled permutations, and
z-scores of empirical marginals.  The two shortcuts that docs/theory.md §4.10
calls "not exact" (per-entry Gumbel noise + Hungarian assignment, sequential
row sampling) are implemented here and must FAIL the same statistics that the
exact sampler passes, so a biased sampler labelled exact would be caught.
"""

import itertools

import numba
import numpy as np
import pytest
from scipy import stats
from scipy.optimize import linear_sum_assignment

from fgraph.jit import threads
from lifts import kernels as lk
from lifts.kernels import (
    EXACT_MAX_M,
    Band,
    Block,
    CyclicShift,
    Directional,
    FromMatrix,
    Identity,
    Kernel,
    Marginal,
    Ring,
    Uniform,
    from_spec,
    permanent,
    sinkhorn,
)

ALPHA = 1e-3  # chi-square: the exact sampler must pass at this level (fixed seeds)
Z_MAX = 5.0  # marginals: |empirical - exact| <= Z_MAX standard errors, entrywise


# ----------------------------------------------------------------- oracles
def all_perms(M):
    """int64 (M!, M), lexicographic."""
    return np.array(list(itertools.permutations(range(M))), dtype=np.int64)


def perm_law(Q):
    """All permutations and their permanental probabilities prod_m Q[m, pi(m)] / perm Q."""
    Q = np.asarray(Q, dtype=float)
    M = len(Q)
    perms = all_perms(M)
    w = np.prod(Q[np.arange(M), perms], axis=1)
    return perms, w / w.sum()


def brute_marginal(Q):
    """Pbar by enumeration."""
    perms, p = perm_law(Q)
    M = len(Q)
    P = np.zeros((M, M))
    for m in range(M):
        np.add.at(P[m], perms[:, m], p)
    return P


def perm_codes(perms, M):
    return perms @ (M ** np.arange(M))


def chi2_pvalue(samples, Q):
    """Chi-square goodness of fit of sampled permutations to the permanental law of Q."""
    M = len(Q)
    perms, p = perm_law(Q)
    keep = p > 0
    codes = perm_codes(perms, M)
    order = np.argsort(codes)
    pos = np.searchsorted(codes[order], perm_codes(samples, M))
    assert np.all(codes[order][pos] == perm_codes(samples, M))
    counts = np.bincount(order[pos], minlength=len(p))
    assert counts[~keep].sum() == 0, "sampled a permutation of weight 0"
    return stats.chisquare(counts[keep], len(samples) * p[keep]).pvalue


def empirical_marginal(samples):
    n, M = samples.shape
    counts = np.bincount((samples + M * np.arange(M)).ravel(), minlength=M * M)
    return (counts / n).reshape(M, M)


def max_z(samples, P):
    """Largest |empirical - P| / stderr over the entries (stderr from P, floored)."""
    n = len(samples)
    emp = empirical_marginal(samples)
    se = np.sqrt(np.maximum(P * (1 - P), 1e-4) / n)
    return float(np.max(np.abs(emp - P) / se))


def is_perm_rows(perms, M):
    return perms.dtype == np.int64 and perms.shape[1] == M and np.all(np.sort(perms, axis=1) == np.arange(M))


# ----------------------------------------------------------------- the two biased shortcuts
def gumbel_hungarian(Q, n, rng):
    """NOT exact: Gumbel noise per entry of log Q, then the max-weight assignment."""
    logQ = np.log(Q)
    out = np.empty((n, len(Q)), dtype=np.int64)
    for i in range(n):
        out[i] = linear_sum_assignment(-(logQ + rng.gumbel(size=Q.shape)))[1]
    return out


def sequential_rows(Q, n, rng):
    """NOT exact: row r takes an unused column with probability proportional to Q[r, c]."""
    M = len(Q)
    out = np.empty((n, M), dtype=np.int64)
    free = np.ones((n, M), dtype=bool)
    for r in range(M):
        c = np.cumsum(Q[r][None, :] * free, axis=1)
        u = rng.random(n) * c[:, -1]
        pick = (c <= u[:, None]).sum(axis=1)
        out[:, r] = pick
        free[np.arange(n), pick] = False
    return out


FAMILIES = [
    Ring(1.0),
    Ring(0.4),
    Block(2, 0.1),
    Block(4, 0.0),
    Band(1),
    Band(1, h=0.5),
    Directional(1.0, 0.5, 1),
    Directional(1.5, -0.8, 0),
    Identity(),
    Uniform(),
]


def kid(x):
    """Test ids: a kernel's identify(), else str."""
    return x.identify() if isinstance(x, Kernel) else str(x)


def random_Q(M, seed, sigma=1.0):
    return np.random.default_rng(seed).lognormal(sigma=sigma, size=(M, M))


# ----------------------------------------------------------------- Sinkhorn, permanent
@pytest.mark.parametrize("M", [1, 2, 3, 4, 5, 6])
def test_sinkhorn_leaves_the_law_unchanged(M):
    Q = random_Q(M, seed=M, sigma=2.0)
    B, r, c = sinkhorn(Q)
    np.testing.assert_allclose(B, r[:, None] * Q * c[None, :], rtol=1e-12)
    np.testing.assert_allclose(B.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(B.sum(axis=1), 1.0, atol=1e-11)
    _, p_Q = perm_law(Q)
    _, p_B = perm_law(B)
    np.testing.assert_allclose(p_B, p_Q, rtol=1e-10, atol=1e-300)
    # every weight is scaled by the same constant prod(r) prod(c)
    perms = all_perms(M)
    ratio = np.prod(B[np.arange(M), perms], axis=1) / np.prod(Q[np.arange(M), perms], axis=1)
    np.testing.assert_allclose(ratio, np.prod(r) * np.prod(c), rtol=1e-10)


def test_sinkhorn_with_zeros_keeps_the_law():
    Q = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [4.0, 0.0, 1.0]])
    B = sinkhorn(Q)[0]
    np.testing.assert_allclose(perm_law(B)[1], perm_law(Q)[1], rtol=1e-10)
    assert np.all(B[Q == 0] == 0)


def test_sinkhorn_does_not_give_the_marginal():
    Q = Ring(1.0).Q(6)
    assert np.abs(sinkhorn(Q)[0] - Ring(1.0).P(6)).max() > 0.05


@pytest.mark.parametrize("M", [1, 2, 3, 5, 7])
def test_permanent_against_enumeration(M):
    Q = random_Q(M, seed=10 + M)
    perms = all_perms(M)
    ref = np.prod(Q[np.arange(M), perms], axis=1).sum()
    assert permanent(Q) == pytest.approx(ref, rel=1e-12)
    assert permanent(Q, log=True) == pytest.approx(np.log(ref), rel=1e-12, abs=1e-12)


def test_permanent_known_values_and_signs():
    assert permanent(np.ones((5, 5))) == 120.0
    assert permanent([[1, 2], [3, 4]]) == 10.0
    assert permanent([[1, -1], [1, 1]]) == 0.0
    assert permanent(np.zeros((3, 3))) == 0.0
    assert permanent(np.zeros((3, 3)), log=True) == -np.inf
    big = np.full((10, 10), 1e40)  # 10! 1e400 overflows float64, its log does not
    assert permanent(big) == np.inf
    assert permanent(big, log=True) == pytest.approx(np.log(3628800.0) + 400 * np.log(10.0))


# ----------------------------------------------------------------- exact marginals (subset DP)
@pytest.mark.parametrize("M", range(1, 9))
def test_dp_marginal_matches_enumeration_random_Q(M):
    Q = random_Q(M, seed=100 + M, sigma=1.5)
    mg = FromMatrix(Q).marginal(M)
    assert mg.exact and mg.n_samples == 0 and np.all(mg.stderr == 0)
    np.testing.assert_allclose(mg.P, brute_marginal(Q), atol=1e-12)


@pytest.mark.parametrize("kernel", FAMILIES, ids=kid)
def test_dp_marginal_matches_enumeration_families(kernel):
    M = 8
    P = kernel.P(M, method="exact")
    np.testing.assert_allclose(P, brute_marginal(kernel.weights(M)), atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)


def test_dp_marginal_with_structural_zeros():
    Q = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1.0]])  # 2 permutations
    P = FromMatrix(Q).P(4)
    np.testing.assert_allclose(P, brute_marginal(Q), atol=1e-14)
    np.testing.assert_allclose(P, Q / 2, atol=1e-14)


def test_marginal_is_read_only_and_cached():
    k = Ring(1.0)
    P = k.P(6)
    assert not P.flags.writeable
    assert Ring(1.0).P(6) is P  # equal kernels share the cache while one is alive
    with pytest.raises(ValueError, match="read-only"):
        P[0, 0] = 1.0


# ----------------------------------------------------------------- closed forms and structure
@pytest.mark.parametrize("M", [1, 2, 5, 30])
def test_closed_forms(M):
    np.testing.assert_array_equal(Identity().P(M), np.eye(M))
    np.testing.assert_allclose(Uniform().P(M), np.full((M, M), 1 / M))
    np.testing.assert_allclose(CyclicShift().P(M), np.full((M, M), 1 / M))
    S = CyclicShift(2).P(M)
    np.testing.assert_array_equal(S, np.roll(np.eye(M), 2 % M, axis=1))
    for k in (Identity(), Uniform(), CyclicShift(), CyclicShift(2)):
        mg = k.marginal(M)
        assert mg.exact and np.all(mg.stderr == 0)


def test_generic_dp_agrees_with_the_closed_forms():
    np.testing.assert_allclose(Uniform().P(7, method="exact"), np.full((7, 7), 1 / 7), atol=1e-14)
    np.testing.assert_allclose(Identity().P(7, method="exact"), np.eye(7), atol=1e-14)


def test_cyclic_shift_per_edge_average():
    k = CyclicShift([0, 1, 1, 5])
    expected = (np.eye(4) + 2 * np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), 1, axis=1)) / 4
    np.testing.assert_allclose(k.P(4), expected)
    np.testing.assert_allclose(k.Q(4), k.P(4))


def test_ring_pbar_differs_from_Q_and_is_more_diagonal():
    M = 8
    P = Ring(1.0).P(M)
    B = sinkhorn(Ring(1.0).Q(M))[0]
    assert np.abs(P - B).max() > 0.05
    assert np.all(np.diag(P) > np.diag(B) + 0.05)


@pytest.mark.parametrize("kernel", [Ring(1.0), Ring(2.5), Band(1), Band(2, h=0.3)], ids=kid)
def test_pbar_symmetric_circulant_when_Q_is(kernel):
    M = 9
    P = kernel.P(M)
    np.testing.assert_allclose(P, P.T, atol=1e-13)
    for s in range(M):
        np.testing.assert_allclose(np.roll(np.roll(P, s, axis=0), s, axis=1), P, atol=1e-13)


def test_directional_pbar_circulant_not_symmetric():
    M = 8
    P = Directional(1.0, 0.6, 1).P(M)
    for s in range(M):
        np.testing.assert_allclose(np.roll(np.roll(P, s, axis=0), s, axis=1), P, atol=1e-13)
    assert np.abs(P - P.T).max() > 0.05
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)


def test_block_pbar_block_structure():
    P = Block(2, 0.0).P(6)
    np.testing.assert_allclose(P, np.kron(np.eye(2), np.full((3, 3), 1 / 3)), atol=1e-14)


def test_ring_limits():
    np.testing.assert_allclose(Ring(0.05).P(6), np.eye(6), atol=1e-6)
    np.testing.assert_allclose(Ring(np.inf).P(6), np.full((6, 6), 1 / 6), atol=1e-12)


# ----------------------------------------------------------------- the exact sampler
@pytest.mark.parametrize(
    "name, Q",
    [
        ("ring", Ring(1.0).Q(4)),
        ("random", random_Q(4, seed=5)),
        ("directional", Directional(1.0, 0.8, 0).Q(3)),
        ("zeros", np.array([[1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 3.0, 1.0], [4.0, 0.0, 1.0, 0.0], [1, 1, 1, 0]])),
    ],
)
def test_exact_sampler_chi_square(name, Q):
    samples = FromMatrix(Q).sample(20000, len(Q), seed=1)
    assert is_perm_rows(samples, len(Q))
    assert chi2_pvalue(samples, Q) > ALPHA


@pytest.mark.parametrize("kernel, M", [(Ring(1.0), 6), (Directional(1.0, 0.5, 2), 7), (Block(2, 0.2), 8),
                                       (FromMatrix(random_Q(8, seed=3)), 8)], ids=kid)
def test_exact_sampler_marginals(kernel, M):
    samples = kernel.sample(50000, M, seed=2)
    assert is_perm_rows(samples, M)
    assert max_z(samples, kernel.P(M)) < Z_MAX


def test_uniform_direct_sampler():
    samples = Uniform().sample(24000, 4, seed=3)
    assert chi2_pvalue(samples, np.ones((4, 4))) > ALPHA
    assert max_z(Uniform().sample(20000, 9, seed=4), np.full((9, 9), 1 / 9)) < Z_MAX


def test_cyclic_shift_samples():
    perms = CyclicShift().sample(30000, 5, seed=0)
    shifts = (perms - np.arange(5)) % 5
    assert np.all(shifts == shifts[:, :1])
    assert stats.chisquare(np.bincount(shifts[:, 0], minlength=5)).pvalue > ALPHA
    np.testing.assert_array_equal(CyclicShift(-1).sample(2, 3), [[2, 0, 1], [2, 0, 1]])
    np.testing.assert_array_equal(CyclicShift(np.array([1, 4])).sample(2, 3), [[1, 2, 0], [1, 2, 0]])


# ----------------------------------------------------------------- the statistics reject biased samplers
@pytest.mark.parametrize("biased", [gumbel_hungarian, sequential_rows])
@pytest.mark.parametrize("Q", [Ring(1.0).Q(4), random_Q(4, seed=5)], ids=["ring", "random"])
def test_chi_square_rejects_the_not_exact_shortcuts(biased, Q):
    n = 20000
    assert chi2_pvalue(FromMatrix(Q).sample(n, 4, seed=1), Q) > ALPHA
    assert chi2_pvalue(biased(Q, n, np.random.default_rng(1)), Q) < 1e-12


@pytest.mark.parametrize("biased", [gumbel_hungarian, sequential_rows])
def test_marginal_z_rejects_the_not_exact_shortcuts(biased):
    M, n = 6, 20000
    kernel = Ring(1.0)
    B = sinkhorn(kernel.Q(M))[0]  # the shortcuts get the balanced Q (same law)
    P = kernel.P(M)
    assert max_z(kernel.sample(n, M, seed=1), P) < Z_MAX
    assert max_z(biased(B, n, np.random.default_rng(1)), P) > 4 * Z_MAX


def test_gumbel_shortcut_undershoots_the_diagonal():
    M, n = 6, 20000
    B = sinkhorn(Ring(1.0).Q(M))[0]
    emp = empirical_marginal(gumbel_hungarian(B, n, np.random.default_rng(2)))
    assert np.mean(np.diag(emp)) < np.mean(np.diag(Ring(1.0).P(M))) - 0.02


# ----------------------------------------------------------------- MCMC
# (the certified chains against exact laws at larger M: tests/lifts/test_kernel_sampling.py; the
# tests with thousands of chains are marked slow: without JIT a proposal costs ~13 us)
MCMC_ERROR = 0.005  # margin by which unmixed chains must miss the check


@pytest.mark.slow
@pytest.mark.parametrize(
    "kernel, M",
    [
        (Ring(1.0), 12),
        (Block(3, 0.2), 12),
        (Band(1, h=0.5), 10),
        (Directional(1.0, 0.5, 2), 12),
        (FromMatrix(random_Q(10, seed=7, sigma=0.7)), 10),
        (Uniform(), 9),
    ],
    ids=kid,
)
def test_mcmc_marginal_matches_dp(kernel, M):
    mc = kernel.marginal(M, seed=1, n_samples=20000, method="mcmc")
    assert not mc.exact and mc.n_samples == 20000 and mc.certified and mc.ess == 20000
    exact = kernel.P(M, method="exact")
    se = np.sqrt(np.maximum(exact * (1 - exact), 1e-4) / 20000)
    assert np.all(np.abs(mc.P - exact) <= Z_MAX * se)
    np.testing.assert_allclose(mc.stderr, np.sqrt(mc.P * (1 - mc.P) / 20000))


@pytest.mark.slow
def test_mcmc_check_catches_unmixed_chains():
    """One sweep is not enough: the diagnostic refuses to certify, and the same check fails."""
    M, n = 12, 20000
    exact = Ring(1.0).P(M)
    with pytest.warns(lk.SamplingWarning, match="could not be certified with mcmc_sweeps=1"):
        mc = Ring(1.0).marginal(M, seed=1, n_samples=n, method="mcmc", mcmc_sweeps=1)
    assert not mc.certified and mc.sweeps == 1
    se = np.sqrt(np.maximum(exact * (1 - exact), 1e-4) / n)
    assert np.any(np.abs(mc.P - exact) > 4 * Z_MAX * se + MCMC_ERROR)


def test_mcmc_respects_zeros_and_is_a_permutation():
    Q = np.kron(np.eye(3), np.ones((4, 4)))  # Block(3, 0) at M = 12
    perms = FromMatrix(Q).sample(500, 12, seed=0, method="mcmc")
    assert is_perm_rows(perms, 12)
    assert np.all(perms // 4 == np.arange(12) // 4)
    one = FromMatrix(np.eye(5)).sample(3, 5, seed=0, method="mcmc")
    np.testing.assert_array_equal(one, np.tile(np.arange(5), (3, 1)))


@pytest.mark.slow
def test_beyond_exact_max_m_uses_mcmc():
    M = EXACT_MAX_M + 4
    perms = Ring(1.5).sample(200, M, seed=0)
    assert is_perm_rows(perms, M)
    mg = Ring(1.5).marginal(M, seed=0, n_samples=2000)
    assert not mg.exact and mg.stderr.max() > 0
    np.testing.assert_allclose(mg.P.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(np.diag(mg.P) > 0.3)
    with pytest.raises(ValueError, match="EXACT_MAX_M"):
        Ring(1.5).sample(2, M, method="exact")
    with pytest.raises(ValueError, match="EXACT_MAX_M"):
        Ring(1.5).marginal(M, method="exact")


# ----------------------------------------------------------------- sample: shapes, seeds, threads
ALL_KERNELS = [*FAMILIES, CyclicShift(), CyclicShift(3), FromMatrix(random_Q(8, seed=1))]


@pytest.mark.parametrize("kernel", ALL_KERNELS, ids=kid)
def test_sample_rows_are_permutations_and_seeded(kernel):
    M = 8
    a = kernel.sample(300, M, seed=11)
    assert a.shape == (300, M) and a.dtype == np.int64 and a.flags.c_contiguous
    assert is_perm_rows(a, M)
    np.testing.assert_array_equal(a, kernel.sample(300, M, seed=11))
    np.testing.assert_array_equal(a, kernel.sample(300, M, seed=np.random.default_rng(11)))
    if not isinstance(kernel, Identity) and kernel != CyclicShift(3):
        assert not np.array_equal(a, kernel.sample(300, M, seed=12))
    assert kernel.sample(0, M, seed=1).shape == (0, M)


@pytest.mark.parametrize("M", [1, 2, 3, 16, pytest.param(25, marks=pytest.mark.slow)])
def test_sample_small_and_large_M(M):
    for kernel in (Ring(1.0), Uniform(), Band(1), Directional(1.0, 0.3, 1)):
        assert is_perm_rows(kernel.sample(50, M, seed=0), M)
    assert Block(1, 0.5).sample(3, M, seed=0).shape == (3, M)


@pytest.mark.slow
def test_sample_independent_of_thread_count():
    n_threads = numba.config.NUMBA_NUM_THREADS  # all available (1 on a single-CPU machine)
    for kernel, method in ((Ring(1.0), "exact"), (Ring(1.0), "mcmc"), (Uniform(), "auto")):
        with threads(1):
            a = kernel.sample(2000, 9, seed=5, method=method)
        with threads(n_threads):
            b = kernel.sample(2000, 9, seed=5, method=method)
        np.testing.assert_array_equal(a, b)


def test_auto_is_exact_below_exact_max_m():
    a = Ring(1.0).sample(100, 7, seed=9)
    np.testing.assert_array_equal(a, Ring(1.0).sample(100, 7, seed=9, method="exact"))
    assert not np.array_equal(a, Ring(1.0).sample(100, 7, seed=9, method="mcmc"))


def test_block_band_directional_frommatrix_shapes():
    assert Block(4, 0.1).Q(8).shape == (8, 8)
    assert Block(4, 0.1).sample(5, 12, seed=0).shape == (5, 12)
    assert Band(2, h=0.5).Q(7)[0].tolist()[:4] == [1.0, 0.5, 0.5, lk.EPS]
    assert Directional(1.0, 0.0, 0).Q(5).shape == (5, 5)
    np.testing.assert_allclose(Directional(1.0, 0.0, 0).Q(6), Ring(1.0).Q(6))
    k = FromMatrix(np.ones((3, 3)))
    assert k.M == 3 and k.sample(4, 3, seed=0).shape == (4, 3)


# ----------------------------------------------------------------- user kernels (open extension)
def test_user_kernel_defines_Q_only():
    class Tridiagonal(Kernel):
        def Q(self, M):
            return np.eye(M) + 0.5 * (np.eye(M, k=1) + np.eye(M, k=-1)) + 1e-3

    k = Tridiagonal()
    assert k.identify() == "Tridiagonal()"
    assert is_perm_rows(k.sample(100, 6, seed=0), 6)
    np.testing.assert_allclose(k.P(6), brute_marginal(k.Q(6)), atol=1e-12)


@pytest.mark.slow
def test_user_kernel_beyond_exact_max_m():
    class Tridiagonal(Kernel):
        def Q(self, M):
            return np.eye(M) + 0.5 * (np.eye(M, k=1) + np.eye(M, k=-1)) + 1e-3

    perms, diag = Tridiagonal().sample(10, 24, seed=0, diagnostic=True)
    assert is_perm_rows(perms, 24) and diag.method == "mcmc" and diag.certified


def test_user_kernel_missing_Q_shows_the_stub():
    class Empty(Kernel):
        pass

    with pytest.raises(NotImplementedError, match=r"def Q\(self, M\)"):
        Empty().sample(1, 3)


def test_user_kernel_bad_Q():
    class Bad(Kernel):
        def Q(self, M):
            return -np.ones((M, M))

    with pytest.raises(ValueError, match=r"Bad.Q\(3\) must be nonnegative"):
        Bad().P(3)

    class WrongShape(Kernel):
        def Q(self, M):
            return np.ones((M, M + 1))

    with pytest.raises(ValueError, match="square"):
        WrongShape().sample(1, 3)


# ----------------------------------------------------------------- identify and from_spec
def test_identify():
    assert Ring(1.0).identify() == "Ring(width=1)"
    assert Ring(0.75).identify() == "Ring(width=0.75)"
    assert Block(4, 0.1).identify() == "Block(n_blocks=4, p_out=0.1)"
    assert Band(1).identify() == "Band(w=1)"
    assert Band(1, 0.5).identify() == "Band(w=1, h=0.5)"
    assert Directional(1.0, 0.5, 0).identify() == "Directional(width=1, kappa=0.5, shift=0)"
    assert Identity().identify() == "Identity()"
    assert Uniform().identify() == "Uniform()"
    assert CyclicShift().identify() == "CyclicShift(shifts=random)"
    assert CyclicShift(3).identify() == "CyclicShift(shifts=3)"
    assert CyclicShift([1, 2]).identify() == "CyclicShift(shifts=[1, 2])"
    assert CyclicShift(np.arange(20)).identify().startswith("CyclicShift(shifts=<n_edge=20, sha1=")
    assert FromMatrix(np.ones((2, 2))).identify().startswith("FromMatrix(M=2, sha1=")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("identity", Identity()),
        ("uniform", Uniform()),
        ("shift", CyclicShift()),
        ("shift:3", CyclicShift(3)),
        ("ring:1.0", Ring(1.0)),
        (" Ring:0.5 ", Ring(0.5)),
        ("block:4:0.1", Block(4, 0.1)),
        ("band:1", Band(1)),
        ("band:1:0.5", Band(1, 0.5)),
        ("directional:1.0:0.5:0", Directional(1.0, 0.5, 0)),
    ],
)
def test_from_spec(text, expected):
    k = from_spec(text)
    assert k == expected and type(k) is type(expected)
    assert k.identify() == expected.identify()


def test_from_spec_matrix_files(tmp_path):
    Q = random_Q(4, seed=0)
    np.save(tmp_path / "q.npy", Q)
    np.savetxt(tmp_path / "q.txt", Q)
    a = from_spec(f"matrix:{tmp_path / 'q.npy'}")
    b = from_spec(f"matrix:{tmp_path / 'q.txt'}")
    np.testing.assert_array_equal(a.Q(4), Q)
    np.testing.assert_allclose(b.Q(4), Q, rtol=1e-15)
    assert a.identify().startswith("FromMatrix('q.npy', M=4, sha1=")
    np.save(tmp_path / "bad.npy", -Q)
    with pytest.raises(ValueError, match="nonnegative"):
        from_spec(f"matrix:{tmp_path / 'bad.npy'}")
    with pytest.raises(OSError, match="missing.npy"):
        from_spec(f"matrix:{tmp_path / 'missing.npy'}")


@pytest.mark.parametrize(
    "text, why",
    [
        ("gauss:1", "unknown kernel name"),
        ("ring", "takes 1 argument"),
        ("ring:abc", "malformed number"),
        ("ring:1:2", "takes 1 argument"),
        ("block:4", "takes 2 argument"),
        ("block:2.5:0.1", "malformed number"),
        ("shift:x", "malformed number"),
        ("band:1:0.5:3", "takes"),
        ("directional:1:0.5", "takes 3"),
        ("ring:-1", "width must be > 0"),
        ("directional:1:2:0", "kappa must be <= 1"),
        ("matrix:", "needs a path"),
        ("", "unknown kernel name"),
    ],
)
def test_from_spec_errors_list_valid_forms(text, why):
    with pytest.raises(ValueError, match=why) as info:
        from_spec(text)
    assert "valid forms: identity, uniform, shift, shift:S, ring:WIDTH" in str(info.value)


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("kernel", [Ring(1.0), Uniform(), Identity(), CyclicShift()], ids=kid)
def test_bad_M_and_n_edge(kernel):
    with pytest.raises(ValueError, match="M .*>= 1, got 0"):
        kernel.sample(3, 0)
    with pytest.raises(TypeError, match="M .*got 2.5"):
        kernel.sample(3, 2.5)
    with pytest.raises(TypeError, match="M .*got True"):
        kernel.P(True)
    with pytest.raises(ValueError, match="M .*got -1"):
        kernel.marginal(-1)
    with pytest.raises(ValueError, match="n_edge must be an int >= 0, got -1"):
        kernel.sample(-1, 4)
    with pytest.raises(TypeError, match="n_edge"):
        kernel.sample(2.0, 4)
    with pytest.raises(ValueError, match="method"):
        kernel.sample(2, 4, method="gibbs")
    with pytest.raises(ValueError, match="mcmc_sweeps"):
        kernel.sample(2, 4, mcmc_sweeps=0)
    with pytest.raises(TypeError, match="seed"):
        kernel.sample(2, 4, seed="x")


@pytest.mark.parametrize(
    "Q, exc, match",
    [
        (np.ones((2, 3)), ValueError, "square"),
        (np.ones(3), ValueError, "square"),
        (np.array([[1.0, np.nan], [1.0, 1.0]]), ValueError, "finite"),
        (np.array([[1.0, np.inf], [1.0, 1.0]]), ValueError, "finite"),
        (np.array([[1.0, -1.0], [1.0, 1.0]]), ValueError, "nonnegative"),
        (np.array([[1.0, 1.0], [0.0, 0.0]]), ValueError, "all-zero row 1"),
        (np.array([[1.0, 0.0], [1.0, 0.0]]), ValueError, "all-zero column 1"),
        (np.array([[1.0, 1, 1], [1, 0, 0], [1, 0, 0]]), ValueError, "permanent 0"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "numeric"),
    ],
)
def test_from_matrix_validation(Q, exc, match):
    with pytest.raises(exc, match=match):
        FromMatrix(Q)


def test_from_matrix_fixed_M():
    k = FromMatrix(np.ones((3, 3)))
    with pytest.raises(ValueError, match="3 x 3 matrix; it cannot be used with M=4"):
        k.sample(2, 4)
    with pytest.raises(ValueError, match="M=5"):
        k.P(5)


def test_constructor_errors():
    with pytest.raises(ValueError, match="n_blocks=3.*M=8"):
        Block(3, 0.1).sample(1, 8)
    with pytest.raises(ValueError, match="n_blocks must be an int >= 1"):
        Block(0, 0.1)
    with pytest.raises(ValueError, match="p_out must be >= 0"):
        Block(2, -0.1)
    with pytest.raises(ValueError, match="width must be > 0"):
        Ring(0.0)
    with pytest.raises(ValueError, match="width must be finite"):
        Ring(np.nan)
    with pytest.raises(TypeError, match="width must be a real number"):
        Ring("1")
    with pytest.raises(ValueError, match="w must be an int >= 0"):
        Band(-1)
    with pytest.raises(TypeError, match="w must be an int"):
        Band(1.5)
    with pytest.raises(ValueError, match="h must be >= 0"):
        Band(1, -0.5)
    with pytest.raises(ValueError, match="kappa must be >= -1"):
        Directional(1.0, -1.5, 0)
    with pytest.raises(TypeError, match="shift must be an int"):
        Directional(1.0, 0.0, 0.5)
    with pytest.raises(TypeError, match="shifts must be None, an int or a 1-D int array"):
        CyclicShift([0.5, 1.0])
    with pytest.raises(ValueError, match="2 shifts but n_edge=3"):
        CyclicShift([0, 1]).sample(3, 4)


def test_sinkhorn_and_permanent_errors():
    with pytest.raises(ValueError, match="all-zero row"):
        sinkhorn(np.array([[0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="tol must be > 0"):
        sinkhorn(np.ones((2, 2)), tol=0.0)
    with pytest.raises(ValueError, match="max_iter must be an int >= 1"):
        sinkhorn(np.ones((2, 2)), max_iter=0)
    with pytest.raises(ValueError, match="square"):
        permanent(np.ones((2, 3)))
    with pytest.raises(ValueError, match=f"M must be <= {lk.PERMANENT_MAX_M}"):
        permanent(np.ones((lk.PERMANENT_MAX_M + 1,) * 2))
    with pytest.raises(ValueError, match="finite"):
        permanent([[np.nan]])


def test_kernels_are_values():
    assert Ring(1.0) == Ring(1) and hash(Ring(1.0)) == hash(Ring(1))
    assert Ring(1.0) != Band(1)
    assert FromMatrix(np.ones((2, 2))) == FromMatrix(np.ones((2, 2)))
    assert hash(FromMatrix(np.ones((2, 2)))) == hash(FromMatrix(np.ones((2, 2))))
    assert CyclicShift([1, 2]) == CyclicShift(np.array([1, 2]))
    assert CyclicShift([1, 2]) != CyclicShift(3)
    with pytest.raises(AttributeError, match="cannot assign"):
        Ring(1.0).width = 2.0
    mg = Uniform().marginal(3)
    assert isinstance(mg, Marginal) and mg.M == 3
