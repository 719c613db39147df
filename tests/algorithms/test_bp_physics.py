"""Physics and coding oracles for belief propagation (closed forms, densities and thresholds).

Oracles, none of them computed by the engine under test:

* **Uniform ferromagnet on k-regular graphs** (random k-regular graphs, L x L
  tori).  The homogeneous cavity field solves ``H = B + (k-1) atanh(t tanh H)``
  (``B = beta h``, ``K = beta J``, ``t = tanh K``; iterated here in double
  precision); the magnetisation is ``m = tanh(B + k u)``, ``u = atanh(t tanh H)``.
  With every message equal, the message form of docs/theory.md §2.3 gives, per spin
  (``n k / 2`` edge factors, ``n k`` edges)::

      phi = (k/2) log Z_a + log Z_i - k log Z_ai
      Z_a  = 2 e^K cosh(2H) + 2 e^-K,  Z_i = 2 cosh(B + k u),  Z_ai = 2 cosh(H + u)

  (messages mu ∝ e^{H s}, nu ∝ e^{u s}; the form is invariant under rescaling
  each message).  Choosing the unnormalised nu(s) = sum_s' e^{K s s' + H s'}
  gives the equivalent ``phi = log z_site - (k/2) log z_edge`` (Mezard &
  Montanari 2009, ch. 14); both are checked against each other, against the
  identity ``d phi / dB = m`` and against the paramagnetic value
  ``log 2 + (k/2) log cosh K``.  The Bethe critical point is ``(k-1) t = 1``;
  below it the zero-field susceptibility is ``m / B -> (1+t) / (1-(k-1)t)``.
* **Single cycle** (classical): ``Z_Bethe = (2 cosh K)^n`` and exact
  ``Z = (2 cosh K)^n (1 + t^n)``.
* **(3,6) LDPC codes on the BEC**: density evolution ``x <- eps (1-(1-x)^5)^2``
  (threshold eps_BP ≈ 0.4294, Richardson & Urbanke 2008) predicts the residual
  erasure fraction ``eps (1-(1-x*)^5)^3``; the BP fixed point leaves a stopping
  set, never decides a wrong bit, and its Bethe entropy is
  ``(#unresolved bits - #checks touching them) log 2``.
* **MacKay's (96,48) code 96.33.964 over AWGN**: CommPy's test protocol and its
  reference frame error rates (the README of the external oracle folder, ldpc section).
* **(3,6) LDPC codes on the BSC** far below threshold: the transmitted codeword
  is recovered by sum- and max-product, and the Bethe log Z / MAP score is its
  channel log-likelihood.

On a k-regular graph with uniform couplings and fields the homogeneous message
is an exact BP fixed point whatever the loops, and parallel BP from uniform
messages stays homogeneous; the sequential and random-initialisation tests make
the trajectory inhomogeneous, so they check that the fixed point is found
rather than merely preserved.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.sparse as sp

import fgraph
from algorithms import run_bp
from fgraph import exact
from fgraph import problems as P

LOG2 = math.log(2.0)


def threads_for(graph):
    """One thread for small graphs, Numba's default for large ones.

    A parallel kernel launch costs microseconds on an idle machine but
    milliseconds on a loaded one, more than the work of a sweep over a few
    hundred factors; the large (slow-marked) instances exercise the parallel path.
    """
    return 1 if graph.n_edge < 10_000 else None


# ---------------------------------------------------------------- cavity oracle


def cavity_field(k: int, K: float, B: float, H0: float, tol: float = 1e-15, max_iter: int = 10**6) -> float:
    """Fixed point of H = B + (k-1) atanh(tanh K tanh H), iterated from H0 (selects the branch)."""
    t = math.tanh(K)
    H = H0
    for _ in range(max_iter):
        Hn = B + (k - 1) * math.atanh(t * math.tanh(H))
        if abs(Hn - H) <= tol * max(1.0, abs(H)):
            return Hn
        H = Hn
    raise RuntimeError("cavity iteration did not converge")  # pragma: no cover


def bethe_regular(k: int, K: float, B: float, branch: int = +1) -> dict:
    """Homogeneous Bethe solution of the k-regular ferromagnet (K = beta J, B = beta h).

    ``branch=+1`` starts the cavity iteration from a large positive field (the
    ferromagnetic branch selected by B > 0), ``-1`` from a large negative one.
    """
    H = cavity_field(k, K, B, H0=branch * (abs(B) + 2.0))
    t = math.tanh(K)
    u = math.atanh(t * math.tanh(H))
    m = math.tanh(B + k * u)
    # message form: mu ∝ e^{H s}, nu ∝ e^{u s}
    z_a = 2.0 * math.exp(K) * math.cosh(2.0 * H) + 2.0 * math.exp(-K)
    z_i = 2.0 * math.cosh(B + k * u)
    z_ai = 2.0 * math.cosh(H + u)
    phi = 0.5 * k * math.log(z_a) + math.log(z_i) - k * math.log(z_ai)
    # site/edge form: nu(s) = sum_s' e^{K s s' + H s'} unnormalised
    spins = (-1.0, 1.0)
    z_site = sum(math.exp(B * s) * sum(math.exp(K * s * r + H * r) for r in spins) ** k for s in spins)
    z_edge = sum(math.exp(K * s * r + H * (s + r)) for s in spins for r in spins)
    phi_site_edge = math.log(z_site) - 0.5 * k * math.log(z_edge)
    return {"H": H, "u": u, "m": m, "phi": phi, "phi_site_edge": phi_site_edge}


def k_c(k: int) -> float:
    """Bethe critical coupling: tanh K_c = 1/(k-1)."""
    return math.atanh(1.0 / (k - 1))


def magnetisations(result) -> np.ndarray:
    """<s_i> = 2 b_i(1) - 1 (state 1 is s = +1)."""
    return 2.0 * result.beliefs[:, 1] - 1.0


def assert_matches_cavity(result, n: int, want: dict, tol: float = 1e-8) -> None:
    assert result.converged
    assert not np.isnan(result.beliefs).any()
    m = magnetisations(result)
    np.testing.assert_allclose(m, want["m"], rtol=0, atol=tol)
    assert abs(result.log_z / n - want["phi"]) < tol


def regular_ising(kind: str, k: int, n: int, K: float, B: float, seed: int = 3):
    """Uniform ferromagnet (J = 1, beta = K, h = B / K) on a random k-regular graph or a torus (k = 4)."""
    h = B / K
    if kind == "torus":
        assert k == 4
        L = int(round(math.sqrt(n)))
        assert L * L == n
        return P.ising_grid(L, J=1.0, h=h, beta=K, periodic=True)
    return P.random_regular_ising(n, k, J=1.0, h=h, beta=K, seed=seed)


# ---------------------------------------------------------------- the oracle itself


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("ratio", [0.7, 1.5])
@pytest.mark.parametrize("B", [0.0, 0.05, 0.3])
def test_cavity_closed_forms_agree(k, ratio, B):
    K = ratio * k_c(k)
    sol = bethe_regular(k, K, B)
    # message form == site/edge form
    assert abs(sol["phi"] - sol["phi_site_edge"]) < 1e-13
    # thermodynamics: d phi / dB = m at the stationary point (central difference)
    eps = 1e-5
    dphi = (bethe_regular(k, K, B + eps)["phi"] - bethe_regular(k, K, B - eps)["phi"]) / (2 * eps)
    if not (B == 0.0 and ratio > 1):  # the + branch jumps at B = 0 below K_c (spontaneous magnetisation)
        assert abs(dphi - sol["m"]) < 1e-8
    if ratio < 1:
        # paramagnet: unique fixed point; at B = 0, m = 0 and phi = log 2 + (k/2) log cosh K
        assert abs(bethe_regular(k, K, B, branch=-1)["m"] - sol["m"]) < 1e-12
        if B == 0.0:
            assert abs(sol["m"]) < 1e-12
            assert abs(sol["phi"] - (LOG2 + 0.5 * k * math.log(math.cosh(K)))) < 1e-14
    else:
        # ferromagnet: spontaneous magnetisation even at B = 0
        assert sol["m"] > 0.5


def test_density_evolution_threshold():
    """DE reproduces eps_BP ≈ 0.4294 of the (3,6) ensemble (classical).

    eps_BP = min_x x / (1-(1-x)^5)^2 (the smallest eps with a nonzero DE fixed
    point); DE iterated just below / above it goes to zero / stalls.
    """
    x = np.linspace(1e-6, 1.0, 200_001)
    eps_bp = float(np.min(x / (1 - (1 - x) ** 5) ** 2))
    assert abs(eps_bp - 0.4294) < 1e-4
    assert density_evolution(eps_bp - 0.002)[0] < 1e-10
    assert density_evolution(eps_bp + 0.002)[0] > 0.15


# ---------------------------------------------------------------- k-regular ferromagnets

# (k, K/K_c, B): above (ratio < 1) and below (ratio > 1) the Bethe critical point, small
# positive field (ferromagnetic branch), and zero field in the paramagnetic phase.
PHASES = [
    (3, 0.7, 0.05),
    (3, 1.5, 0.05),
    (3, 0.7, 0.0),
    (4, 0.7, 0.05),
    (4, 1.5, 0.05),
    (4, 0.7, 0.0),
]


@pytest.mark.parametrize("k,ratio,B", PHASES)
@pytest.mark.parametrize(
    "n", [100, pytest.param("large", marks=pytest.mark.slow)], ids=["n100", "n_large"]
)
def test_random_regular_ferromagnet_matches_cavity(k, ratio, B, n):
    n = {3: 10_000, 4: 6_000}[k] if n == "large" else n
    K = ratio * k_c(k)
    prob = regular_ising("rrg", k, n, K, B)
    r = run_bp(prob.graph, tol=1e-13, max_iter=5000, n_threads=threads_for(prob.graph))
    want = bethe_regular(k, K, B)
    assert_matches_cavity(r, n, want)
    if B == 0.0:
        np.testing.assert_allclose(magnetisations(r), 0.0, atol=1e-12)
        assert abs(r.log_z / n - (LOG2 + 0.5 * k * math.log(math.cosh(K)))) < 1e-12
    elif ratio > 1:
        assert want["m"] > 0.9  # deep in the ferromagnetic phase
    else:
        assert 0.05 < want["m"] < 0.5  # linear response, enhanced near K_c


@pytest.mark.parametrize("ratio,B", [(0.7, 0.05), (1.5, 0.05), (1.5, 0.3), (0.85, 0.0)])
@pytest.mark.parametrize("L", [5, pytest.param(64, marks=pytest.mark.slow)])
def test_torus_ferromagnet_matches_cavity(L, ratio, B):
    """Periodic L x L grid: 4-regular, so BP's fixed point is the k = 4 cavity solution, all spins equal."""
    K = ratio * k_c(4)
    prob = regular_ising("torus", 4, L * L, K, B)
    r = run_bp(prob.graph, tol=1e-13, max_iter=5000, n_threads=threads_for(prob.graph))
    assert_matches_cavity(r, L * L, bethe_regular(4, K, B))
    m = magnetisations(r)
    assert np.ptp(m) <= 1e-13  # homogeneous up to summation order
    assert np.ptp(r.beliefs[:, 0]) <= 1e-13


@pytest.mark.parametrize("schedule", ["sequential", "parallel"])
@pytest.mark.parametrize("k,ratio,B", [(3, 0.7, 0.05), (3, 1.5, 0.3), (4, 1.5, 0.3), (4, 0.7, 0.0)])
def test_regular_ferromagnet_from_random_messages(schedule, k, ratio, B):
    """Random initial messages (inhomogeneous trajectory): BP still finds the cavity fixed point.

    The cases have a unique homogeneous fixed point: the paramagnet, or a field
    beyond the spinodal of the metastable branch (B = 0.3 > B_sp ≈ 0.15).
    """
    n = 200
    K = ratio * k_c(k)
    want = bethe_regular(k, K, B)
    if ratio > 1:
        assert bethe_regular(k, K, B, branch=-1)["m"] == pytest.approx(want["m"], abs=1e-12)
    prob = regular_ising("rrg", k, n, K, B, seed=11)
    r = run_bp(prob.graph, tol=1e-13, max_iter=5000, schedule=schedule, init="random", seed=5, n_threads=1)
    assert_matches_cavity(r, n, want)


def test_residual_schedule_matches_cavity():
    n, k, K, B = 60, 3, 0.7 * k_c(3), 0.05
    prob = regular_ising("rrg", k, n, K, B, seed=2)
    r = run_bp(prob.graph, tol=1e-13, max_iter=5000, schedule="residual", init="random", seed=1)
    assert_matches_cavity(r, n, bethe_regular(k, K, B))


@pytest.mark.parametrize("k", [3, 4])
def test_metastable_branch(k):
    """Below K_c with a small field, BP started in the minus state stays on the metastable branch."""
    n, K, B = 200, 1.5 * k_c(k), 0.05
    plus, minus = bethe_regular(k, K, B, +1), bethe_regular(k, K, B, -1)
    assert minus["m"] < -0.5 < 0.5 < plus["m"]
    assert minus["phi"] < plus["phi"]
    prob = regular_ising("rrg", k, n, K, B, seed=4)
    g = prob.graph
    init = np.tile(np.log([0.9, 0.1]), (g.n_edge, 1))  # every message favours s = -1
    r = run_bp(g, tol=1e-13, max_iter=5000, init=init, n_threads=1)
    assert_matches_cavity(r, n, minus)
    r_plus = run_bp(g, tol=1e-13, max_iter=5000, n_threads=1)
    assert_matches_cavity(r_plus, n, plus)


@pytest.mark.parametrize("k", [3, 4])
def test_bethe_critical_point(k):
    """Spontaneous magnetisation appears at tanh K_c = 1/(k-1), not before.

    Below K_c the response to a tiny field is linear with the Bethe susceptibility
    (1+t)/(1-(k-1)t); above K_c a tiny field selects a finite magnetisation.
    """
    n, B = 100, 1e-6
    below = 0.9 * k_c(k)
    r = run_bp(regular_ising("rrg", k, n, below, B).graph, tol=1e-13, max_iter=20_000, n_threads=1)
    t = math.tanh(below)
    chi = (1 + t) / (1 - (k - 1) * t)
    assert_matches_cavity(r, n, bethe_regular(k, below, B))
    np.testing.assert_allclose(magnetisations(r) / B, chi, rtol=1e-6)
    assert chi > 5  # the susceptibility grows towards K_c
    above = 1.1 * k_c(k)
    r = run_bp(regular_ising("rrg", k, n, above, B).graph, tol=1e-13, max_iter=20_000, n_threads=1)
    want = bethe_regular(k, above, B)
    assert_matches_cavity(r, n, want)
    assert want["m"] > 0.2
    assert abs(want["m"] - bethe_regular(k, above, 0.0)["m"]) < 1e-4  # B -> 0+ limit


# ---------------------------------------------------------------- single cycle


@pytest.mark.parametrize("n,K", [(5, 0.7), (8, -0.6), (7, -0.6), (12, 1.3)])
@pytest.mark.parametrize("schedule,init", [("parallel", None), ("sequential", "random")])
def test_ising_ring_bethe_and_exact(n, K, schedule, init):
    """C_n at h = 0: Z_Bethe = (2 cosh K)^n, exact Z = (2 cosh K)^n (1 + t^n) (also frustrated odd rings)."""
    edges = [[i, (i + 1) % n] for i in range(n)]
    prob = P.ising(edges, J=math.copysign(1.0, K), beta=abs(K))
    r = run_bp(prob.graph, tol=1e-14, max_iter=10_000, schedule=schedule, init=init, seed=0, n_threads=1)
    assert r.converged
    log_zb = n * math.log(2 * math.cosh(K))
    assert abs(r.log_z - log_zb) < 1e-10
    np.testing.assert_allclose(r.beliefs, 0.5, atol=1e-10)
    t = math.tanh(K)
    log_z = exact.log_z(prob.graph)
    assert abs(log_z - log_zb - math.log1p(t**n)) < 1e-12
    assert (log_z > r.log_z) == (t**n > 0)  # attractive (or even) rings: Z_B <= Z


# ---------------------------------------------------------------- LDPC over the BEC


def density_evolution(eps: float, tol: float = 1e-15, max_iter: int = 10**6) -> tuple[float, float]:
    """(3,6) BEC density evolution from x = eps: (edge erasure x*, bit erasure eps (1-(1-x*)^5)^3)."""
    x = eps
    for _ in range(max_iter):
        xn = eps * (1 - (1 - x) ** 5) ** 2
        if abs(xn - x) < tol:
            x = xn
            break
        x = xn
    return x, eps * (1 - (1 - x) ** 5) ** 3


def bec_decode(n: int, eps: float, code_seed: int, channel_seed: int, max_iter: int = 300) -> dict:
    H = P.regular_ldpc(n, 3, 6, seed=code_seed)
    prob = P.ldpc(H, "bec", p=eps, seed=channel_seed)
    r = run_bp(prob.graph, max_iter=max_iter, schedule="parallel", n_threads=threads_for(prob.graph))
    b = r.beliefs
    assert not np.isnan(b).any() and not np.isnan(r.f2v).any() and not np.isnan(r.log_z)
    point = b.max(axis=1) == 1.0  # a recovered bit has a point-mass belief
    decided = np.argmax(b, axis=1)
    unres = ~point
    touch = np.asarray(prob.meta["H"] @ unres.astype(np.int64)).ravel()  # unresolved bits per check
    return {
        "result": r,
        "prob": prob,
        "n_erased": prob.meta["n_erased"],
        "unresolved": int(unres.sum()),
        "wrong": int(np.sum(point & (decided != prob.truth))),
        "uniform_unresolved": bool(np.allclose(b[unres], 0.5, rtol=0, atol=1e-12)),
        "checks_with_one": int(np.sum(touch == 1)),
        "active_checks": int(np.sum(touch > 0)),
    }


def assert_bec_fixed_point(out: dict) -> None:
    """Properties of every BEC fixed point: no wrong bit, stopping set, Bethe entropy."""
    r = out["result"]
    assert r.converged
    assert out["wrong"] == 0  # BP on the BEC never decides a wrong bit
    assert out["unresolved"] <= out["n_erased"]
    assert out["uniform_unresolved"]  # an unresolved bit is exactly uncertain
    assert out["checks_with_one"] == 0  # the unresolved bits form a stopping set
    # Bethe entropy of the residual system: each unresolved bit counts +log 2, each check touching it -log 2
    assert abs(r.log_z - LOG2 * (out["unresolved"] - out["active_checks"])) < 1e-8 * max(1, out["unresolved"])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_ldpc_bec_threshold_n10000(seed):
    """(3,6) code, n = 10^4: decodes at eps = 0.40 < eps_BP ≈ 0.4294, stalls at 0.46 as DE predicts."""
    n = 10_000
    good = bec_decode(n, 0.40, code_seed=seed, channel_seed=100 + seed)
    assert_bec_fixed_point(good)
    assert good["n_erased"] > 0.38 * n
    assert good["unresolved"] == 0  # every erasure recovered
    assert good["result"].log_z == pytest.approx(0.0, abs=1e-9)  # posterior is a point mass: Z = 1
    bad = bec_decode(n, 0.46, code_seed=seed, channel_seed=100 + seed)
    assert_bec_fixed_point(bad)
    _, frac_de = density_evolution(0.46)
    assert frac_de == pytest.approx(0.3439, abs=1e-4)
    frac = bad["unresolved"] / n
    assert frac > 0.25  # a large fraction of erasures remains
    assert abs(frac - frac_de) < 0.03  # and it is the density-evolution fraction


@pytest.mark.parametrize("eps,decodes", [(0.30, True), (0.55, False)])
def test_ldpc_bec_small(eps, decodes):
    """A short (3,6) code (n = 600): same fixed-point properties, far from the threshold."""
    out = bec_decode(600, eps, code_seed=3, channel_seed=4)
    assert_bec_fixed_point(out)
    if decodes:
        assert out["unresolved"] == 0
    else:
        _, frac_de = density_evolution(eps)
        assert abs(out["unresolved"] / 600 - frac_de) < 0.06


# ---------------------------------------------------------------- MacKay 96.33.964 over AWGN


def parity_matrix(graph) -> sp.csr_array:
    """H (m x n) of a graph whose factors are all parity checks."""
    rows = np.repeat(np.arange(graph.n_fac), np.diff(graph.fac_ptr))
    return sp.csr_array(
        (np.ones(graph.n_edge, dtype=np.uint8), (rows, graph.edge_var)), shape=(graph.n_fac, graph.n_var)
    )


@pytest.fixture(scope="module")
def mackay_h(external):
    g = fgraph.read(external / "ldpc" / "96.33.964.alist")
    assert g.types == ("parity",)
    H = parity_matrix(g)
    assert H.shape == (48, 96)
    assert P.gf2_rank(H) == 48  # rate exactly 1/2
    return H


def awgn_fer(H, ebn0_db: float, seed: int, n_errors: int = 50, rate: float = 0.5, es: float = 1.0) -> dict:
    """CommPy's protocol: all-zero codeword, BPSK, SPA, 100 sweeps with syndrome stopping, 50 frame errors."""
    sigma = 1.0 / math.sqrt(2.0 * rate * 10.0 ** (ebn0_db / 10.0) / es)
    rng = np.random.default_rng(seed)

    def syndrome_ok(progress):
        return not np.any(H @ progress.hard_decision() % 2)

    frames = errors = stopped = 0
    noise = []
    t0 = time.perf_counter()
    while errors < n_errors:
        prob = P.ldpc(H, "awgn", sigma=sigma, seed=rng, codeword="zero")
        y = prob.meta["y"]
        if frames == 0:
            # channel convention: bit 0 -> +1, LLR = log P(y|0) - log P(y|1) = 2 y / sigma^2 (CommPy)
            L = prob.graph.var_unary
            np.testing.assert_allclose(L[:, 0] - L[:, 1], 2.0 * y / sigma**2, rtol=1e-12, atol=1e-12)
        noise.append(y - 1.0)
        r = run_bp(prob.graph, max_iter=100, callback=syndrome_ok, n_threads=threads_for(prob.graph))
        assert not np.isnan(r.beliefs).any()
        decoded = np.argmax(r.beliefs, axis=1)
        frames += 1
        errors += bool(np.any(decoded != 0))
        stopped += r.stopped_early
    noise = np.concatenate(noise)
    return {
        "fer": errors / frames, "errors": errors, "frames": frames, "stopped": stopped, "sigma": sigma,
        "noise_mean": float(noise.mean()), "noise_std": float(noise.std()),
        "seconds": time.perf_counter() - t0,
    }


@pytest.mark.slow
@pytest.mark.parametrize("ebn0_db,fer_ref", [(2.0, 0.2), (2.5, 0.1)])
def test_mackay_96_33_964_awgn_fer(mackay_h, ebn0_db, fer_ref):
    out = awgn_fer(mackay_h, ebn0_db, seed=2024)
    assert out["noise_std"] == pytest.approx(out["sigma"], rel=0.03)
    assert abs(out["noise_mean"]) < 0.02
    assert out["stopped"] > 0.5 * out["frames"]  # syndrome stopping ended the successful frames
    assert out["errors"] == 50
    np.testing.assert_allclose(out["fer"], fer_ref, rtol=0.6)


# ---------------------------------------------------------------- LDPC over the BSC


@pytest.mark.parametrize(
    "n,p", [(1000, 0.02), pytest.param(10_000, 0.04, marks=pytest.mark.slow)]
)
@pytest.mark.parametrize("mode", ["sum", "max"])
def test_ldpc_bsc_recovers_codeword(n, p, mode):
    """Far below the BSC threshold (≈ 0.084 for (3,6)) BP returns the transmitted random codeword."""
    H = P.regular_ldpc(n, 3, 6, seed=7)
    prob = P.ldpc(H, "bsc", p=p, seed=8)
    assert prob.meta["n_flipped"] > 0 and np.any(prob.truth)
    r = run_bp(prob.graph, mode=mode, max_iter=200, n_threads=threads_for(prob.graph))
    assert r.converged
    assert not np.isnan(r.beliefs).any()
    decoded = r.map_state if mode == "max" else np.argmax(r.beliefs, axis=1)
    np.testing.assert_array_equal(decoded, prob.truth)
    # the posterior is (numerically) a point mass on the codeword: log Z = its channel log-likelihood
    score = float(prob.graph.log_score(prob.truth))
    assert score == pytest.approx(
        prob.meta["n_flipped"] * math.log(p) + (n - prob.meta["n_flipped"]) * math.log1p(-p), rel=1e-12
    )
    assert r.log_z == pytest.approx(score, rel=1e-9)
