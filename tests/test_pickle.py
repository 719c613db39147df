"""Everything a sweep job sends to a worker pickles to an equal, still frozen object.

"Equal" is checked field by field by :func:`assert_same` (most of these
classes have no ``__eq__``): same type, arrays equal in dtype, shape and
values *and* in their write flag, mapping proxies rebuilt as mapping proxies,
nested objects compared the same way.  Each type is round-tripped with
protocol 4 (what ``multiprocessing`` uses on Python < 3.14: arrays come back
writeable unless the owning class rebuilds them read-only) and the highest
protocol.  Further tests check that the unpickled objects still work: BP on an
unpickled graph agrees bit for bit, an unpickled kernel draws the same lift
for the same seed, and a compiled graph travels through a real process pool.
"""

import concurrent.futures
import multiprocessing
import pickle
from types import MappingProxyType

import numpy as np
import pytest

import algorithms as A
import fgraph
import lifts
from algorithms import learning
from fgraph import problems as P

PROTOCOLS = (4, pickle.HIGHEST_PROTOCOL)


def assert_same(a, b, path="x", _seen=None):
    """Assert that ``b`` equals ``a`` field by field, write flags included."""
    seen = set() if _seen is None else _seen
    assert type(a) is type(b), f"{path}: type {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{path}: dtype/shape"
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), f"{path}: values"
        assert a.flags.writeable == b.flags.writeable, (
            f"{path}: writeable {a.flags.writeable} -> {b.flags.writeable}")
        return
    if isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, path
        return
    if isinstance(a, (MappingProxyType, dict)):
        assert list(a) == list(b), f"{path}: keys"
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]", seen)
        return
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: length"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]", seen)
        return
    if hasattr(a, "tocsr") and hasattr(a, "nnz"):  # scipy sparse
        assert a.shape == b.shape and (a != b).nnz == 0, f"{path}: sparse values"
        for name in ("data", "indices", "indptr"):
            assert_same(getattr(a, name), getattr(b, name), f"{path}.{name}", seen)
        return
    if isinstance(a, (int, float, complex, str, bytes, type(None), np.generic)) or not (
        hasattr(a, "__dict__") or hasattr(type(a), "__slots__")
    ):
        assert a == b or (a != a and b != b), f"{path}: {a!r} != {b!r}"
        return
    if id(a) in seen:
        return
    seen.add(id(a))
    fa = dict(vars(a)) if hasattr(a, "__dict__") else {}
    fb = dict(vars(b)) if hasattr(b, "__dict__") else {}
    for s in getattr(type(a), "__slots__", ()):
        if hasattr(a, s):
            fa[s], fb[s] = getattr(a, s), getattr(b, s)
    assert list(fa) == list(fb), f"{path}: attributes {list(fa)} != {list(fb)}"
    for k in fa:
        assert_same(fa[k], fb[k], f"{path}.{k}", seen)


def roundtrip(x, protocol=pickle.HIGHEST_PROTOCOL):
    return pickle.loads(pickle.dumps(x, protocol=protocol))


# ----------------------------------------------------------------------------- instances
def _builder():
    g = fgraph.FactorGraph()
    g.add_variables(3)
    g.add_ising([[0, 1], [1, 2], [0, 2]], J=0.5)
    return g


def _graph():
    return _builder().compile()


def _perceptron():
    return P.perceptron(20, 1.0, seed=0)


def _lift():
    return lifts.lift(_graph(), 3, lifts.Ring(0.5), seed=0)


KERNELS = {
    "Identity": lambda: lifts.Identity(),
    "Uniform": lambda: lifts.Uniform(),
    "Ring": lambda: lifts.Ring(0.5),
    "Block": lambda: lifts.Block(2, 0.1),
    "Band": lambda: lifts.Band(1),
    "Directional": lambda: lifts.Directional(0.5, 1.0, 1),
    "FromMatrix": lambda: lifts.FromMatrix(np.full((4, 4), 0.25)),
    "CyclicShift": lambda: lifts.CyclicShift(),
    "CyclicShift-explicit": lambda: lifts.CyclicShift(np.arange(24) % 4),
}

OBJECTS = {
    "FactorGraph": lambda: _builder(),
    "CompiledGraph": _graph,
    "ExactResult": lambda: fgraph.exact.infer(_graph(), factors=True),
    "EliminationOrder": lambda: fgraph.exact.elimination_order(_graph()),
    "BruteForce": lambda: fgraph.exact.brute_force(_graph()),
    "Wiring": lambda: _graph().wiring,
    "Problem-ising": lambda: P.ising([[0, 1], [1, 2]], seed=0),
    "Problem-ising_grid": lambda: P.ising_grid(3, seed=0),
    "Problem-random_regular_ising": lambda: P.random_regular_ising(6, 3, seed=0),
    "Problem-sk": lambda: P.sk(5, seed=0),
    "Problem-ldpc": lambda: P.ldpc(P.regular_ldpc(12, 3, 6, seed=0), p=0.1, seed=0),
    "Problem-perceptron": _perceptron,
    "Problem-committee": lambda: P.committee(21, 1.0, 3, seed=0),
    "Problem-quantized_regression": lambda: P.quantized_regression(20, 1.0, [-1, 1], seed=0),
    "Lift": _lift,
    "Marginal": lambda: lifts.Ring(0.5).marginal(4),
    "BPConfig": lambda: A.BPConfig(damping=0.1),
    "BPResult": lambda: A.run_bp(_graph()),
    "BPResult-lift": lambda: A.run_bp(_lift()),
    "ProjectedResult": lambda: (lambda c: lifts.project(A.run_bp(c), c))(_lift()),
    "Comparison": lambda: lifts.compare(_graph(), M=3, seed=0),
    "CoverLogZ": lambda: lifts.cover_log_z(_graph(), 2, seed=0),
    "AMPConfig": lambda: A.AMPConfig(damping=0.2),
    "GaussianPrior": lambda: A.GaussianPrior(2.0),
    "BinaryPrior": lambda: A.BinaryPrior(0.3),
    "DiscretePrior": lambda: A.DiscretePrior([-1, 0, 1], [1, 2, 1]),
    "GaussBernoulli": lambda: A.GaussBernoulli(0.3),
    "GaussianChannel": lambda: A.GaussianChannel(0.1),
    "SignChannel": lambda: A.SignChannel(),
    "NoisySignChannel": lambda: A.NoisySignChannel(0.1),
    "AMPResult": lambda: (lambda p: A.run_amp(p, A.BinaryPrior(), A.SignChannel(), truth=p.truth,
                                              seed=0))(_perceptron()),
    "SEResult": lambda: A.run_se(A.BinaryPrior(), A.SignChannel(), 1.0, max_iter=20),
    "Perceptron": lambda: learning.Perceptron(eta=0.5),
    "Committee": lambda: learning.Committee(K=3),
    "MLP": lambda: learning.MLP(hidden=(8, 4)),
    "ClassificationData": lambda: learning.teacher_classification(20, 10, d=8, n_classes=3, hidden=4,
                                                                  seed=0),
    "TrainResult": lambda: learning.train(_perceptron(), learning.Perceptron(), epochs=2, seed=0),
    "ReplicaResult": lambda: learning.replicated(_perceptron(), learning.Perceptron(), 2, epochs=2,
                                                 seed=0),
    "RoutedRun": lambda: lifts.route(_perceptron(), learning.Perceptron(), 2, lifts.Ring(0.5),
                                     epochs=2, seed=0),
    "BPLearnRun": lambda: lifts.bp_learn(_perceptron(), 2, lifts.Ring(0.5), seed=0, max_iter=5,
                                         n_test=100),
    **{f"kernel-{k}": f for k, f in KERNELS.items()},
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("name", list(OBJECTS))
def test_roundtrip_is_equal_and_frozen(name, protocol):
    x = OBJECTS[name]()
    y = roundtrip(x, protocol)
    assert y is not x
    assert_same(x, y, name)


def test_frozen_fields_stay_frozen():
    cg = roundtrip(_graph(), 4)
    assert all(isinstance(p, MappingProxyType) for p in cg.params)
    assert not cg.params[0]["J"].flags.writeable
    assert not cg.card.flags.writeable and not cg.wiring.edge_var.flags.writeable
    with pytest.raises(TypeError):
        cg.params[0]["J"] = None
    with pytest.raises(ValueError):
        cg.var_unary[0, 0] = 1.0
    p = roundtrip(P.ldpc(P.regular_ldpc(12, 3, 6, seed=0), p=0.1, seed=0), 4)
    assert isinstance(p.meta, MappingProxyType) and not p.truth.flags.writeable
    for v in p.meta.values():
        if isinstance(v, np.ndarray):
            assert not v.flags.writeable
        if hasattr(v, "tocsr"):
            assert not v.data.flags.writeable


def test_quantizer_results_keep_read_only_levels():
    from algorithms.theory import quantizers

    for r in (quantizers.lloyd_max(2), quantizers.max_uniform(2)):
        assert_same(r, roundtrip(r, 4), type(r).__name__)


# ----------------------------------------------------------------------------- still works
def _same_bp(r1, r2):
    assert r1.log_z == r2.log_z and r1.n_iter == r2.n_iter and r1.converged == r2.converged
    for name in ("beliefs", "f2v", "v2f", "residuals"):
        a, b = getattr(r1, name), getattr(r2, name)
        assert np.array_equal(a, b, equal_nan=True), name


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_bp_on_unpickled_graph_is_bit_for_bit(protocol):
    for make in (_graph, _lift, lambda: P.ising_grid(3, seed=1).graph,
                 lambda: P.ldpc(P.regular_ldpc(12, 3, 6, seed=0), p=0.1, seed=0).graph):
        cg = make()
        _same_bp(A.run_bp(cg, seed=0), A.run_bp(roundtrip(cg, protocol), seed=0))
    cfg = A.BPConfig(damping=0.3, max_iter=50)
    cg = _graph()
    _same_bp(A.run_bp(cg, cfg), A.run_bp(roundtrip(cg, protocol), roundtrip(cfg, protocol)))


@pytest.mark.parametrize("name", list(KERNELS))
def test_unpickled_kernel_draws_the_same_lift(name):
    cg = P.random_regular_ising(8, 3, seed=0).graph
    k = KERNELS[name]()
    k2 = roundtrip(k, 4)
    l1, l2 = lifts.lift(cg, 4, k, seed=3), lifts.lift(cg, 4, k2, seed=3)
    assert np.array_equal(l1.perms, l2.perms)
    assert_same(l1, roundtrip(l1, 4), "lift")
    assert np.array_equal(k.Q(4), k2.Q(4))


def test_unpickled_amp_inputs_give_the_same_run():
    p = _perceptron()
    r1 = A.run_amp(p, A.BinaryPrior(), A.SignChannel(), A.AMPConfig(max_iter=30), truth=p.truth,
                   seed=0)
    p2, pr, ch, cfg = roundtrip((p, A.BinaryPrior(), A.SignChannel(), A.AMPConfig(max_iter=30)), 4)
    r2 = A.run_amp(p2, pr, ch, cfg, truth=p2.truth, seed=0)
    assert np.array_equal(r1.estimate, r2.estimate) and np.array_equal(r1.variances, r2.variances)
    assert_same(r1.history, r2.history, "history")


def test_unpickled_model_trains_the_same():
    p = _perceptron()
    r1 = learning.train(p, learning.Perceptron(eta=0.5), epochs=3, seed=1)
    p2, m2 = roundtrip((p, learning.Perceptron(eta=0.5)), 4)
    r2 = learning.train(p2, m2, epochs=3, seed=1)
    for k in vars(r1):
        if k not in ("seconds", "problem"):
            assert_same(getattr(r1, k), getattr(r2, k), k)


# ----------------------------------------------------------------------------- process pool
def _bp_log_z(graph) -> float:
    """Worker side of the process-pool test (module level, so it pickles)."""
    return A.run_bp(graph, seed=0).log_z


def test_graph_travels_through_a_process_pool():
    graphs = [_graph(), P.ising_grid(3, seed=2).graph]
    local = [A.run_bp(g, seed=0).log_z for g in graphs]
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        remote = list(pool.map(_bp_log_z, graphs))
    assert remote == local
