"""The kernel-spec registry (lifts.kernels.register_kernel_spec): specs are open to user kernels.

A user kernel registered under a new name must work through ``from_spec`` and
through the command line (``mcover lift FILE --kernel name:ARGS``), the
built-in names must come from the same table, and registrations must be
checked: overwrite rules, names, factories that fail or return something else.
Every test that registers a name removes it again (fixture ``registry``), so
other tests see the built-in table only.
"""

import json
from dataclasses import dataclass

import numpy as np
import pytest

import fgraph
import lifts
from lifts import kernels as lk
from lifts.kernels import (
    Block,
    Identity,
    Kernel,
    Ring,
    Uniform,
    from_spec,
    kernel_spec_names,
    register_kernel_spec,
    unregister_kernel_spec,
)

BUILTINS = ("identity", "uniform", "shift", "ring", "block", "band", "directional", "matrix")


@dataclass(frozen=True)
class NextNeighbour(Kernel):
    """A user kernel: the identity plus ``weight`` on the next copy (mod M)."""

    weight: float

    def Q(self, M):
        return np.eye(M) + self.weight * np.roll(np.eye(M), 1, axis=1)


def next_neighbour(weight):
    """The user's factory: one argument string."""
    return NextNeighbour(float(weight))


@pytest.fixture
def registry():
    """Names registered by a test are removed (or a replaced built-in restored) afterwards."""
    before = kernel_spec_names()
    yield
    for name in kernel_spec_names():
        if name not in before or lk._SPECS[name] is not lk._BUILTIN_SPECS.get(name, lk._SPECS[name]):
            unregister_kernel_spec(name)
    assert kernel_spec_names() == before
    assert all(lk._SPECS[n] is lk._BUILTIN_SPECS[n] for n in BUILTINS)


def test_builtins_are_registered_in_order_through_the_same_table():
    assert kernel_spec_names() == BUILTINS
    assert set(lk._BUILTIN_SPECS) == set(BUILTINS)
    assert lifts.kernel_spec_names is kernel_spec_names
    assert lifts.register_kernel_spec is register_kernel_spec
    assert lifts.unregister_kernel_spec is unregister_kernel_spec


def test_user_kernel_through_from_spec(registry):
    register_kernel_spec("nextneighbour", next_neighbour)
    k = from_spec("nextneighbour:0.5")
    assert k == NextNeighbour(0.5) and type(k) is NextNeighbour
    assert from_spec(" NextNeighbour : 0.25 ") == NextNeighbour(0.25)  # case and spaces as for built-ins
    assert kernel_spec_names() == (*BUILTINS, "nextneighbour")
    # the kernel behaves like any other: exact marginal, samples
    np.testing.assert_allclose(k.P(5).sum(axis=1), 1.0, atol=1e-12)
    assert k.sample(3, 5, seed=0).shape == (3, 5)
    # its form (from the factory's signature) appears in the error listing
    with pytest.raises(ValueError, match=r"valid forms: identity, .*matrix:PATH.txt, nextneighbour:WEIGHT"):
        from_spec("nope")


def test_user_kernel_through_the_cli(registry, tmp_path, capsys):
    from mcover.cli import main

    register_kernel_spec("myname", next_neighbour)
    path = tmp_path / "ring.fg"
    fgraph.write(fgraph.problems.ising_grid(2, J=0.5).graph, path)
    assert main(["lift", str(path), "--M", "4", "--kernel", "myname:0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kernel"] == "NextNeighbour(weight=0.5)" == NextNeighbour(0.5).identify()
    assert out["M"] == 4
    # the kernel's expectation reached the output: N_8 tr((P P^T)^4) with the user kernel's marginal
    P = NextNeighbour(0.5).P(4)
    expected = float(np.trace(np.linalg.matrix_power(P @ P.T, 4)))
    assert out["expected"]["8"]["kernel"] == pytest.approx(expected, rel=1e-12)


def test_registering_an_existing_name_needs_overwrite(registry):
    register_kernel_spec("mine", lambda: Uniform())
    with pytest.raises(ValueError, match="'mine' is already registered; pass overwrite=True"):
        register_kernel_spec("mine", lambda: Identity())
    with pytest.raises(ValueError, match="'mine' is already registered"):
        register_kernel_spec("MINE", lambda: Identity())  # names are case-insensitive
    register_kernel_spec("mine", lambda: Identity(), overwrite=True)
    assert from_spec("mine") == Identity()
    for name in BUILTINS:
        with pytest.raises(ValueError, match=f"'{name}' is already registered"):
            register_kernel_spec(name, lambda *a: Uniform())


def test_overwriting_a_builtin_and_restoring_it(registry):
    register_kernel_spec("ring", lambda width: Block(2, float(width)), overwrite=True)
    assert from_spec("ring:0.5") == Block(2, 0.5)
    assert kernel_spec_names() == BUILTINS  # same place in the listing
    unregister_kernel_spec("ring")  # restores the built-in
    assert from_spec("ring:0.5") == Ring(0.5)
    with pytest.raises(ValueError, match="'ring' is a built-in and cannot be removed"):
        unregister_kernel_spec("ring")


def test_unregister_unknown_name():
    with pytest.raises(ValueError, match=r"'gauss' is not registered; registered: identity, uniform"):
        unregister_kernel_spec("gauss")


@pytest.mark.parametrize("name", ["", "  ", "a:b", "two words", ":"])
def test_bad_names(name):
    with pytest.raises(ValueError, match="kernel spec name must be non-empty, without ':' or whitespace"):
        register_kernel_spec(name, lambda: Uniform())


def test_bad_name_and_factory_types(registry):
    with pytest.raises(TypeError, match="kernel spec name must be a str, got int"):
        register_kernel_spec(3, lambda: Uniform())
    with pytest.raises(TypeError, match="factory of kernel spec 'k' must be callable, got Ring"):
        register_kernel_spec("k", Ring(1.0))
    with pytest.raises(TypeError, match="forms of kernel spec 'k' must be non-empty strings"):
        register_kernel_spec("k", lambda: Uniform(), forms=("k", 3))
    assert "k" not in kernel_spec_names()


def test_factory_returning_a_non_kernel_is_a_type_error(registry):
    register_kernel_spec("matrixonly", lambda: np.eye(3))
    msg = r"kernel spec 'matrixonly': the factory registered for 'matrixonly' returned ndarray, not a"
    with pytest.raises(TypeError, match=msg + r" lifts.kernels.Kernel instance"):
        from_spec("matrixonly")


def test_factory_errors_become_spec_errors(registry):
    register_kernel_spec("nextneighbour", next_neighbour)
    # wrong number of arguments: Python's TypeError, reported as a bad spec with the valid forms
    bad = r"bad kernel spec 'nextneighbour': .*argument.*; valid forms:"
    with pytest.raises(ValueError, match=bad) as info:
        from_spec("nextneighbour")
    assert isinstance(info.value.__cause__, TypeError)
    with pytest.raises(ValueError, match=r"bad kernel spec 'nextneighbour:x': could not convert"):
        from_spec("nextneighbour:x")
    register_kernel_spec("checked", lambda w: Ring(float(w)), forms="checked:WIDTH")
    with pytest.raises(ValueError, match=r"bad kernel spec 'checked:-1': width must be > 0.0, got -1.0; "
                                         r"valid forms: .*checked:WIDTH"):
        from_spec("checked:-1")


def test_unknown_name_lists_the_known_names(registry):
    register_kernel_spec("nextneighbour", next_neighbour)
    with pytest.raises(ValueError) as info:
        from_spec("gauss:1")
    msg = str(info.value)
    assert ("unknown kernel name 'gauss' (registered: identity, uniform, shift, ring, block, band, "
            "directional, matrix, nextneighbour)") in msg
    assert "valid forms: identity, uniform, shift, shift:S, ring:WIDTH" in msg


def test_default_forms_from_the_signature(registry):
    register_kernel_spec("two", lambda a, b=1: Uniform())
    register_kernel_spec("many", lambda *args: Uniform())
    register_kernel_spec("explicit", lambda: Uniform(), forms=("explicit", "explicit:X"))
    forms = {n: s.forms for n, s in lk._SPECS.items()}
    assert forms["two"] == ("two:A:[B]",)
    assert forms["many"] == ("many:...",)
    assert forms["explicit"] == ("explicit", "explicit:X")


def test_matrix_spec_keeps_colons_in_paths(tmp_path):
    folder = tmp_path / "a:b"
    folder.mkdir()
    np.save(folder / "q.npy", np.ones((3, 3)))
    k = from_spec(f"matrix:{folder / 'q.npy'}")
    assert k.M == 3 and k.identify().startswith("FromMatrix('q.npy', M=3, sha1=")
