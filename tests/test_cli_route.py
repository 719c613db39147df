"""``mcover route``: JSON keys and shapes, bit-equality with lifts.route, table, plot, progress, bad input."""

import io

import numpy as np
import pytest
from runners import cli, cli_json

from mcover.cli_route import TRAIN_SEED_OFFSET, Progress

SMALL = ("--n", "51", "--epochs", "3", "--seeds", "2", "--M", "4")


def run(capsys, *argv):
    return cli(capsys, "route", *argv)


def run_json(capsys, *argv) -> dict:
    return cli_json(capsys, "route", *argv)


def test_json_keys_and_shapes(capsys):
    d = run_json(capsys, *SMALL)
    assert d["model"] == "perceptron" and d["rule"] == "clipped" and d["kernel"] == "Ring(width=1)"
    assert (d["M"], d["n"], d["alpha"], d["p"], d["epochs"], d["seeds"]) == (4, 51, 2.0, 102, 3, 2)
    assert d["granularity"] == "weight" and d["dynamic"] is False and d["n_test"] == 10_000
    assert d["K"] is None and d["dataset"] is None and d["baseline"] is False
    assert len(d["runs"]) == 2
    for s, r in enumerate(d["runs"]):
        assert (r["seed"], r["problem_seed"], r["train_seed"]) == (s, s, TRAIN_SEED_OFFSET + s)
        assert len(r["copy_errors"]) == 4 and all(0 <= e <= 1 for e in r["copy_errors"])
        assert r["mean_copy_error"] == pytest.approx(np.mean(r["copy_errors"]), abs=1e-15)
        assert 0 <= r["ensemble_error"] <= 1 and 0 <= r["routed_error"] <= 1
        assert len(r["train_errors"]) == len(r["gen_errors"]) == 3
        assert r["gen_errors"][-1] == pytest.approx(r["mean_copy_error"], abs=1e-15)
        assert "baseline_error" not in r
    sm = d["summary"]
    vals = [r["ensemble_error"] for r in d["runs"]]
    assert sm["ensemble_error"] == pytest.approx(np.mean(vals))
    assert sm["ensemble_error_sem"] == pytest.approx(np.std(vals, ddof=1) / np.sqrt(2))
    assert set(sm) == {f"{k}{x}" for k in ("mean_copy_error", "ensemble_error", "routed_error")
                       for x in ("", "_sem")}
    one = run_json(capsys, "--n", "51", "--epochs", "2", "--seeds", "1", "--M", "2")
    assert one["summary"]["mean_copy_error_sem"] is None  # one seed: no standard error


@pytest.mark.parametrize("extra", [(), ("--kernel", "uniform", "--granularity", "neuron"), ("--dynamic",),
                                   ("--rule", "sbpi", "--kernel", "shift")])
def test_equals_route_called_directly(capsys, extra):
    from algorithms.learning import Perceptron
    from fgraph.problems import perceptron
    from lifts import from_spec, route

    d = run_json(capsys, *SMALL, *extra)
    opts = dict(zip(extra[::2], extra[1::2])) if "--dynamic" not in extra else {}
    for s, r in enumerate(d["runs"]):
        prob = perceptron(51, 2.0, seed=s, graph=False)
        res = route(prob, Perceptron(rule=opts.get("--rule", "clipped")), 4,
                    from_spec(opts.get("--kernel", "ring:1")), epochs=3, seed=TRAIN_SEED_OFFSET + s,
                    granularity=opts.get("--granularity", "weight"), dynamic="--dynamic" in extra)
        assert r["copy_errors"] == res.copy_gen_errors.tolist()  # bit-equal
        assert r["ensemble_error"] == res.ensemble_error and r["routed_error"] == res.routed_error
        assert r["train_errors"] == res.history["errors"].mean(axis=1).tolist()
    assert d["dynamic"] is ("--dynamic" in extra)


def test_committee_with_K_and_baseline(capsys):
    from algorithms.learning import Committee, train
    from fgraph.problems import committee
    from lifts import route

    d = run_json(capsys, "--model", "committee", "--K", "3", *SMALL, "--n-test", "500", "--baseline",
                 "--dynamic")
    assert d["model"] == "committee" and d["K"] == 3 and d["rule"] == "least_action" and d["dynamic"]
    assert d["n_test"] == 500 and d["baseline"] is True and "baseline_error_sem" in d["summary"]
    prob = committee(51, 2.0, 3, seed=1, graph=False)
    res = route(prob, Committee(3), 4, "ring:1", epochs=3, seed=TRAIN_SEED_OFFSET + 1, dynamic=True,
                n_test=500)
    r = d["runs"][1]
    assert r["copy_errors"] == res.copy_gen_errors.tolist() and r["ensemble_error"] == res.ensemble_error
    assert "gen_errors" not in r  # no closed form for the committee
    # the single model is train() with the training seed, scored on route's fresh test set
    one = train(prob, Committee(3), epochs=3, seed=TRAIN_SEED_OFFSET + 1)
    assert one.params["h"].shape == (3, 51) and 0 <= r["baseline_error"] <= 1


@pytest.mark.parametrize("model", ["perceptron", "committee"])
def test_baseline_is_copy_zero_under_identity(capsys, model):
    # with the identity kernel copy 0 is train(..., seed) bit for bit, on the same test data
    d = run_json(capsys, "--model", model, *SMALL, "--kernel", "identity", "--baseline", "--n-test", "300")
    for r in d["runs"]:
        assert r["baseline_error"] == r["copy_errors"][0]


def test_table_and_plot(capsys, tmp_path):
    png = tmp_path / "route.png"
    code, out, err = run(capsys, *SMALL, "--baseline", "--plot", png)
    assert code == 0 and png.stat().st_size > 5_000
    assert "Ring(width=1)" in out and "ensemble" in out and "± sem" in out and str(png) in out
    lines = out.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("seed"))
    assert lines[head + 1].split()[:2] == ["0", str(TRAIN_SEED_OFFSET)]
    assert lines[head + 2].split()[:2] == ["1", str(TRAIN_SEED_OFFSET + 1)]
    assert lines[head + 4].split()[0] == "mean"
    assert err == ""  # stderr is not a terminal here: no progress bar
    d = run_json(capsys, *SMALL, "--plot", png)
    assert d["plot"] == str(png)


def test_progress_bar_on_a_terminal(capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    d = run_json(capsys, *SMALL, "--baseline")
    assert d["seeds"] == 2
    text = tty.getvalue()
    assert "12/12" in text and "\r" in text  # 2 seeds x 3 epochs x (routed + baseline)
    bar = Progress(3, stream=io.StringIO())
    assert not bar.enabled  # not a terminal
    bar.tick()
    bar.close()
    assert bar.stream.getvalue() == "" and bar.done == 1


def test_mlp(capsys):
    pytest.importorskip("algorithms.learning.mlp")
    datasets = pytest.importorskip("algorithms.learning.datasets")
    from algorithms.learning.mlp import MLP
    from lifts import route

    d = run_json(capsys, "--model", "mlp", "--hidden", "8", "--epochs", "2", "--seeds", "1", "--M", "3")
    assert d["granularity"] == "neuron" and d["n"] is None and d["alpha"] is None and d["rule"] == "sgd"
    data = datasets.digits_or_teacher(seed=0)
    assert d["dataset"] == data.source and d["n_test"] == len(data.y_test) and d["p"] == len(data.y_train)
    res = route(data.train, MLP(hidden=8, n_classes=data.n_classes), 3, "ring:1", epochs=2,
                seed=TRAIN_SEED_OFFSET, granularity="neuron", test=data.test)
    r = d["runs"][0]
    assert r["copy_errors"] == res.copy_gen_errors.tolist() and r["ensemble_error"] == res.ensemble_error
    code, _, err = run(capsys, "--model", "mlp", "--alpha", "2")
    assert code == 2 and "--alpha" in err and "mlp" in err


@pytest.mark.parametrize("argv, word", [
    (("--M", "0"), "--M"),
    (("--kernel", "spiral:2"), "spiral"),
    (("--kernel", "block:3:0.1"), "--kernel"),
    (("--model", "resnet"), "--model"),
    (("--rule", "hebb"), "--rule"),
    (("--model", "committee", "--rule", "sbpi"), "--rule"),
    (("--granularity", "layer"), "--granularity"),
    (("--epochs", "0"), "--epochs"),
    (("--seeds", "0"), "--seeds"),
    (("--alpha", "0"), "--alpha"),
    (("--alpha", "-1.5"), "--alpha"),
    (("--n", "0"), "--n"),
    (("--n-test", "0"), "--n-test"),
    (("--K", "3"), "--K"),
    (("--model", "committee", "--K", "2"), "--K"),
    (("--hidden", "4"), "--hidden"),
])
def test_bad_input_exits_2(capsys, argv, word):
    code, out, err = run(capsys, "--epochs", "1", "--seeds", "1", "--n", "21", *argv)
    assert code == 2 and out == ""
    assert word in err and err.startswith("mcover route: error:") and len(err.strip().splitlines()) == 1
