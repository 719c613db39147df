"""The resumable sweep runner: order, records, resume without recomputation, failures, interruptions."""

import csv
import json
import os
import random
from concurrent.futures.process import BrokenProcessPool

import pytest
import sweep_tasks
from sweep_tasks import calls_of

from mcover import sweep

CHEAP = "sweep_tasks:cheap"


def _records(out):
    files = sorted(p for p in os.listdir(out))
    assert not [f for f in files if f.startswith(".")], files  # no temporary file left behind
    return {f[:-5]: json.loads((out / f).read_text()) for f in files if f.endswith(".json")}


def test_grid_product_order_and_size():
    jobs = sweep.expand_grid({"x": [1, 2, 3], "y": (10, 20), "seed": range(2)})
    assert len(jobs) == 12
    assert jobs[:3] == [{"x": 1, "y": 10, "seed": 0}, {"x": 1, "y": 10, "seed": 1},
                        {"x": 1, "y": 20, "seed": 0}]
    assert jobs[-1] == {"x": 3, "y": 20, "seed": 1}
    assert sweep.expand_grid([{"x": 2}, {"x": 1, "y": 3}]) == [{"x": 2}, {"x": 1, "y": 3}]


def test_key_is_stable_and_names_the_task():
    a = sweep.job_key(CHEAP, {"x": 1, "y": 2})
    assert a == sweep.job_key(CHEAP, {"y": 2, "x": 1})
    assert a != sweep.job_key("sweep_tasks:flaky", {"x": 1, "y": 2})
    assert a != sweep.job_key(CHEAP, {"x": 1.0, "y": 2})
    assert len(a) == 16 and int(a, 16) >= 0


@pytest.mark.parametrize("workers", [0, 2])
def test_records_equal_serial_results_and_rerun_skips(tmp_path, workers):
    calls = str(tmp_path / "calls")
    grid = {"x": [1, 2, 3], "y": [4, 5], "seed": [7], "calls": [calls]}
    out = tmp_path / "out"
    s = sweep.run(sweep_tasks.cheap, grid, out, workers=workers, progress=False)
    assert (s.total, s.done, s.skipped, s.failed) == (6, 6, 0, [])
    recs = _records(out)
    assert len(recs) == 6
    for job in sweep.expand_grid(grid):
        key = sweep.job_key(CHEAP, job)
        r = recs[key]
        assert r["key"] == key and r["params"] == job and r["status"] == "ok" and r["attempts"] == 1
        assert r["results"] == json.loads(json.dumps(sweep_tasks.cheap(**{**job, "calls": None})))
        assert r["results"]["draw"] == random.Random(7).random()
        assert set(r["versions"]) == {"mcover", "numpy", "numba", "python"} and r["host"]
        assert r["traceback"] is None and r["seconds"] >= 0
    assert [r["params"] for r in s.records] == sweep.expand_grid(grid)  # grid order
    assert [calls_of(calls, x) for x in (1, 2, 3)] == [2, 2, 2]
    again = sweep.run(CHEAP, grid, out, workers=workers, progress=False)  # by name: the same jobs
    assert (again.done, again.skipped, again.failed) == (0, 6, [])
    assert [calls_of(calls, x) for x in (1, 2, 3)] == [2, 2, 2]  # nothing recomputed
    assert again.records == s.records
    # a larger grid runs only the new jobs
    more = sweep.run(CHEAP, {**grid, "x": [1, 2, 3, 4]}, out, workers=workers, progress=False)
    assert (more.done, more.skipped) == (2, 6)
    assert [calls_of(calls, x) for x in (1, 2, 3, 4)] == [2, 2, 2, 2]


def test_explicit_list_grid(tmp_path):
    jobs = [{"x": 3, "y": 1}, {"x": 1, "y": 2, "seed": 5}]
    s = sweep.run(CHEAP, jobs, tmp_path, workers=0, progress=False)
    assert [r["params"] for r in s.records] == jobs
    assert [r["results"]["xy"] for r in s.records] == [3, 2]
    assert len(_records(tmp_path)) == 2


@pytest.mark.parametrize("workers", [0, 2])
def test_failures_recorded_retried_reported_and_retried_on_rerun(tmp_path, workers):
    calls = str(tmp_path / "calls")
    grid = {"x": [0, 1, 2, 3], "calls": [calls]}
    s = sweep.run(sweep_tasks.flaky, grid, tmp_path / "out", workers=workers, retries=2, progress=False)
    assert (s.done, s.skipped, len(s.failed)) == (2, 0, 2) and not s.ok
    assert [r["params"]["x"] for r in s.failed] == [1, 3]
    for r in s.failed:
        assert r["status"] == "failed" and r["attempts"] == 3 and r["results"] is None
        assert "RuntimeError: odd x=" in r["traceback"] and "Traceback" in r["traceback"]
        assert r["error"].startswith("RuntimeError: odd x=")
    assert [calls_of(calls, x) for x in range(4)] == [1, 3, 1, 3]  # 1 + retries attempts
    recs = _records(tmp_path / "out")
    assert sorted(r["status"] for r in recs.values()) == ["failed", "failed", "ok", "ok"]
    again = sweep.run(sweep_tasks.flaky, grid, tmp_path / "out", workers=workers, retries=0, progress=False)
    assert (again.done, again.skipped, len(again.failed)) == (0, 2, 2)
    assert [calls_of(calls, x) for x in range(4)] == [1, 4, 1, 4]  # failed jobs ran again, once
    assert [r["attempts"] for r in again.failed] == [4, 4]  # the count continues


def test_failed_job_that_heals_on_rerun(tmp_path):
    marker = str(tmp_path / "healed")
    grid = {"x": [0, 1], "marker": [marker]}
    s = sweep.run(sweep_tasks.heal, grid, tmp_path / "out", workers=0, retries=0, progress=False)
    assert len(s.failed) == 1
    open(marker, "w").close()
    s = sweep.run(sweep_tasks.heal, grid, tmp_path / "out", workers=0, progress=False)
    assert (s.done, s.skipped, s.failed, s.ok) == (1, 1, [], True)
    assert [r["attempts"] for r in s.records] == [1, 2]


def test_killed_worker_loses_only_jobs_in_flight_and_resume_completes(tmp_path):
    calls, marker, out = str(tmp_path / "calls"), str(tmp_path / "killed"), tmp_path / "out"
    grid = {"x": [1, 2, 3, 4, 5, 6, 7, 8], "marker": [marker], "calls": [calls]}
    with pytest.raises(BrokenProcessPool, match="rerunning resumes"):
        sweep.run(sweep_tasks.killer, grid, out, workers=2, progress=False)
    first = _records(out)
    assert first and all(r["status"] == "ok" for r in first.values())
    assert len(first) < 8
    done_x = {r["params"]["x"] for r in first.values()}
    counts = {x: calls_of(calls, x) for x in grid["x"]}
    s = sweep.run(sweep_tasks.killer, grid, out, workers=2, progress=False)
    assert (s.skipped, s.done, s.failed) == (len(first), 8 - len(first), [])
    recs = _records(out)
    assert len(recs) == 8  # every job exactly once
    assert sorted(r["params"]["x"] for r in recs.values()) == grid["x"]
    for x in done_x:  # jobs finished before the crash were not computed again
        assert calls_of(calls, x) == counts[x] == 1
    for k, r in first.items():
        assert recs[k] == r


@pytest.mark.parametrize("workers", [0, 2])
def test_keyboard_interrupt_keeps_finished_jobs(tmp_path, workers):
    calls, marker, out = str(tmp_path / "calls"), str(tmp_path / "stop"), tmp_path / "out"
    grid = {"x": [0, 1, 2, 3, 4], "marker": [marker], "calls": [calls]}
    with pytest.raises(KeyboardInterrupt):
        sweep.run(sweep_tasks.interrupt, grid, out, workers=workers, progress=False)
    first = _records(out)
    assert all(r["status"] == "ok" for r in first.values())
    if workers == 0:  # serial: exactly the jobs before the interrupted one
        assert sorted(r["params"]["x"] for r in first.values()) == [0, 1]
    s = sweep.run(sweep_tasks.interrupt, grid, out, workers=workers, progress=False)
    assert s.ok and s.skipped == len(first) and s.done == 5 - len(first)
    assert len(_records(out)) == 5
    for r in first.values():
        assert calls_of(calls, r["params"]["x"]) == 1


def test_collect_and_export_round_trip(tmp_path):
    out = tmp_path / "out"
    sweep.run(CHEAP, {"x": [10, 2], "y": [3], "seed": [1]}, out, workers=0, progress=False)
    sweep.run(sweep_tasks.flaky, {"x": [1]}, out, workers=0, retries=0, progress=False)
    rows = sweep.collect(out, csv=tmp_path / "t.csv", jsonl=tmp_path / "t.jsonl")
    assert len(rows) == 3
    cheap = sweep.collect(out, task=CHEAP)
    assert [(r["x"], r["xy"], r["status"]) for r in cheap] == [(2, 6, "ok"), (10, 30, "ok")]
    assert list(cheap[0]) == ["key", "task", "status", "seconds", "attempts", "error",
                              "x", "y", "seed", "xy", "draw", "tag", "pair"]
    failed = sweep.collect(out, task="sweep_tasks:flaky")
    assert failed[0]["status"] == "failed" and failed[0]["error"] == "RuntimeError: odd x=1"
    assert [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()] == rows
    back = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert len(back) == 3
    for r, b in zip(rows, back):
        for k, v in r.items():
            want = json.dumps(v) if isinstance(v, list) else ("" if v is None else str(v))
            assert b[k] == want
        assert set(b) - set(r) <= {"xy", "draw", "tag", "pair", "half", "seed", "y"}
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]


def test_result_named_like_a_parameter_is_prefixed(tmp_path):
    sweep.run(sweep_tasks.heal, {"x": [0], "marker": ["m"]}, tmp_path, workers=0, progress=False)
    (row,) = sweep.collect(tmp_path)
    assert row["x"] == 0 and row["result_x"] == 0


@pytest.mark.parametrize(
    ("task", "grid", "exc", "match"),
    [
        ("sweep_tasks:nope", {"x": [1]}, ValueError, "has no attribute 'nope'"),
        ("no_such_module_xyz:f", {"x": [1]}, ValueError, "cannot import module 'no_such_module_xyz'"),
        ("sweep_tasks", {"x": [1]}, ValueError, "'module:function'"),
        (lambda x: {"x": x}, {"x": [1]}, ValueError, "not importable"),
        (42, {"x": [1]}, TypeError, "42"),
        (CHEAP, {"x": [1], "y": [2], "z": [3]}, ValueError, "'z' .*value 3.*not a parameter"),
        (CHEAP, {"x": [1]}, ValueError, r"requires parameter\(s\) \['y'\]"),
        (CHEAP, {}, ValueError, "grid is empty"),
        (CHEAP, [], ValueError, "empty list of jobs"),
        (CHEAP, [{"x": 1, "y": 2}, {}], ValueError, r"grid\[1\] is an empty dict"),
        (CHEAP, {"x": [1], "y": []}, ValueError, r"grid\['y'\] is an empty list"),
        (CHEAP, {"x": [1], "y": 2}, TypeError, r"grid\['y'\] = 2 is not a list"),
        (CHEAP, {"x": [1], "y": "ab"}, TypeError, r"grid\['y'\] = 'ab' is not a list"),
        (CHEAP, [{"x": 1, "y": 2}, 5], TypeError, r"grid\[1\] = 5 is not a dict"),
        (CHEAP, {"x": [1, 1], "y": [2]}, ValueError, "are the same"),
        (CHEAP, {"x": [object()], "y": [2]}, TypeError, "parameter 'x' = <object"),
        (CHEAP, 7, TypeError, "dict of lists or a list of dicts"),
    ],
)
def test_bad_input_is_named(tmp_path, task, grid, exc, match):
    with pytest.raises(exc, match=match):
        sweep.run(task, grid, tmp_path / "out", workers=0, progress=False)
    assert not (tmp_path / "out").exists()  # nothing was launched or created


def test_kwargs_task_accepts_any_parameter(tmp_path):
    s = sweep.run(sweep_tasks.takes_kwargs, {"a": [1], "b": [2, 3]}, tmp_path, workers=0, progress=False)
    assert [r["results"]["n"] for r in s.records] == [2, 2]


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="retries=-1"):
        sweep.run(CHEAP, {"x": [1], "y": [1]}, tmp_path, retries=-1)
    with pytest.raises(ValueError, match="workers=-2"):
        sweep.run(CHEAP, {"x": [1], "y": [1]}, tmp_path, workers=-2)
    with pytest.raises(TypeError, match="scheduler=3 is neither"):
        sweep.run(CHEAP, {"x": [1], "y": [1]}, tmp_path, scheduler=3)


def test_unwritable_out_is_refused_before_any_job(tmp_path):
    calls = str(tmp_path / "calls")
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="out=.*file.*not a writable folder"):
        sweep.run(CHEAP, {"x": [1], "y": [1], "calls": [calls]}, afile, workers=0, progress=False)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: a read-only folder is writable")
        with pytest.raises(ValueError, match="out=.*ro.*not a writable folder"):
            sweep.run(CHEAP, {"x": [1], "y": [1], "calls": [calls]}, ro, workers=0, progress=False)
    finally:
        ro.chmod(0o700)
    assert calls_of(calls, 1) == 0


@pytest.mark.parametrize("workers", [0, 2])
def test_non_json_result_is_a_type_error_and_recorded(tmp_path, workers):
    with pytest.raises(TypeError, match="result 'obj' = <object .* is not JSON-serialisable"):
        sweep.run(sweep_tasks.bad_result, {"x": [1]}, tmp_path, workers=workers, progress=False)
    (rec,) = _records(tmp_path).values()
    assert rec["status"] == "failed" and "not JSON-serialisable" in rec["error"]
    with pytest.raises(TypeError, match=r"returned \[1\] \(list\), not a dict"):
        sweep.run(sweep_tasks.not_a_dict, {"x": [1]}, tmp_path, workers=0, progress=False)


def test_progress_bar_draws_on_a_terminal(tmp_path, monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    monkeypatch.setattr("sys.stderr", err)
    sweep.run(sweep_tasks.flaky, {"x": [0, 1, 2]}, tmp_path / "a", workers=0, retries=0)
    assert "3/3" in err.getvalue() and "failed 1" in err.getvalue()
    err2 = Tty()
    monkeypatch.setattr("sys.stderr", err2)
    sweep.run(sweep_tasks.flaky, {"x": [0, 1, 2]}, tmp_path / "b", workers=0, retries=0, progress=False)
    assert err2.getvalue() == ""


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                       dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    yield cluster, client
    client.close()
    cluster.close()


def test_dask_scheduler_same_records_resume_and_retries(tmp_path, dask_cluster):
    cluster, client = dask_cluster
    assert cluster.scheduler_address.startswith("tcp://")
    calls = str(tmp_path / "calls")
    grid = {"x": [1, 2, 3], "y": [4], "seed": [7], "calls": [calls]}
    serial = sweep.run(CHEAP, grid, tmp_path / "serial", workers=0, progress=False)
    s = sweep.run(CHEAP, grid, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert (s.done, s.skipped, s.failed) == (3, 0, [])
    assert [r["results"] for r in s.records] == [r["results"] for r in serial.records]
    assert set(_records(tmp_path / "dask")) == set(_records(tmp_path / "serial"))
    again = sweep.run(CHEAP, grid, tmp_path / "dask", scheduler=client, progress=False)
    assert (again.done, again.skipped) == (0, 3)
    assert [calls_of(calls, x) for x in (1, 2, 3)] == [2, 2, 2]  # serial + dask, no recomputation
    f = sweep.run(sweep_tasks.flaky, {"x": [0, 1], "calls": [calls + "f"]}, tmp_path / "f", scheduler=client,
                  retries=2, progress=False)
    assert [r["attempts"] for r in f.failed] == [3] and "odd x=1" in f.failed[0]["traceback"]
    assert calls_of(calls + "f", 1) == 3


def test_dask_unreachable_scheduler_is_named(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep, "DASK_CONNECT_TIMEOUT", "0.5s")
    with pytest.raises(ValueError, match="scheduler='tcp://127.0.0.1:9'"):
        sweep.run(CHEAP, {"x": [1], "y": [1]}, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)
