"""Denoisers: the contract against quadrature, finite differences and closed forms (docs/theory.md §6.2)."""

import math

import numpy as np
import pytest
import scipy.special as sp
from scipy.stats import norm

from algorithms.denoisers import (
    BinaryPrior,
    Channel,
    DiscretePrior,
    GaussBernoulli,
    GaussianChannel,
    GaussianPrior,
    NoisySignChannel,
    Prior,
    SignChannel,
    check_denoiser,
    from_name,
    gauss_hermite,
)
from algorithms.denoisers import kernels as dk

PRIORS = [
    GaussianPrior(),
    GaussianPrior(0.3, 0.7),
    BinaryPrior(),
    BinaryPrior(0.8),
    DiscretePrior([-1, 0, 1], [0.25, 0.5, 0.25]),
    DiscretePrior([-2.0, -0.5, 0.3, 1.5]),
    GaussBernoulli(0.1),
    GaussBernoulli(0.4, 2.0, 1.0),
]
CHANNELS = [GaussianChannel(0.01), GaussianChannel(1.0), SignChannel(), NoisySignChannel(0.1)]


# ----------------------------------------------------------------- oracles: quad + finite differences
@pytest.mark.parametrize("den", PRIORS + CHANNELS, ids=lambda d: d.identify())
def test_check_denoiser_quadrature_and_finite_differences(den):
    err = check_denoiser(den, n_points=5, seed=1)
    assert err["quad"] < 1e-8, err
    assert err["fd"] < 1e-7, err
    assert err["n_points"] == 5


def test_check_denoiser_rejects_other_objects():
    with pytest.raises(TypeError, match="Prior or a Channel"):
        check_denoiser(object())


# ----------------------------------------------------------------- closed forms
def test_rademacher_closed_form():
    r = np.linspace(-3, 3, 13)
    S = np.array([0.1, 0.5, 2.0])[:, None]
    f, v, logz = BinaryPrior().f_in(r, S)
    np.testing.assert_allclose(f, np.tanh(r / S), rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(v, 1 / np.cosh(r / S) ** 2, rtol=1e-13, atol=1e-300)
    ref = np.log(0.5 * norm.pdf(r, 1, np.sqrt(S)) + 0.5 * norm.pdf(r, -1, np.sqrt(S)))
    np.testing.assert_allclose(logz, ref, rtol=1e-13)


def test_biased_binary_closed_form():
    r, S, p = np.linspace(-2, 2, 9), 0.7, 0.8
    f, v, _ = BinaryPrior(p).f_in(r, S)
    a = r / S + np.arctanh(2 * p - 1)
    np.testing.assert_allclose(f, np.tanh(a), rtol=1e-14)
    np.testing.assert_allclose(v, 1 / np.cosh(a) ** 2, rtol=1e-13)


@pytest.mark.parametrize("p", [0.5, 0.8])
def test_binary_prior_keeps_its_digits_from_tiny_to_huge_fields(p):
    # both branches of the kernel (|a| < 1/2: expm1; otherwise exp) against closed
    # forms that need no cancellation: tanh a, 1 / cosh^2 a and a log-sum-exp
    a = np.concatenate([[0.0], np.geomspace(1e-12, 700.0, 200)])
    a = np.concatenate([-a[::-1], a, [0.4999999, 0.5, 0.5000001]])
    S = 0.3
    h = 0.5 * (np.log(p) - np.log(1.0 - p))
    r = (a - h) * S
    f, v, logz = BinaryPrior(p).f_in(r, S)
    a_seen = r / S + h  # the field the kernel forms from the rounded r, bit for bit
    np.testing.assert_allclose(f, np.tanh(a_seen), rtol=1e-14, atol=1e-300)
    with np.errstate(under="ignore"):
        sech2 = (1 / np.cosh(a_seen)) ** 2
    np.testing.assert_allclose(v, sech2, rtol=1e-13, atol=1e-300)
    sd = np.sqrt(S)
    ref = np.logaddexp(np.log(p) + norm.logpdf(r, 1, sd), np.log1p(-p) + norm.logpdf(r, -1, sd))
    np.testing.assert_allclose(logz, ref, rtol=1e-13, atol=1e-13)


def test_gaussian_prior_closed_form():
    rho, r, S = 2.5, np.linspace(-3, 3, 7), 0.4
    f, v, logz = GaussianPrior(rho).f_in(r, S)
    np.testing.assert_allclose(f, rho * r / (rho + S), rtol=1e-15)
    np.testing.assert_allclose(v, rho * S / (rho + S), rtol=1e-15)
    np.testing.assert_allclose(logz, norm.logpdf(r, 0, np.sqrt(rho + S)), rtol=1e-14)


def test_gaussian_channel_closed_form():
    y, w, V, d = np.array([0.3, -1.2]), np.array([0.1, 0.5]), np.array([0.2, 1.3]), 0.05
    g, dg, logz = GaussianChannel(d).g_out(y, w, V)
    np.testing.assert_allclose(g, (y - w) / (d + V), rtol=1e-15)
    np.testing.assert_allclose(dg, -1 / (d + V), rtol=1e-15)
    np.testing.assert_allclose(logz, norm.logpdf(y, w, np.sqrt(d + V)), rtol=1e-14)


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_sign_channel_closed_form(noise):
    ch = SignChannel() if noise == 0 else NoisySignChannel(noise)
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    w = np.array([0.5, 0.5, -2.0, 3.0, 0.0])
    V = np.array([1.0, 0.3, 2.0, 0.5, 0.7])
    g, dg, logz = ch.g_out(y, w, V)
    sv = np.sqrt(V + noise)
    u = y * w / sv
    g_ref = y * norm.pdf(u) / (sv * norm.cdf(u))
    np.testing.assert_allclose(g, g_ref, rtol=1e-13)
    np.testing.assert_allclose(dg, -g_ref * (g_ref + w / (V + noise)), rtol=1e-12)
    np.testing.assert_allclose(logz, norm.logcdf(u), rtol=1e-14)


def test_log_ndtr_matches_scipy():
    x = np.concatenate([np.linspace(-1e3, 40, 4001), np.linspace(-25, 8, 3301), [-20.0, -19.999, 0.0]])
    ours = np.array([dk.log_ndtr(t) for t in x])
    ref = sp.log_ndtr(x)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-300)


def test_mills_ratio_matches_scipy_across_the_series_branch():
    # R(u) = phi(u) / Phi(u) on both sides of the switch to the asymptotic series at u = -20
    u = np.concatenate([np.linspace(-30, -10, 401), [-20.0, np.nextafter(-20.0, 0), np.nextafter(-20.0, -1)]])
    ref = np.exp(norm.logpdf(u) - sp.log_ndtr(u))
    ours = np.array([dk.mills_ratio(t) for t in u])
    np.testing.assert_allclose(ours[:, 0], ref, rtol=1e-12)
    np.testing.assert_allclose(ours[:, 1], ref + u, rtol=1e-9)
    r, ru = dk.mills_ratio(-1e3)  # R + u = -1/u + 2/u^3 - ..., without cancellation
    assert r == pytest.approx(1e3 + 1e-3 - 2e-9, rel=1e-14)
    assert ru == pytest.approx(1e-3 - 2e-9, rel=1e-9)


# ----------------------------------------------------------------- extreme inputs
@pytest.mark.parametrize("prior", PRIORS, ids=lambda d: d.identify())
def test_prior_extremes_stay_finite(prior):
    r = np.array([-1e3, -1.0, 0.0, 0.5, 1e3])
    for S in (1e-12, 1e-6, 1.0, 1e6):
        f, v, logz = prior.f_in(r, S)
        assert np.all(np.isfinite(f)) and np.all(np.isfinite(v)) and np.all(np.isfinite(logz))
        assert np.all(v >= 0)


def test_tiny_sigma_picks_the_nearest_level():
    f, v, _ = DiscretePrior([-1, 0, 1]).f_in(np.array([-0.7, 0.2, 0.9, 1e3]), 1e-12)
    np.testing.assert_array_equal(f, [-1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(v, 0.0)


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda d: d.identify())
def test_channel_extremes_stay_finite(channel):
    for y in (-1.0, 1.0):
        for V in (1e-12, 1.0, 1e6):
            w = np.array([-40.0, -1.0, 0.0, 1.0, 40.0]) * math.sqrt(V)  # omega / sqrt(V) up to +-40
            g, dg, logz = channel.g_out(y, w, V)
            assert np.all(np.isfinite(g)) and np.all(np.isfinite(dg)) and np.all(np.isfinite(logz))
            assert np.all(dg <= 0)


def test_sign_channel_deep_tail():
    # u = y omega / sqrt V = -40 and -1e3: g ~ -u/sqrt(V), dg = -R (R + u) / V
    for u in (-40.0, -1e3):
        g, dg, logz = SignChannel().g_out(1.0, u, 1.0)
        r, ru = dk.mills_ratio(u)
        assert g == pytest.approx(r) and dg == pytest.approx(-r * ru)
        assert logz == pytest.approx(sp.log_ndtr(u), rel=1e-12)
        assert -1.0 < dg < 0.0


# ----------------------------------------------------------------- kernels and arrays
def test_array_helpers_match_scalar_kernels():
    rng = np.random.default_rng(3)
    r, S = rng.standard_normal(7), rng.uniform(0.1, 2, 7)
    for prior in PRIORS:
        code, params = prior.kernel_spec()
        f, v = np.empty(7), np.empty(7)
        total = dk.prior_fin_array(code, params, r, S, f, v)
        ref = np.array([dk.prior_fin(code, params, a, b) for a, b in zip(r, S)])
        np.testing.assert_array_equal(f, ref[:, 0])
        np.testing.assert_array_equal(v, ref[:, 1])
        assert total == pytest.approx(ref[:, 2].sum())
        dk.prior_fin_array(code, params, r, S[:1], f, v)  # length-1 Sigma broadcasts
        np.testing.assert_allclose(f, prior.f_in(r, S[0])[0], rtol=1e-15)
    y = np.sign(rng.standard_normal(7))
    for channel in CHANNELS:
        code, params = channel.kernel_spec()
        g, dg = np.empty(7), np.empty(7)
        total = channel_total = dk.channel_gout_array(code, params, y, r, S, g, dg)
        ref = channel.g_out(y, r, S)
        np.testing.assert_array_equal(g, ref[0])
        np.testing.assert_array_equal(dg, ref[1])
        assert total == pytest.approx(ref[2].sum()) and channel_total == total


def test_f_in_broadcasts_and_returns_floats_for_scalars():
    f, v, logz = GaussianPrior().f_in(np.zeros((2, 3)), np.ones(3))
    assert f.shape == v.shape == logz.shape == (2, 3) and f.dtype == np.float64
    f, v, logz = BinaryPrior().f_in(0.3, 1.0)
    assert isinstance(f, float) and isinstance(logz, float)
    with pytest.raises(ValueError, match="Sigma must be > 0"):
        BinaryPrior().f_in(0.0, 0.0)
    with pytest.raises(ValueError, match="V must be > 0"):
        SignChannel().g_out(1.0, 0.0, -1.0)


# ----------------------------------------------------------------- moments, sampling, quadratures
@pytest.mark.parametrize("prior", PRIORS, ids=lambda d: d.identify())
def test_quadrature_sample_and_moments(prior):
    x, w = prior.quadrature(60)
    assert x.dtype == w.dtype == np.float64 and x.shape == w.shape
    assert w.sum() == pytest.approx(1.0, abs=1e-13)
    assert w @ x == pytest.approx(prior.mean, abs=1e-13)
    assert w @ x**2 == pytest.approx(prior.second_moment, abs=1e-12)
    assert prior.second_moment == pytest.approx(prior.var + prior.mean**2, abs=1e-14)
    s = prior.sample(40000, seed=5)
    assert s.shape == (40000,) and s.dtype == np.float64
    np.testing.assert_array_equal(s, prior.sample(40000, seed=5))
    assert abs(s.mean() - prior.mean) < 5 * math.sqrt(prior.var / 40000) + 1e-12
    fourth = w @ (x - prior.mean) ** 4
    assert abs(s.var() - prior.var) < 5 * math.sqrt(fourth / 40000)


def test_channel_samples_and_y_quadrature():
    z = np.linspace(-2, 2, 5)
    np.testing.assert_array_equal(SignChannel().sample(z), [-1, -1, 1, 1, 1])
    y = GaussianChannel(0.25).sample(np.zeros(20000), seed=2)
    assert y.var() == pytest.approx(0.25, rel=0.05)
    w, V = np.array([-0.5, 0.0, 1.2]), 0.4
    ys, ws = SignChannel().y_quadrature(w, V)
    np.testing.assert_array_equal(ys, np.tile([-1.0, 1.0], (3, 1)))
    np.testing.assert_allclose(ws[:, 1], norm.cdf(w / math.sqrt(V)), rtol=1e-14)
    ys, ws = NoisySignChannel(0.6).y_quadrature(w, V)
    np.testing.assert_allclose(ws[:, 1], norm.cdf(w), rtol=1e-14)
    ys, ws = GaussianChannel(0.6).y_quadrature(w, V, 40)
    np.testing.assert_allclose(ws.sum(1), 1.0, rtol=1e-14)
    np.testing.assert_allclose((ws * ys).sum(1), w, atol=1e-13)
    np.testing.assert_allclose((ws * (ys - w[:, None]) ** 2).sum(1), V + 0.6, rtol=1e-13)
    # Z_out is the law of y: sum_y Z_out(y) = 1 for the sign channel
    lz = SignChannel().g_out(ys[:, :2] * 0 + np.array([-1.0, 1.0]), w[:, None], V)[2]
    np.testing.assert_allclose(np.exp(lz).sum(1), 1.0, rtol=1e-14)


def test_gauss_hermite_is_probabilists():
    t, w = gauss_hermite(30)
    assert w.sum() == pytest.approx(1.0) and w @ t**2 == pytest.approx(1.0)
    assert w @ t**6 == pytest.approx(15.0)
    with pytest.raises(ValueError, match="n_nodes"):
        gauss_hermite(0)


# ----------------------------------------------------------------- validation and parsing
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: GaussianPrior(-1.0), "var must be > 0, got -1.0"),
        (lambda: GaussianPrior(float("nan")), "must be finite"),
        (lambda: BinaryPrior(1.5), "p_plus must be in"),
        (lambda: DiscretePrior([1, 0]), "sorted and unique"),
        (lambda: DiscretePrior([0, 0]), "sorted and unique"),
        (lambda: DiscretePrior([0, np.inf]), "finite"),
        (lambda: DiscretePrior([0, 1], [1, -1]), ">= 0"),
        (lambda: DiscretePrior([0, 1], [1, 1, 1]), "2 levels but 3 weights"),
        (lambda: GaussBernoulli(1.2), "rho must be in"),
        (lambda: GaussBernoulli(0.5, -2.0), "var must be > 0, got -2.0"),
        (lambda: GaussianChannel(-0.1), "noise must be >= 0, got -0.1"),
        (lambda: NoisySignChannel(-3), "noise must be >= 0, got -3"),
    ],
)
def test_bad_parameters_name_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_weights_are_normalised():
    p = DiscretePrior([-1, 1], [1, 3])
    np.testing.assert_allclose(p.weights, [0.25, 0.75])
    assert p.identify() == "levels:-1,1@0.25,0.75"


@pytest.mark.parametrize("den", PRIORS + CHANNELS, ids=lambda d: d.identify())
def test_identify_round_trips(den):
    kind = "prior" if isinstance(den, Prior) else "channel"
    back = from_name(den.identify(), kind=kind)
    assert type(back) is type(den) and back.identify() == den.identify()
    assert type(from_name(den.identify())) is type(den)  # unambiguous without kind too
    assert back.kernel_spec()[0] == den.kernel_spec()[0]
    np.testing.assert_allclose(back.kernel_spec()[1], den.kernel_spec()[1])


def test_from_name_forms():
    assert isinstance(from_name("gaussian"), GaussianPrior)
    assert isinstance(from_name("gaussian:0.01"), GaussianChannel)
    assert from_name("gaussian:0.01").noise == 0.01
    assert isinstance(from_name("binary"), BinaryPrior)
    assert from_name("levels:-1,0,1").weights.tolist() == pytest.approx([1 / 3] * 3)
    assert from_name("levels:-1,0,1@0.25,0.5,0.25").weights.tolist() == [0.25, 0.5, 0.25]
    assert from_name("gauss-bernoulli:0.1").rho == 0.1
    assert from_name("gauss_bernoulli:0.1,2").var == pytest.approx(0.1 * 2)
    assert isinstance(from_name("sign"), SignChannel)
    assert from_name("noisy_sign:0.1").noise == 0.1
    assert from_name(" Noisy-Sign:0.1 ").noise == 0.1
    for bad in ("laplace", "sign:1", "noisy_sign", "levels:a,b", "gaussian:1,2,3"):
        with pytest.raises(ValueError, match="valid priors: .* valid channels"):
            from_name(bad)
    with pytest.raises(ValueError, match="unknown prior"):
        from_name("sign", kind="prior")
    with pytest.raises(ValueError, match="kind"):
        from_name("sign", kind="both")


# ----------------------------------------------------------------- open extension
def test_user_prior_without_kernel():
    class Missing(Prior):
        pass

    with pytest.raises(NotImplementedError, match=r"define kernel_spec\(\)"):
        Missing().f_in(0.0, 1.0)

    class MissingChannel(Channel):
        pass

    with pytest.raises(NotImplementedError, match=r"override g_out"):
        MissingChannel().g_out(0.0, 0.0, 1.0)
