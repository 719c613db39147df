"""AMP against its state evolution at N = 2000 and 4000, and relaxed BP against AMP (docs/theory.md §6).

Oracles: Bayes-optimal state evolution (algorithms.run_se, itself checked against the
closed forms and thresholds of docs/theory.md §6) predicts AMP's overlap with the teacher at
every iteration as N -> infinity; relaxed BP on the explicit factor graph and AMP share
their fixed point up to O(1/sqrt(N)).
"""

import numpy as np
import pytest

from algorithms import BinaryPrior, GaussianPrior, NoisySignChannel, SignChannel, run_amp, run_bp, run_se
from fgraph.problems import perceptron

N = 2000
SEEDS = (0, 1, 2)
ITERS = 10


@pytest.mark.slow
@pytest.mark.parametrize("prior_name, alpha", [("binary", 1.2), ("binary", 2.0), ("gaussian", 0.5),
                                               ("gaussian", 2.0)])
def test_amp_follows_state_evolution_at_every_iteration(prior_name, alpha):
    prior = BinaryPrior() if prior_name == "binary" else GaussianPrior()
    overlaps = []
    for seed in SEEDS:
        p = perceptron(N, alpha, prior=prior_name, channel="sign", seed=seed, graph=False)
        r = run_amp(p, prior, SignChannel(), max_iter=ITERS, tol=1e-300)
        h = np.asarray(r.history["overlap"])
        overlaps.append(np.concatenate([h, np.full(ITERS - h.size, h[-1])]))  # converged: stays
    amp = np.mean(overlaps, axis=0)
    se = run_se(prior, SignChannel(), alpha, init=0.0, max_iter=ITERS, tol=1e-300).q[1 : ITERS + 1]
    se = np.concatenate([se, np.full(ITERS - se.size, se[-1])])
    assert np.max(np.abs(amp - se)) < 0.02, (amp, se)
    if prior_name == "binary" and alpha == 2.0:
        assert amp[-1] > 0.999  # above alpha_alg = 1.493: perfect recovery
    if prior_name == "binary" and alpha == 1.2:
        assert amp[-1] < 0.9  # below it: the stuck fixed point


@pytest.mark.slow
def test_amp_at_alpha_1_reaches_the_state_evolution_fixed_point():
    """Binary perceptron at alpha = 1 (below alpha_IT ~ 1.245: one fixed point, q* = 0.5607).

    AMP from the prior mean (xhat = 0, v = 1; SE from q_0 = 0) is run to convergence
    (tol 1e-8, about 40 iterations) on three instances with N = P = 4000; the mean of their
    overlaps xhat . x* / N must follow SE's q_t within 0.03 at every iteration t = 1, 2, ...
    (history[t - 1] against q[t]) and at the fixed point.  Measured over 10 seeds: one
    instance's overlap at the fixed point has a standard deviation of 0.005 at N = 4000 (0.011
    at N = 2000, 0.018 at N = 1000), so the mean of three is within ~0.003 of SE and the
    tolerance is ten standard deviations (seeds 0-2 give 0.0023 at most).  It fails on wrong
    answers: SE at alpha = 0.9 or 1.1 (q* = 0.508, 0.614) is 0.053 away, SE one iteration
    late 0.41 at t = 1, and AMP without its Onsager term (or with half of it) settles near
    0.38 (0.42) without converging.
    """
    alpha, n = 1.0, 4000
    se = run_se(BinaryPrior(), SignChannel(), alpha, init=0.0, max_iter=200, tol=1e-12)
    assert se.converged and abs(se.q_final - 0.5607) < 1e-4
    runs = []
    for seed in (0, 1, 2):
        p = perceptron(n, alpha, prior="binary", channel="sign", seed=seed, graph=False)
        runs.append(run_amp(p, BinaryPrior(), SignChannel(), max_iter=100))
    assert all(r.converged for r in runs), [r.n_iter for r in runs]
    T = max(max(r.n_iter for r in runs), se.n_iter)

    def pad(h):  # a converged trajectory stays at its last value
        return np.concatenate([h, np.full(T - h.size, h[-1])])

    amp = np.mean([pad(np.asarray(r.history["overlap"])) for r in runs], axis=0)
    q = pad(np.asarray(se.q[1:]))
    finals = [round(r.overlap, 4) for r in runs]
    assert abs(amp[-1] - se.q_final) < 0.03, (finals, se.q_final)
    assert np.max(np.abs(amp - q)) < 0.03, (np.round(amp[:10], 4), np.round(q[:10], 4), finals)


@pytest.mark.slow
@pytest.mark.parametrize("alpha, channel, noise", [(1.2, "sign", 0.0), (2.0, "noisy_sign", 0.1)])
def test_relaxed_bp_reaches_the_amp_fixed_point(alpha, channel, noise):
    n = 300
    p = perceptron(n, alpha, prior="binary", channel=channel, noise=noise, seed=1)
    chan = SignChannel() if channel == "sign" else NoisySignChannel(noise)
    a = run_amp(p, BinaryPrior(), chan, max_iter=300, tol=1e-10, damping=0.2)
    b = run_bp(p.graph, damping=0.3, max_iter=600, tol=1e-8)
    assert a.converged and b.converged
    m = b.beliefs[:, 1] - b.beliefs[:, 0]  # BP posterior means of the +-1 weights
    teacher = np.asarray(p.meta["teacher"])
    assert abs(m @ teacher / n - a.overlap) < 0.02
    assert np.mean(np.abs(m - a.estimate)) < 0.03
    assert np.corrcoef(m, a.estimate)[0, 1] > 0.97
