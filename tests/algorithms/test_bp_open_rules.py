"""The rule table stays open: a user's rule replaces a built-in one on every schedule.

The driver picks flooding engines through the rules (``BPRule.flooding_engine``),
never by factor-type name, so a rule registered with ``overwrite=True`` runs on
the parallel, sequential and residual schedules, with or without fast paths.
Oracles: a rule that computes the built-in messages for couplings 2J gives the
built-in result on the graph with 2J (to round-off), and a counting wrapper
proves the user's code ran.
"""

import numpy as np
import pytest

import algorithms
import fgraph
from algorithms import BPConfig, IsingRule, ParityRule, TableRule, run_bp
from algorithms.bp import BUILTIN_RULES, flooding_engine
from algorithms.bp import rules as bp_rules
from algorithms.bp.kernels import ising_range, parity_range
from fgraph.problems import ising_grid, ldpc, regular_ldpc

SCHEDULES = ("parallel", "sequential", "residual")


@pytest.fixture
def restore_rules():
    """Every test here replaces built-in rules; put the table back afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bp_rules, "_RULES", dict(bp_rules._RULES))
        yield


class DoubledIsing(algorithms.BPRule):
    """Ising messages as if every coupling were 2J (a rule that differs from the built-in one)."""

    def __init__(self):
        self.calls = 0

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        self.calls += 1
        ising_range(lo, hi, graph.fac_ptr, graph.fac_param, 2.0 * np.asarray(graph.params[t]["J"]), v2f, out,
                    max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        IsingRule().log_z(graph, t, lo, hi, v2f, out, max_mode)


class CountingParity(ParityRule):
    """The built-in parity rule with f2v overridden: its fused kernels and engine must not serve it."""

    def __init__(self):
        self.calls = 0

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        self.calls += 1
        p = graph.params[t]
        parity_range(lo, hi, graph.fac_ptr, graph.fac_param, p["weight"], p["target"], v2f, out, work,
                     max_mode)


def _grid(J):
    return ising_grid(4, J=J, h=0.2, seed=3).graph


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("mode", ["sum", "max"])
def test_a_replaced_ising_rule_runs_on_every_schedule(restore_rules, schedule, fast, mode):
    cfg = BPConfig(schedule=schedule, fast_paths=fast, mode=mode, tol=1e-12, max_iter=500, damping=0.2)
    want = run_bp(_grid(0.6), cfg)  # the built-in rule on couplings 2 * 0.3
    rule = DoubledIsing()
    algorithms.register_bp_rule("ising", rule, overwrite=True)
    got = run_bp(_grid(0.3), cfg)
    assert rule.calls > 0
    assert got.engine == "rules"
    assert got.converged and want.converged
    np.testing.assert_allclose(got.beliefs, want.beliefs, atol=1e-9)
    if mode == "max":
        np.testing.assert_array_equal(got.map_state, want.map_state)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("fast", [True, False])
def test_a_subclass_that_overrides_f2v_is_not_served_by_fused_kernels(restore_rules, schedule, fast):
    H = regular_ldpc(24, 3, 6, seed=0)
    g = ldpc(H, "bsc", p=0.05, seed=1).graph
    cfg = BPConfig(schedule=schedule, fast_paths=fast, tol=1e-12, max_iter=200)
    want = run_bp(g, cfg)
    rule = CountingParity()
    algorithms.register_bp_rule("parity", rule, overwrite=True)
    assert flooding_engine(g, cfg) is None
    got = run_bp(g, cfg)
    assert rule.calls > 0 and got.engine == "rules"
    np.testing.assert_allclose(got.beliefs, want.beliefs, atol=1e-9)


def test_builtin_rules_offer_their_engines():
    g = _grid(0.3)
    assert flooding_engine(g, BPConfig())[0].name == "tanh"
    # binary 2 x 2 tables are offered to the odds-form engine by their shape and values, not their name
    assert flooding_engine(g.to_tables(), BPConfig(fast_paths=False))[0].name == "tanh"
    t = fgraph.FactorGraph()
    t.add_variables(card=[2, 3])
    t.add_factor([0, 1], [[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])
    assert flooding_engine(t.compile(), BPConfig())[0].name == "scaled"
    assert run_bp(g).engine == "tanh" and run_bp(g, fast_paths=False).engine == "rules"
    # Ising and parity blocks together still run in the tanh domain (no type names involved)
    h = fgraph.FactorGraph()
    h.add_variables(4)
    h.add_ising([[0, 1], [1, 2]], J=0.4)
    h.add_parity([1, 2, 3], weight=2.0)
    h.add_field([0, 3], [0.3, -0.2])
    cg = h.compile()
    r = run_bp(cg, tol=1e-13)
    ref = run_bp(cg, tol=1e-13, fast_paths=False)
    assert r.engine == "tanh" and ref.engine == "rules"
    np.testing.assert_allclose(r.beliefs, ref.beliefs, atol=1e-12)


def test_registration_does_not_depend_on_import_order():
    """The registered rule of every built-in type is the one algorithms.bp installs, whatever was
    imported first (a fresh interpreter importing the rule modules before the package)."""
    import subprocess
    import sys

    code = ("import algorithms.bp.committee, algorithms.bp.glm, algorithms.bp.rules\n"
            "import algorithms\n"
            "from algorithms.bp import BUILTIN_RULES\n"
            "print(all(algorithms.get_bp_rule(n) is r for n, r in BUILTIN_RULES.items()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr
    assert all(algorithms.get_bp_rule(n) is r for n, r in BUILTIN_RULES.items())
    assert type(BUILTIN_RULES["committee"]).__name__ == "CommitteeRule"
    assert isinstance(BUILTIN_RULES["table"], TableRule)
