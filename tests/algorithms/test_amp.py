"""GAMP (algorithms.amp): fused kernel against BLAS, ridge posterior, perceptron, M-covers, errors.

Oracles: the BLAS reference operator (``fused=False``) iteration by iteration;
the exact posterior mean of Bayesian linear regression for the Gaussian prior and
channel; the perfect-recovery and hard phases of the teacher-student perceptron
(alpha_alg = 1.493, docs/theory.md §6.8); for lifts, M independent base runs
(identity permutations) and the base run (identical copies, any permutations).
"""

import numba
import numpy as np
import pytest

from algorithms.amp import AMPConfig, AMPResult, run_amp
from algorithms.denoisers import BinaryPrior, GaussianChannel, GaussianPrior, SignChannel
from lifts import Uniform

TWO_THREADS = min(2, numba.config.NUMBA_NUM_THREADS)


def perceptron_data(N, alpha, seed, channel="sign", noise=0.0):
    """F i.i.d. N(0, 1/N) (P = round(alpha N)), Rademacher teacher, labels sign(F x* [+ noise])."""
    rng = np.random.default_rng(seed)
    P = int(round(alpha * N))
    x = rng.choice([-1.0, 1.0], N)
    F = rng.standard_normal((P, N)) / np.sqrt(N)
    z = F @ x + np.sqrt(noise) * rng.standard_normal(P)
    y = z if channel == "gaussian" else np.where(z >= 0, 1.0, -1.0)
    return F, y, x


def record(**kw):
    """run_amp with a callback that keeps a copy of (xhat, v) after every iteration."""
    states = []

    def cb(p):
        states.append((p.estimate.copy(), p.variances.copy()))

    res = run_amp(callback=cb, **kw)
    return res, states


def assert_same_states(s1, s2, atol, n=None):
    n = min(len(s1), len(s2)) if n is None else n
    assert len(s1) >= n and len(s2) >= n
    for t in range(n):
        np.testing.assert_allclose(s1[t][0], s2[t][0], rtol=0, atol=atol, err_msg=f"xhat, iteration {t + 1}")
        np.testing.assert_allclose(s1[t][1], s2[t][1], rtol=0, atol=atol, err_msg=f"v, iteration {t + 1}")


# ----------------------------------------------------------------------------- config
def test_config_identify_and_defaults():
    c = AMPConfig()
    got = (c.damping, c.max_iter, c.tol, c.dtype, c.fused, c.variance)
    assert got == (0.0, 200, 1e-8, "float64", True, "full")
    assert c.identify() == "AMP[damping=0,max_iter=200,tol=1e-08,dtype=float64,variance=full]"
    c2 = AMPConfig(damping=0.5, dtype="float32", fused=False, n_threads=2, variance="scalar")
    assert c2.identify() == (
        "AMP[damping=0.5,max_iter=200,tol=1e-08,dtype=float32,variance=scalar,fused=False,n_threads=2]"
    )
    assert c2 == AMPConfig(damping=0.5, dtype="float32", fused=False, n_threads=2, variance="scalar")
    assert hash(c) == hash(AMPConfig())


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"damping": -0.1}, "damping"),
        ({"damping": 1.0}, "damping"),
        ({"damping": "0.5"}, "damping"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"tol": 0.0}, "tol"),
        ({"tol": float("inf")}, "tol"),
        ({"dtype": "float16"}, "float16"),
        ({"dtype": np.float64}, "dtype"),
        ({"n_threads": 0}, "n_threads"),
        ({"variance": "diagonal"}, "diagonal"),
    ],
)
def test_config_rejects_bad_values(kw, match):
    with pytest.raises(ValueError, match=match):
        AMPConfig(**kw)


def test_config_fused_must_be_bool():
    with pytest.raises(TypeError, match="fused"):
        AMPConfig(fused="yes")


# ----------------------------------------------------------------------------- fused == BLAS
CASES = {
    "binary/sign": ("binary", "sign", "sign", 0.0),
    "gauss-bernoulli/gaussian": ("gauss-bernoulli:0.3", "gaussian:0.1", "gaussian", 0.1),
    "gaussian/noisy-sign": ("gaussian:1", "noisy_sign:0.05", "sign", 0.05),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("variance", ["full", "scalar"])
@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_fused_matches_blas_every_iteration(case, variance, damping):
    prior, channel, kind, noise = CASES[case]
    # P = 78: nine blocks of 8 rows and 6 rows one at a time; alpha = 1.3 keeps the run moving
    F, y, _ = perceptron_data(60, 1.3, seed=1, channel=kind, noise=noise)
    kw = dict(problem=(F, y), prior=prior, channel=channel, variance=variance, damping=damping,
              max_iter=12, tol=1e-300)
    r1, s1 = record(**kw)
    r2, s2 = record(fused=False, **kw)
    assert r1.n_iter == r2.n_iter
    assert_same_states(s1, s2, atol=1e-10)


@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (7, 5), (9, 1)])
def test_fused_matches_blas_on_tiny_shapes(shape):
    P, N = shape
    rng = np.random.default_rng(P * 10 + N)
    F = rng.standard_normal((P, N)) / np.sqrt(N)
    y = np.where(rng.standard_normal(P) >= 0, 1.0, -1.0)
    kw = dict(problem=(F, y), prior="binary", channel="noisy_sign:0.1", max_iter=5, tol=1e-300,
              n_threads=TWO_THREADS)
    _, s1 = record(**kw)
    _, s2 = record(fused=False, **kw)
    assert_same_states(s1, s2, atol=1e-12)


@pytest.mark.parametrize("fused", [True, False])
def test_thread_count_does_not_change_the_run(fused):
    F, y, _ = perceptron_data(40, 1.5, seed=2)
    kw = dict(problem=(F, y), prior="binary", channel="sign", fused=fused, max_iter=10, tol=1e-300)
    _, s1 = record(n_threads=1, **kw)
    _, s2 = record(n_threads=TWO_THREADS, **kw)
    assert_same_states(s1, s2, atol=1e-10)


def test_float32_close_to_float64():
    F, y, x = perceptron_data(80, 2.5, seed=3)
    r64 = run_amp((F, y), "binary", "sign", truth=x)
    r32 = run_amp((F, y), "binary", "sign", truth=x, dtype="float32")
    assert r64.converged and r32.converged
    n = min(r64.n_iter, r32.n_iter)
    np.testing.assert_allclose(r32.history["overlap"][:n], r64.history["overlap"][:n], atol=1e-4)
    np.testing.assert_allclose(r32.estimate, r64.estimate, atol=1e-4)
    assert r32.estimate.dtype == np.float64  # results are float64 whatever the working precision
    # Gaussian problem: a continuous estimate
    F, y, _ = perceptron_data(60, 2.0, seed=4, channel="gaussian", noise=0.05)
    e64 = run_amp((F, y), "gaussian:1", "gaussian:0.05", tol=1e-10).estimate
    e32 = run_amp((F, y), "gaussian:1", "gaussian:0.05", tol=1e-6, dtype="float32").estimate
    np.testing.assert_allclose(e32, e64, atol=1e-4)


# ----------------------------------------------------------------------------- kernels
def test_kernels_take_named_tuples_and_compute_the_gamp_step():
    """One dense_sweep + prior_step (and one lifted_sweep) against the GAMP formulas, Gaussian channel/prior.

    P = 11 rows in two chunks: a block of 8 rows and 3 rows one at a time (chunk 0 has 5 rows,
    chunk 1 has 6).  g_out = (y - omega) / (Delta + V), dg_out = -1 / (Delta + V); the Gaussian
    prior N(0, rho) gives f_in = r rho / (rho + Sigma), v_in = rho Sigma / (rho + Sigma).
    """
    from algorithms.amp import kernels

    rng = np.random.default_rng(40)
    P, N, C, delta, rho = 11, 5, 2, 0.1, 1.5
    F = rng.standard_normal((P, N))
    y = rng.standard_normal(P)
    x0, v0, g0 = rng.standard_normal(N), rng.uniform(0.5, 1.0, N), rng.standard_normal(P)
    ch_code, ch_params = GaussianChannel(delta).kernel_spec()
    pr_code, pr_params = GaussianPrior(rho).kernel_spec()
    V = F**2 @ v0
    omega = F @ x0 - V * g0
    g, dg = (y - omega) / (delta + V), -1.0 / (delta + V)
    Sigma = 1.0 / ((F**2).T @ (-dg))
    r = x0 + Sigma * (F.T @ g)

    data = kernels.DenseData(F, y, int(ch_code), ch_params, True)
    st = kernels.DenseState(x0.copy(), v0.copy(), g0.copy(), np.zeros(P), np.zeros(P), np.zeros(P),
                            np.zeros((C, N)), np.zeros((C, N)), np.ones(C))
    kernels.dense_sweep(data, st, 0.0)
    for got, want in ((st.V, V), (st.omega, omega), (st.g, g), (st.dg, dg), (st.A.sum(0), F.T @ g)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(st.bsum, 0.0)
    prior = kernels.PriorUpdate(int(pr_code), pr_params, 0.0, 1e-10, False)
    kernels.prior_step(prior, st.A, st.B, st.xhat, st.v, 0.0)
    np.testing.assert_allclose(st.xhat, r * rho / (rho + Sigma), rtol=1e-12)
    np.testing.assert_allclose(st.v, rho * Sigma / (rho + Sigma), rtol=1e-12)

    # scalar variance: V_mu = Vs for every row, bsum holds the chunks' sums of -dg
    Vs = 0.7
    st = st._replace(xhat=x0.copy(), g=g0.copy())
    kernels.dense_sweep(data._replace(full=False), st, Vs)
    omega_s = F @ x0 - Vs * g0
    np.testing.assert_allclose(st.omega, omega_s, rtol=1e-12)
    np.testing.assert_allclose(st.A.sum(0), F.T @ ((y - omega_s) / (delta + Vs)), rtol=1e-12)
    np.testing.assert_allclose(st.bsum.sum(), P / (delta + Vs), rtol=1e-12)

    # lifted, identity permutations: copy m is the dense sweep from column m of the state
    M = 3
    xs, vs, gs = rng.standard_normal((N, M)), rng.uniform(0.5, 1.0, (N, M)), rng.standard_normal((P, M))
    ident = np.broadcast_to(np.arange(M, dtype=np.uint8), (P, N, M)).copy()
    lst = kernels.LiftedState(xs, vs, gs.copy(), np.zeros((P, M)), np.zeros((P, M)), np.zeros((P, M)),
                              np.zeros((C, N, M)), np.zeros((C, N, M)), np.zeros((C, 2, M)))
    kernels.lifted_sweep(kernels.LiftedData(F, ident, y, int(ch_code), ch_params, True, 0.0), lst)
    for m in range(M):
        Vm = F**2 @ vs[:, m]
        om = F @ xs[:, m] - Vm * gs[:, m]
        gm = (y - om) / (delta + Vm)
        np.testing.assert_allclose(lst.omega[:, m], om, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lst.A.sum(0)[:, m], F.T @ gm, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lst.B.sum(0)[:, m], (F**2).T @ (1.0 / (delta + Vm)), rtol=1e-12)


# ----------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("prior_mean", [0.0, 0.5])
def test_gaussian_model_reaches_the_exact_posterior_mean(fused, prior_mean):
    """Gaussian prior and channel: GAMP's fixed point is the ridge / MMSE estimator."""
    N, alpha, delta, rho = 80, 2.0, 0.05, 1.5
    rng = np.random.default_rng(5)
    P = int(alpha * N)
    F = rng.standard_normal((P, N)) / np.sqrt(N)
    x = prior_mean + np.sqrt(rho) * rng.standard_normal(N)
    y = F @ x + np.sqrt(delta) * rng.standard_normal(P)
    r = run_amp((F, y), GaussianPrior(rho, prior_mean), GaussianChannel(delta), truth=x, fused=fused,
                tol=1e-13, max_iter=2000)
    assert r.converged
    exact = np.linalg.solve(F.T @ F / delta + np.eye(N) / rho, F.T @ y / delta + prior_mean / rho)
    np.testing.assert_allclose(r.estimate, exact, rtol=0, atol=1e-9)
    assert r.mse == pytest.approx(np.mean((exact - x) ** 2), abs=1e-12)


def test_perceptron_small():
    """Perfect recovery above alpha_alg = 1.493 (alpha = 1: the SE test of test_amp_agreement)."""
    F, y, x = perceptron_data(150, 2.5, seed=6)
    r = run_amp((F, y), BinaryPrior(), SignChannel(), truth=x)
    assert r.converged
    assert r.overlap > 0.999


@pytest.mark.slow
@pytest.mark.parametrize("alpha, lo, hi", [(2.5, 0.999, 1.0 + 1e-12), (1.0, 0.49, 0.63)])
def test_perceptron_N1000(alpha, lo, hi):
    """N = 1000: perfect recovery above alpha_alg = 1.493, partial recovery at alpha = 1.

    At alpha = 1 state evolution's fixed point is q = 0.5607 and one N = 1000 instance
    scatters around it with standard deviation 0.018 (10 seeds): the window is 4 of them.
    The fused kernel and the BLAS reference run the same iteration.
    """
    F, y, x = perceptron_data(1000, alpha, seed=7)
    runs = [run_amp((F, y), "binary", "sign", truth=x, fused=fused) for fused in (True, False)]
    for r in runs:
        assert r.converged
        assert lo < r.overlap < hi
        assert r.history["overlap"].shape == (r.n_iter,)
    assert runs[0].n_iter == runs[1].n_iter
    assert abs(runs[0].overlap - runs[1].overlap) < 1e-9


def test_problem_input_uses_the_teacher():
    from fgraph.problems.perceptron import perceptron

    prob = perceptron(40, 2.5, seed=8)
    r = run_amp(prob, "binary", "sign")
    teacher = np.asarray(prob.meta["teacher"])
    assert r.overlap == pytest.approx(float(r.estimate @ teacher) / 40)
    assert r.overlap > 0.99


# ----------------------------------------------------------------------------- lifted
def random_perms(P, N, M, seed):
    return np.argsort(np.random.default_rng(seed).random((P, N, M)), axis=2)


@pytest.mark.parametrize("fused", [True, False])
def test_lifted_identity_gives_independent_runs(fused):
    F, y, x = perceptron_data(40, 1.3, seed=9)
    P, N = F.shape
    M = 3
    ident = np.broadcast_to(np.arange(M), (P, N, M))
    x0 = 0.2 * np.random.default_rng(10).standard_normal((N, M))
    kw = dict(prior="binary", channel="sign", truth=x, fused=fused, max_iter=12, tol=1e-300)
    rl, sl = record(problem=(F, y), lift=ident, init=x0, **kw)
    assert rl.M == M and rl.estimate.shape == (N, M)
    for m in range(M):
        rb, sb = record(problem=(F, y), init=x0[:, m], **kw)
        assert_same_states([(s[0][:, m], s[1][:, m]) for s in sl], sb, atol=1e-10, n=rb.n_iter)
        n = rb.n_iter
        np.testing.assert_allclose(rl.history["overlap_copies"][:n, m], rb.history["overlap"], atol=1e-10)
    np.testing.assert_allclose(rl.history["overlap"], rl.history["overlap_copies"].mean(axis=1))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("variance", ["full", "scalar"])
def test_lifted_common_start_reproduces_the_base_run(fused, variance):
    F, y, x = perceptron_data(40, 1.6, seed=11)
    P, N = F.shape
    x0 = 0.1 * np.random.default_rng(12).standard_normal(N)
    kw = dict(prior="binary", channel="sign", truth=x, fused=fused, variance=variance, max_iter=15,
              tol=1e-300)
    rb, sb = record(problem=(F, y), init=x0, **kw)
    for lift in (random_perms(P, N, 4, 13), random_perms(P, N, 5, 14).reshape(P * N, 5)):
        rl, sl = record(problem=(F, y), init=x0, lift=lift, **kw)
        assert rl.n_iter == rb.n_iter
        for (xl, vl), (xb, vb) in zip(sl, sb):
            np.testing.assert_allclose(xl, np.repeat(xb[:, None], xl.shape[1], axis=1), rtol=0, atol=1e-12)
            np.testing.assert_allclose(vl, np.repeat(vb[:, None], vl.shape[1], axis=1), rtol=0, atol=1e-12)
        np.testing.assert_allclose(rl.history["overlap"], rb.history["overlap"], atol=1e-12)


def test_lifted_one_copy_and_float32():
    F, y, x = perceptron_data(30, 2.5, seed=32)
    P, N = F.shape
    base = run_amp((F, y), "binary", "sign", truth=x)
    one = run_amp((F, y), "binary", "sign", truth=x, lift=np.zeros((P, N, 1), dtype=np.int64))
    assert one.M == 1 and one.n_iter == base.n_iter
    np.testing.assert_allclose(one.estimate[:, 0], base.estimate, atol=1e-12)
    lift = Uniform().sample(P * N, 3, 33)  # an instance on which lifted AMP converges (in 7 iterations)
    r64 = run_amp((F, y), "binary", "sign", truth=x, lift=lift, init="random", seed=34)
    r32 = run_amp((F, y), "binary", "sign", truth=x, lift=lift, init="random", seed=34, dtype="float32")
    n = min(r64.n_iter, r32.n_iter)
    h32, h64 = r32.history["overlap_copies"], r64.history["overlap_copies"]
    np.testing.assert_allclose(h32[:n], h64[:n], atol=1e-4)


@pytest.mark.parametrize("n_threads", [1, TWO_THREADS])
def test_lifted_fused_matches_inverse_permutation_reference(n_threads):
    F, y, x = perceptron_data(30, 1.5, seed=15)
    P, N = F.shape
    M = 4
    kw = dict(problem=(F, y), prior="binary", channel="sign", truth=x, lift=random_perms(P, N, M, 16),
              init="random", seed=17, max_iter=10, tol=1e-300, n_threads=n_threads)
    r1, s1 = record(**kw)
    r2, s2 = record(fused=False, **kw)
    assert_same_states(s1, s2, atol=1e-10)
    assert not np.allclose(r1.estimate[:, 0], r1.estimate[:, 1])  # the copies differ: a real test


def test_lift_forms_agree():
    F, y, _ = perceptron_data(20, 1.5, seed=18)
    P, N = F.shape
    M = 3
    perms = random_perms(P, N, M, 19).reshape(P * N, M)
    kw = dict(problem=(F, y), prior="binary", channel="sign", init="random", seed=20, max_iter=6, tol=1e-300)
    ref = run_amp(lift=perms.reshape(P, N, M), **kw).estimate
    for lift in (perms, perms.astype(np.int32), perms.astype(np.uint8)):
        np.testing.assert_array_equal(run_amp(lift=lift, **kw).estimate, ref)

    class Obj:
        pass

    obj = Obj()
    obj.M, obj.perms = M, perms.reshape(P, N, M)
    np.testing.assert_array_equal(run_amp(lift=obj, **kw).estimate, ref)


# ----------------------------------------------------------------------------- results, callbacks, init
def test_result_fields_and_read_only():
    F, y, x = perceptron_data(30, 2.0, seed=24)
    r = run_amp((F, y), "binary", "sign", truth=x)
    assert isinstance(r, AMPResult) and r.M is None and r.prior == "binary" and r.channel == "sign"
    assert set(r.history) == {"residual", "q", "overlap", "mse"}
    for a in (r.estimate, r.variances, *r.history.values()):
        assert not a.flags.writeable
        assert a.dtype == np.float64
    with pytest.raises(TypeError):
        r.history["residual"] = None
    assert r.residuals is r.history["residual"]
    assert "converged=True" in r.summary()
    no_truth = run_amp((F, y), "binary", "sign")
    assert no_truth.overlap is None and no_truth.mse is None and set(no_truth.history) == {"residual", "q"}


def test_callback_stops_the_run():
    F, y, _ = perceptron_data(30, 1.2, seed=25)
    seen = []

    def cb(p):
        seen.append((p.iteration, p.residual, p.M))
        assert not p.estimate.flags.writeable
        return p.iteration == 3

    r = run_amp((F, y), "binary", "sign", callback=cb, tol=1e-300)
    assert r.n_iter == 3 and r.stopped_early and not r.converged
    assert [s[0] for s in seen] == [1, 2, 3] and seen[0][2] is None
    np.testing.assert_array_equal(r.residuals, [s[1] for s in seen])


def test_init_forms():
    F, y, _ = perceptron_data(30, 1.2, seed=26)
    N = F.shape[1]
    kw = dict(problem=(F, y), prior="binary", channel="sign", max_iter=3, tol=1e-300)
    a = run_amp(init="random", seed=1, **kw).estimate
    np.testing.assert_array_equal(a, run_amp(init="random", seed=1, **kw).estimate)
    assert not np.array_equal(a, run_amp(init="random", seed=2, **kw).estimate)
    x0 = np.linspace(-0.1, 0.1, N)
    b = run_amp(init=x0, **kw).estimate
    np.testing.assert_array_equal(b, run_amp(init=(x0, np.ones(N)), **kw).estimate)
    np.testing.assert_array_equal(run_amp(init=None, **kw).estimate, run_amp(init="prior", **kw).estimate)
    # damping: the first step mixes the new estimate with the start
    und = run_amp(init=x0, **dict(kw, max_iter=1)).estimate
    d = run_amp(init=x0, damping=0.25, **dict(kw, max_iter=1)).estimate
    np.testing.assert_allclose(d, 0.75 * und + 0.25 * x0, atol=1e-14)


# ----------------------------------------------------------------------------- errors
def test_bad_data():
    F, y, x = perceptron_data(10, 2.0, seed=27)
    Fn = F.copy()
    Fn[3, 4] = np.nan
    yn = y.copy()
    yn[0] = np.inf
    with pytest.raises(ValueError, match="F holds NaN"):
        run_amp((Fn, y), "binary", "sign")
    with pytest.raises(ValueError, match="y holds NaN"):
        run_amp((F, yn), "binary", "sign")
    with pytest.raises(ValueError, match=r"y must have shape \(P,\) = \(20,\)"):
        run_amp((F, y[:-1]), "binary", "sign")
    with pytest.raises(ValueError, match="2-D"):
        run_amp((F[0], y), "binary", "sign")
    with pytest.raises(TypeError, match="F must be numeric"):
        run_amp((F.astype(object), y), "binary", "sign")
    with pytest.raises(ValueError, match="pair"):
        run_amp((F, y, x), "binary", "sign")
    with pytest.raises(TypeError, match="Problem"):
        run_amp(F, "binary", "sign")
    with pytest.raises(ValueError, match=r"truth must have shape \(N,\) = \(10,\)"):
        run_amp((F, y), "binary", "sign", truth=x[:5])
    with pytest.raises(ValueError, match="unknown prior"):
        run_amp((F, y), "ternary", "sign")
    with pytest.raises(TypeError, match="kernel_spec"):
        run_amp((F, y), object(), "sign")
    with pytest.raises(TypeError, match="unknown AMP option"):
        run_amp((F, y), "binary", "sign", dampening=0.5)
    with pytest.raises(ValueError, match="float16"):
        run_amp((F, y), "binary", "sign", dtype="float16")
    with pytest.raises(ValueError, match="damping"):
        run_amp((F, y), "binary", "sign", damping=1.0)
    with pytest.raises(TypeError, match="callback"):
        run_amp((F, y), "binary", "sign", callback=3)


def test_bad_init():
    F, y, _ = perceptron_data(10, 2.0, seed=28)
    with pytest.raises(ValueError, match=r"init xhat must have shape \(10,\)"):
        run_amp((F, y), "binary", "sign", init=np.zeros(9))
    with pytest.raises(ValueError, match="init xhat holds NaN"):
        run_amp((F, y), "binary", "sign", init=np.full(10, np.nan))
    with pytest.raises(ValueError, match="init v must be >= 0"):
        run_amp((F, y), "binary", "sign", init=(np.zeros(10), -np.ones(10)))
    with pytest.raises(ValueError, match="init must be"):
        run_amp((F, y), "binary", "sign", init="zeros")
    with pytest.raises(ValueError, match=r"init xhat must have shape \(10,\) or \(10, 2\)"):
        run_amp((F, y), "binary", "sign", init=np.zeros((10, 3)), lift=random_perms(20, 10, 2, 0))


def test_bad_lift():
    F, y, _ = perceptron_data(10, 2.0, seed=29)
    P, N = F.shape
    with pytest.raises(ValueError, match="M must be an int >= 1, got 0"):
        run_amp((F, y), "binary", "sign", lift=np.zeros((P * N, 0), dtype=np.int64))
    perms = random_perms(P, N, 3, 30)
    perms[4, 7] = [0, 0, 2]
    with pytest.raises(ValueError, match=r"perms\[4, 7\] = \[0, 0, 2\] is not a permutation of 0..2"):
        run_amp((F, y), "binary", "sign", lift=perms)
    perms[4, 7] = [0, 1, 3]
    with pytest.raises(ValueError, match="not a permutation"):
        run_amp((F, y), "binary", "sign", lift=perms)
    with pytest.raises(ValueError, match=r"shape \(P, N, M\) = \(20, 10, 3\)"):
        run_amp((F, y), "binary", "sign", lift=random_perms(P, N + 1, 3, 31))
    with pytest.raises(TypeError, match="integers"):
        run_amp((F, y), "binary", "sign", lift=random_perms(P, N, 3, 31).astype(float))
    with pytest.raises(TypeError, match="lift must be .* lifts.glm_perms"):
        run_amp((F, y), "binary", "sign", lift="ring:1.0")
    with pytest.raises(TypeError, match="lift must be"):
        run_amp((F, y), "binary", "sign", lift=(3, "ring:1.0", 0))
