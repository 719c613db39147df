"""The in-kernel normal generator: xoshiro256** bits against the reference sequence, ziggurat
draws against the normal law (Kolmogorov–Smirnov, moments, the tail beyond the base strip)."""

import math

import numpy as np
import pytest
from scipy import stats

from algorithms.theory import _fastrng as F

# the published first outputs of xoshiro256** from the state (1, 2, 3, 4)
REFERENCE = [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600,
             16172922978634559625, 8476171486693032832, 10595114339597558777, 2904607092377533576]


def test_xoshiro_matches_the_reference_sequence():
    state = np.array([1, 2, 3, 4], dtype=np.uint64)
    with np.errstate(over="ignore"):
        got = [int(F.next_u64(state)) for _ in REFERENCE]
    assert got == REFERENCE


def test_ziggurat_tables_have_equal_layer_areas():
    x, f = F.ZIG_X, F.ZIG_F
    assert x[1] == F._R and x[-1] == 0.0 and np.all(np.diff(x) < 0)
    # base strip plus tail: r f(r) + ∫_r^∞ exp(-t²/2) dt = v
    tail = math.sqrt(math.pi / 2) * math.erfc(F._R / math.sqrt(2))
    assert F._R * f[1] + tail == pytest.approx(F._V, rel=1e-9)
    assert x[0] * f[1] == pytest.approx(F._V, rel=1e-12)
    # every layer i >= 1: x_i (f(x_{i+1}) - f(x_i)) = v, the last one closing at f = 1
    areas = x[1:-1] * (f[2:] - f[1:-1])
    np.testing.assert_allclose(areas, F._V, rtol=1e-8)


def test_normals_follow_the_standard_normal_law():
    z = F.normals(200_000, F.new_state(11))
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 4 / math.sqrt(z.size)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / z.size)
    # the sign bit and the layer bits come from one draw: the sign must still be a fair coin
    assert abs(np.mean(z > 0) - 0.5) < 4 * 0.5 / math.sqrt(z.size)


@pytest.mark.slow
def test_tail_beyond_the_base_strip():
    z = F.normals(8_000_000, F.new_state(5))
    beyond = np.abs(z[np.abs(z) > F._R])
    expected = z.size * 2 * stats.norm.sf(F._R)
    assert abs(beyond.size - expected) < 4 * math.sqrt(expected)
    # the excess beyond r has the truncated-normal law
    cdf = lambda t: 1 - stats.norm.sf(t) / stats.norm.sf(F._R)  # noqa: E731
    assert stats.kstest(beyond, cdf).pvalue > 1e-3
    assert stats.kstest(z, "norm").pvalue > 1e-3


def test_same_seed_same_draws_and_state_advances():
    s1, s2 = F.new_state(3), F.new_state(3)
    a = F.normals(1000, s1)
    np.testing.assert_array_equal(a, F.normals(1000, s2))
    assert not np.array_equal(a, F.normals(1000, s1))       # the state moved on
    assert not np.array_equal(F.new_state(3), F.new_state(4))
    seq = np.random.SeedSequence(9)
    np.testing.assert_array_equal(F.new_state(seq), F.new_state(np.random.SeedSequence(9)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        F.normals(-1, F.new_state(0))
    with pytest.raises(TypeError, match="state must be"):
        F.normals(3, np.zeros(4, dtype=np.int64))
