"""Shared checks of the BP flooding engines against the log-domain engine (not a test module)."""

import numpy as np

#: The reference configuration: the log-domain rules, no flooding engine.
REF = {"fast_paths": False, "scaled_tables": False}


def probs(f2v):
    with np.errstate(under="ignore"):
        return np.exp(f2v)


def assert_same_run(fast, ref, atol=1e-12):
    """Same sweeps, residual history, messages (as probabilities, and -inf pattern), beliefs and log Z."""
    assert ref.engine == "rules"
    assert fast.n_iter == ref.n_iter and fast.converged == ref.converged
    np.testing.assert_allclose(fast.residuals, ref.residuals, rtol=0, atol=atol)
    np.testing.assert_array_equal(np.isneginf(fast.f2v), np.isneginf(ref.f2v))
    np.testing.assert_allclose(probs(fast.f2v), probs(ref.f2v), rtol=0, atol=atol)
    np.testing.assert_allclose(fast.beliefs, ref.beliefs, rtol=0, atol=atol)
    if np.isfinite(ref.log_z):
        assert abs(fast.log_z - ref.log_z) <= 1e-9 * max(1.0, abs(ref.log_z))
    else:
        assert fast.log_z == ref.log_z
