"""Oracles for the replica-symmetric theory of quantized-weight regression (algorithms.theory.replica)."""

import math

import numpy as np
import pytest
from scipy import integrate

from algorithms.theory.replica import (
    RSResult,
    at_eigenvalue,
    response_S,
    rounding_error,
    rs_closure,
    solve_rs,
)

MIDRISE2 = np.linspace(-1.5, 1.5, 4)
LLOYD_MAX4 = np.array([-1.510, -0.4528, 0.4528, 1.510])
LLOYD_MAX8 = np.array([-2.152, -1.344, -0.7560, -0.2451, 0.2451, 0.7560, 1.344, 2.152])


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def quantization_mse(levels):
    """E[(w - Round(w))^2] for w ~ N(0, 1), by quad on each cell (split at the midpoints)."""
    c = np.asarray(levels, dtype=float)
    edges = np.concatenate(([-np.inf], 0.5 * (c[1:] + c[:-1]), [np.inf]))
    return sum(
        integrate.quad(lambda w, ck=ck: (w - ck) ** 2 * _phi(w), a, b, epsabs=1e-14)[0]
        for ck, a, b in zip(c, edges[:-1], edges[1:])
    )


def closure_by_quad(alpha, levels, delta, beta, m, q, Q, ridge=0.0):
    """The RS map (Gaussian teacher, rho0 = 1) evaluated independently with scipy quad.

    Integrates over w0 ~ N(0, 1) and z ~ N(0, 1) through r = w0 + tau z: E[f(w0, r)] =
    int dr N(r; 0, 1 + tau^2) E[f | r], with w0 | r Gaussian; the posterior moments of the level are
    computed by a plain softmax at each quad point.
    """
    c = np.asarray(levels, dtype=float)
    D = 1.0 + delta - 2.0 * m + q
    ct = Q - q
    A = alpha * beta / (1.0 + beta * ct)
    Ap = A + beta * ridge
    tau2 = D / alpha
    s2 = 1.0 + tau2

    def post(r):
        lg = A * r * c - 0.5 * Ap * c * c
        p = np.exp(lg - lg.max())
        p /= p.sum()
        mu = p @ c
        return mu, p @ (c - mu) ** 2

    def dens(r):
        return math.exp(-0.5 * r * r / s2) / math.sqrt(2.0 * math.pi * s2)

    L = 12.0 * math.sqrt(s2)
    t = Ap / A * 0.5 * (c[1:] + c[:-1])
    w = 1.0 / (A * np.diff(c))
    extra = np.concatenate([t + k * w for k in (-20, -5, -1, 0, 1, 5, 20)])
    pts = np.unique(np.concatenate(([-L, L], extra[np.abs(extra) < L])))
    fs = (
        lambda r: dens(r) * (r / s2) * post(r)[0],  # E[w0 | r] = r / (1 + tau^2)
        lambda r: dens(r) * post(r)[0] ** 2,
        lambda r: dens(r) * post(r)[1],
    )
    out = [
        sum(
            integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
            for a, b in zip(pts[:-1], pts[1:])
        )
        for f in fs
    ]
    return out[0], out[1], out[1] + out[2]


# --------------------------------------------------------------------------------------------
# zero temperature
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [2.0, 3.0])
@pytest.mark.parametrize("delta", [0.1, 0.5])
def test_many_bits_give_the_continuous_ridgeless_answer(alpha, delta):
    res = solve_rs(alpha, np.linspace(-8.0, 8.0, 2**12), delta)
    D = delta * alpha / (alpha - 1.0)
    assert res.converged
    assert abs(res.D - D) < 1e-3
    assert abs(res.gen_error - D) < 1e-3 and res.gen_error == res.gen_error_mean
    assert abs(res.S - 1.0) < 1e-6
    assert abs(res.chi - 1.0 / (alpha - 1.0)) < 1e-5
    assert abs(res.train_error - delta * (alpha - 1.0) / alpha) < 1e-3  # least-squares residual
    assert res.lambda_at == math.inf and not res.stable
    cont = solve_rs(alpha, None, delta)
    assert cont.D == pytest.approx(D, rel=1e-12) and cont.lambda_at == pytest.approx(1.0 / alpha)


@pytest.mark.parametrize(
    "levels", [MIDRISE2, LLOYD_MAX4, LLOYD_MAX8, np.linspace(-2.5, 2.5, 16), [-1.0, 1.0]]
)
def test_large_alpha_noiseless_gives_the_quantization_mse(levels):
    mse = quantization_mse(levels)
    res = solve_rs(1e6, levels, 0.0)
    assert abs(res.gen_error - mse) < 1e-5
    assert rounding_error(levels) == pytest.approx(mse, abs=1e-12)


def test_max_quantizer_table_and_non_uniform_beats_uniform():
    # Max (1960): the 4- and 8-level N(0,1) quantizers have MSE 0.1175 and 0.03454
    assert rounding_error(LLOYD_MAX4) == pytest.approx(0.1175, abs=2e-4)
    assert rounding_error(LLOYD_MAX8) == pytest.approx(0.03454, abs=2e-4)
    best_uniform4 = min(rounding_error(np.linspace(-w, w, 4)) for w in np.linspace(1.0, 2.0, 101))
    assert rounding_error(LLOYD_MAX4) < best_uniform4


def test_stein_identity_and_response_at_zero_temperature():
    # Gaussian teacher: m = E[w0 Round(r)] = E[Round'(r)] = S, so chi = m / (alpha - m)
    for alpha in (0.5, 2.0, 5.0):
        res = solve_rs(alpha, MIDRISE2, 0.1)
        assert res.m == pytest.approx(res.S, abs=1e-12)
        assert res.S == pytest.approx(response_S(MIDRISE2, res.D, alpha), abs=1e-14)
        if res.S < alpha:
            assert res.chi == pytest.approx(res.S / (alpha - res.S), rel=1e-12)
            assert res.train_error == pytest.approx(res.D / (1.0 + res.chi) ** 2, rel=1e-12)
        else:
            assert res.chi == math.inf and res.train_error == 0.0
        # the returned D is a root of D = delta + E[(w0 - Round(w0 + sqrt(D/alpha) z))^2]
        assert abs(res.D - 0.1 - rounding_error(MIDRISE2, res.D / alpha)) < 1e-12


def test_interpolation_peak_moves_below_alpha_one():
    # S < 1 for a coarse grid: chi = inf (S >= alpha) only below some alpha < 1, and D stays finite
    # at alpha = 1 where the continuous D = delta alpha / (alpha - 1) diverges
    for levels, below, above in (([-1.0, 1.0], 0.3, 0.4), (MIDRISE2, 0.6, 0.7)):
        low, high = solve_rs(below, levels, 0.1), solve_rs(above, levels, 0.1)
        assert low.S >= below and low.chi == math.inf and low.train_error == 0.0
        assert high.S < above and math.isfinite(high.chi) and high.train_error > 0.0
        one = solve_rs(1.0, levels, 0.1)
        assert one.S < 1.0 and math.isfinite(one.chi) and math.isfinite(one.D)


def test_ridge_on_a_fine_grid_matches_the_continuous_closed_form():
    fine = np.linspace(-8.0, 8.0, 2**12)
    for alpha, ridge in ((2.0, 0.3), (0.5, 1.0), (2.0, 1.0)):
        grid = solve_rs(alpha, fine, 0.1, ridge=ridge)
        cont = solve_rs(alpha, None, 0.1, ridge=ridge)
        assert grid.converged
        assert abs(grid.D - cont.D) < 1e-4 and abs(grid.chi - cont.chi) < 1e-4


def test_grid_teacher_noiseless_large_alpha_is_exact():
    res = solve_rs(50.0, MIDRISE2, 0.0, teacher="grid")
    assert res.rho0 == pytest.approx(np.mean(MIDRISE2**2))
    assert res.D < 1e-12 and res.m == pytest.approx(res.rho0)


# --------------------------------------------------------------------------------------------
# finite temperature
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "levels", "delta", "beta", "ridge"),
    [
        (2.0, MIDRISE2, 0.1, 10.0, 0.0),
        (0.7, LLOYD_MAX4, 0.3, 3.0, 0.2),
        (3.0, np.linspace(-2.0, 2.0, 8), 0.05, 200.0, 0.0),
        (1.5, [-1.0, 1.0], 0.0, 30.0, 0.0),
    ],
)
def test_finite_beta_fixed_point_matches_quad_closure(alpha, levels, delta, beta, ridge):
    res = solve_rs(alpha, levels, delta, beta, ridge)
    assert res.converged
    ref = closure_by_quad(alpha, levels, delta, beta, res.m, res.q, res.Q, ridge)
    assert np.max(np.abs(np.subtract(ref, (res.m, res.q, res.Q)))) < 1e-8
    own = rs_closure(alpha, levels, delta, beta, res.m, res.q, res.Q, ridge)
    assert np.max(np.abs(np.subtract(own, (res.m, res.q, res.Q)))) < 1e-10
    assert res.gen_error == pytest.approx(res.D + res.chi_tilde, rel=1e-14)
    assert res.gen_error_mean == pytest.approx(1.0 + delta - 2 * res.m + res.q, rel=1e-14)
    assert res.chi == pytest.approx(beta * res.chi_tilde)


def test_beta_continuation_approaches_zero_temperature():
    t0 = solve_rs(2.0, MIDRISE2, 0.1)
    gaps = []
    for beta in (1e2, 1e3, 1e4):
        res = solve_rs(2.0, MIDRISE2, 0.1, beta)
        assert res.converged
        gaps.append(abs(res.D - t0.D))
        assert res.lambda_at > 1.0  # RS unstable at low temperature
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3
    assert abs(res.chi - t0.chi) < 1e-4 and abs(res.train_error - t0.train_error) < 1e-4


def test_continuous_weights_have_lambda_at_one_over_alpha():
    for beta in (0.5, 1.0, 3.0):
        cont = solve_rs(2.0, None, 0.2, beta)
        assert cont.lambda_at == pytest.approx(0.5)
        assert cont.D == pytest.approx(0.4) and cont.chi_tilde == pytest.approx(1.0 / beta)
        grid = solve_rs(2.0, np.linspace(-16.0, 16.0, 65), 0.2, beta)  # fine, wide, A gap^2 small
        assert abs(grid.lambda_at - 0.5) < 1e-2
        assert abs(grid.D - 0.4) < 1e-6 and abs(grid.chi_tilde - 1.0 / beta) < 1e-6
    # with ridge: lambda_AT = s^2 / alpha, s = alpha / (alpha + ridge (1 + chi))
    cont = solve_rs(2.0, None, 0.2, 1.0, ridge=0.3)
    s = 2.0 / (2.0 + 0.3 * (1.0 + cont.chi))
    assert cont.lambda_at == pytest.approx(s * s / 2.0)
    grid = solve_rs(2.0, np.linspace(-16.0, 16.0, 65), 0.2, 1.0, ridge=0.3)
    assert abs(grid.lambda_at - cont.lambda_at) < 1e-6


def test_at_eigenvalue_grows_with_level_spacing():
    for beta in (2.0, 10.0):
        by_width = [
            solve_rs(2.0, np.linspace(-w, w, 4), 0.1, beta).lambda_at for w in (0.5, 1.0, 1.5, 2.0, 3.0)
        ]
        assert np.all(np.diff(by_width) > 0)
        by_bits = [solve_rs(2.0, np.linspace(-1.5, 1.5, 2**b), 0.1, beta).lambda_at for b in (1, 2, 3, 4)]
        assert np.all(np.diff(by_bits) < 0)
    assert solve_rs(2.0, np.linspace(-3.0, 3.0, 4), 0.1, 10.0).stable is False
    assert solve_rs(2.0, np.linspace(-1.0, 1.0, 4), 0.1, 10.0).stable is True


def test_lloyd_max_levels_lower_lambda_at_than_uniform_at_beta_two():
    # verified at beta = 2 (not a general law: at larger beta the order can flip by < 1%)
    for lm in (LLOYD_MAX4, LLOYD_MAX8):
        uni = np.linspace(lm[0], lm[-1], lm.size)
        a, b = solve_rs(2.0, lm, 0.1, 2.0), solve_rs(2.0, uni, 0.1, 2.0)
        assert a.lambda_at < b.lambda_at and a.D < b.D


def test_at_eigenvalue_helper_matches_the_solver():
    res = solve_rs(2.0, MIDRISE2, 0.1, 10.0)
    assert at_eigenvalue(2.0, MIDRISE2, res.D, res.chi_tilde, 10.0) == pytest.approx(res.lambda_at, rel=1e-12)


def test_warm_start_and_result_fields():
    res = solve_rs(2.0, MIDRISE2, 0.1, 10.0)
    assert isinstance(res, RSResult) and "continuation" in res.root
    again = solve_rs(2.0, MIDRISE2, 0.1, 10.0, init=res)
    assert again.n_iter <= 3 and again.D == pytest.approx(res.D, abs=1e-10)
    with pytest.raises(AttributeError):
        res.m = 0.0  # frozen
    assert not res.levels.flags.writeable


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"delta": -0.1}, "delta"),
        ({"beta": 0.0}, "beta"),
        ({"beta": -2.0}, "beta"),
        ({"ridge": -1e-3}, "ridge"),
        ({"levels": [1.0, -1.0]}, "levels"),
        ({"levels": [0.0, 0.0, 1.0]}, "levels"),
        ({"levels": [1.0]}, "levels"),
        ({"levels": [0.0, np.inf]}, "levels"),
        ({"levels": [np.nan, 1.0]}, "levels"),
        ({"teacher": "laplace"}, "teacher"),
        ({"damping": 1.0}, "damping"),
    ],
)
def test_bad_input_is_rejected(kwargs, match):
    args = {"alpha": 2.0, "levels": MIDRISE2, "delta": 0.1, "beta": 5.0, "ridge": 0.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        solve_rs(**args)


def test_grid_teacher_finite_beta_near_perfect_recovery_converges():
    # D -> 0 (tau -> 0): the per-atom rule keeps the closure smooth, so the iteration converges
    for alpha, levels, beta in (
        (5.0, [-1.5, 1.5], 1.0),
        (1.1, MIDRISE2, 10.0),
        (5.0, np.linspace(-3, 3, 8), 10.0),
    ):
        res = solve_rs(alpha, levels, 0.0, beta, teacher="grid")
        assert res.converged and res.D < 1e-3
        new = rs_closure(alpha, levels, 0.0, beta, res.m, res.q, res.Q, teacher="grid")
        assert np.max(np.abs(np.subtract(new, (res.m, res.q, res.Q)))) < 1e-10


def test_zero_temperature_ridge_tends_to_ridgeless():
    res0 = solve_rs(2.0, MIDRISE2, 0.1)
    res = solve_rs(2.0, MIDRISE2, 0.1, ridge=1e-9)
    assert res.converged and abs(res.D - res0.D) < 1e-6 and abs(res.chi - res0.chi) < 1e-6
