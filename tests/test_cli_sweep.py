"""``mcover sweep``: the example specs, resuming, --collect, bad specs, workers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from runners import EXAMPLES, cli, cli_json

from mcover import sweep_tasks
from mcover.cli_sweep import load_spec
from mcover.sweep import collect, expand_grid

SPECS = sorted((EXAMPLES / "sweeps").glob("*.*"))


def test_one_example_spec_per_builtin_task():
    tasks = {}
    for path in SPECS:
        name, _, description = load_spec(path)
        assert description, path
        tasks[name.split(":")[1]] = path
    assert set(tasks) == set(sweep_tasks.BUILTIN), sorted(tasks)
    assert {p.suffix for p in SPECS} == {".json", ".toml"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_example_spec(capsys, tmp_path, spec):
    name, grid, _ = load_spec(spec)
    fn = sweep_tasks.BUILTIN[name.split(":")[1]]
    jobs = expand_grid(grid)
    out = cli_json(capsys, "sweep", spec, "--out", tmp_path, "--workers", 1)
    assert (out["total"], out["done"], out["skipped"], out["failed"], out["ok"]) == (len(jobs), len(jobs), 0,
                                                                                     0, True)
    assert out["task"] == name and out["failures"] == []
    records = [json.loads(f.read_text()) for f in tmp_path.glob("*.json")]
    assert len(records) == len(jobs)
    by_params = {json.dumps(r["params"], sort_keys=True): r for r in records}
    for job in jobs:
        rec = by_params[json.dumps(job, sort_keys=True)]
        assert rec["status"] == "ok"
        assert rec["results"] == json.loads(json.dumps(fn(**job)))  # equal to a direct call
    again = cli_json(capsys, "sweep", spec, "--out", tmp_path, "--workers", 1)
    assert (again["done"], again["skipped"], again["failed"]) == (0, len(jobs), 0)


def test_table_and_collect(capsys, tmp_path):
    spec = EXAMPLES / "sweeps" / "se.toml"
    code, out, _ = cli(capsys, "sweep", spec, "--out", tmp_path / "r", "--workers", 0)
    assert code == 0
    assert "10 jobs: 10 done, 0 skipped" in out and "records in" in out
    code, out, _ = cli(capsys, "sweep", spec, "--out", tmp_path / "r", "--workers", 0)
    assert "0 done, 10 skipped" in out
    code, out, _ = cli(capsys, "sweep", "--collect", tmp_path / "r", "--csv", tmp_path / "t.csv",
                       "--jsonl", tmp_path / "t.jsonl")
    assert code == 0
    lines = out.splitlines()
    assert "10 records (10 ok, 0 failed)" in lines[0]
    assert lines[2].split()[:4] == ["status", "alpha", "prior", "channel"]
    assert sum(1 for line in lines if line.strip().startswith("ok ")) == 10
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    back = [json.loads(line) for line in open(tmp_path / "t.jsonl")]
    table = collect(tmp_path / "r")
    assert back == table and len(rows) == 10
    assert [float(r["q"]) for r in rows] == [r["q"] for r in table]
    j = cli_json(capsys, "sweep", "--collect", tmp_path / "r")
    assert j["rows"] == table and j["total"] == 10 and j["failed"] == 0
    assert j["tasks"] == ["mcover.sweep_tasks:se"]


def test_failures_exit_1_and_are_listed(capsys, tmp_path):
    spec = tmp_path / "f.json"
    grid = {"alpha": [1.0, 2.0], "prior": ["binary", "nonsense"]}
    spec.write_text(json.dumps({"task": "se", "grid": grid}))
    code, out, _ = cli(capsys, "sweep", spec, "--out", tmp_path / "r", "--workers", 0, "--retries", 0)
    assert code == 1
    assert "2 failed" in out and "failed jobs" in out and "nonsense" in out
    code, out, _ = cli(capsys, "sweep", spec, "--out", tmp_path / "r", "--workers", 0, "--json")
    res = json.loads(out)
    assert code == 1 and res["skipped"] == 2 and res["failed"] == 2 and not res["ok"]
    assert all(f["attempts"] == 3 and "nonsense" in f["error"] for f in res["failures"])
    code, out, _ = cli(capsys, "sweep", "--collect", tmp_path / "r")
    assert code == 0 and "(2 ok, 2 failed)" in out and out.count("failed ") >= 2


def test_workers_2_equals_workers_1(capsys, tmp_path):
    spec = EXAMPLES / "sweeps" / "quant.toml"
    one = cli_json(capsys, "sweep", spec, "--out", tmp_path / "a", "--workers", 1)
    two = cli_json(capsys, "sweep", spec, "--out", tmp_path / "b", "--workers", 2)
    assert one["done"] == two["done"] == 9
    drop = ("seconds",)
    a = [{k: v for k, v in r.items() if k not in drop} for r in collect(tmp_path / "a")]
    b = [{k: v for k, v in r.items() if k not in drop} for r in collect(tmp_path / "b")]
    assert a == b


def _bad(capsys, tmp_path, name: str, text: str | None, *extra) -> str:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    code, out, err = cli(capsys, "sweep", path, "--out", tmp_path / "out", *extra)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("name, text, words", [
    ("missing.json", None, ["does not exist"]),
    ("s.yaml", "task: se", ["extension", ".json or .toml"]),
    ("s.json", "{task: se", ["not valid JSON"]),
    ("s.toml", "task = [", ["not valid TOML"]),
    ("s.json", "[1, 2]", ["one object"]),
    ("s.json", '{"grid": {"alpha": [1.0]}}', ["no 'task'"]),
    ("s.json", '{"task": "se"}', ["no 'grid'"]),
    ("s.json", '{"task": "nope", "grid": {"alpha": [1.0]}}', ["unknown task 'nope'", "se"]),
    ("s.json", '{"task": "no_such_module:f", "grid": {"alpha": [1.0]}}', ["cannot import"]),
    ("s.json", '{"task": "se", "grid": {"alpha": 1.0}}', ["grid", "not a list"]),
    ("s.json", '{"task": "se", "grid": {"alpha": []}}', ["empty"]),
    ("s.json", '{"task": "se", "grid": 3}', ["grid must be"]),
    ("s.json", '{"task": "se", "grid": {"alpha": [1.0], "gamma": [2]}}', ["'gamma'", "not a parameter"]),
    ("s.json", '{"task": "se", "grid": {"prior": ["binary"]}}', ["requires", "alpha"]),
    ("s.json", '{"task": "se", "grid": {"alpha": [1.0]}, "extra": 1}', ["unknown key", "extra"]),
])
def test_bad_spec_exits_2_naming_the_problem(capsys, tmp_path, name, text, words):
    err = _bad(capsys, tmp_path, name, text)
    assert "mcover sweep: error: SPEC" in err and name in err
    for w in words:
        assert w in err, (w, err)
    assert not (tmp_path / "out").exists()  # nothing ran


@pytest.mark.parametrize("argv, words", [
    ([], ["SPEC"]),
    (["SPEC"], ["--out"]),
    (["--collect", "DIR", "--workers", "2"], ["--workers", "--collect"]),
    (["SPEC", "--out", "OUT", "--retries", "-1"], ["--retries"]),
    (["SPEC", "--out", "OUT", "--workers", "-1"], ["--workers"]),
    (["SPEC", "--out", "OUT", "--scheduler", "localhost"], ["--scheduler"]),
    (["--collect", "NOPE"], ["not a folder"]),
])
def test_bad_options_exit_2(capsys, tmp_path, argv, words):
    spec = EXAMPLES / "sweeps" / "se.toml"
    subst = {"SPEC": spec, "OUT": tmp_path / "o", "DIR": tmp_path, "NOPE": tmp_path / "nope"}
    code, out, err = cli(capsys, "sweep", *[subst.get(a, a) for a in argv])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    for w in words:
        assert w in err, (w, err)


def test_module_function_task_and_list_grid(capsys, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('task = "mcover.sweep:demo_task"\n[[grid]]\nx = 2\ny = 3\n[[grid]]\nx = 1\ny = 5\n')
    out = cli_json(capsys, "sweep", spec, "--out", tmp_path / "r", "--workers", 0,
                   "--csv", tmp_path / "t.csv")
    assert out["done"] == 2 and out["csv"] == str(tmp_path / "t.csv") and out["description"] is None
    assert [r["product"] for r in collect(tmp_path / "r")] == [5, 6]
    assert Path(out["csv"]).read_text().count("\n") == 3


def test_toml_without_tomllib_says_so(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10 without tomli
    monkeypatch.setitem(sys.modules, "tomli", None)
    spec = tmp_path / "s.toml"
    spec.write_text('task = "se"\n[grid]\nalpha = [1.0]\n')
    with pytest.raises(ValueError, match="needs Python >= 3.11 or the tomli package"):
        load_spec(spec)


def test_scheduler_equals_local(capsys, tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = EXAMPLES / "sweeps" / "quant.toml"
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                       dashboard_address=None)
    try:
        out = cli_json(capsys, "sweep", spec, "--out", tmp_path / "d", "--scheduler",
                       cluster.scheduler_address)
    finally:
        cluster.close()
    assert out["done"] == 9 and out["ok"]
    cli_json(capsys, "sweep", spec, "--out", tmp_path / "l", "--workers", 0)
    drop = ("seconds",)
    a = [{k: v for k, v in r.items() if k not in drop} for r in collect(tmp_path / "d")]
    b = [{k: v for k, v in r.items() if k not in drop} for r in collect(tmp_path / "l")]
    assert a == b
