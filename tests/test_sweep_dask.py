"""The sweep's Dask path on a real cluster: a scheduler and two workers started as separate processes
by the ``dask scheduler`` and ``dask worker`` programs, one worker killed (SIGKILL) mid-sweep.

Every process is started in its own session (so its process group holds the worker's nanny and the
worker it spawns) and the fixture's finalizer kills the groups, so that no process outlives a test.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

import sweep_tasks  # noqa: E402 (after the skip: workers import it by name from tests/)

from mcover import sweep  # noqa: E402

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SLOW = "sweep_tasks:slow"
START_TIMEOUT = 60  # seconds for the scheduler and both workers to come up


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_program() -> str:
    # The `dask` program of this interpreter's environment first (a venv need not be on PATH).
    exe = Path(sys.executable).with_name("dask")
    found = str(exe) if exe.exists() else shutil.which("dask")
    if not found:
        pytest.skip("the `dask` command-line program is not installed")
    return found


def _tail(path: Path, n: int = 2000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


def _kill_group(proc: subprocess.Popen) -> None:
    # start_new_session=True made proc.pid the group id; the group outlives a dead leader.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def cluster(tmp_path):
    """``(address, client, workers)``: a scheduler and two one-thread workers, each its own process group."""
    dask = _dask_program()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    # The workers import the task (tests/sweep_tasks.py) and mcover by name.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(TESTS), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    procs: list[subprocess.Popen] = []
    client = None

    def start(name, args):
        log = open(logs / f"{name}.log", "wb")  # closed right after the start, below
        try:
            proc = subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=tmp_path, start_new_session=True)
        finally:
            log.close()  # the child holds its own descriptor
        procs.append(proc)
        return proc

    def all_logs():
        return "\n".join(f"--- {p.name}\n{_tail(p)}" for p in sorted(logs.iterdir()))

    try:
        start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                            "--scheduler-file", str(tmp_path / "scheduler.json")])
        workers = [
            start(f"worker{i}", ["worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                 "--nworkers", "1", "--no-dashboard", "--death-timeout", "30",
                                 "--local-directory", str(tmp_path / f"w{i}")])
            for i in range(2)
        ]
        deadline = time.monotonic() + START_TIMEOUT
        while not (tmp_path / "scheduler.json").exists():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail(f"the dask scheduler did not start\n{all_logs()}")
            time.sleep(0.05)
        client = distributed.Client(address, timeout="20s", set_as_default=False)
        try:
            client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError:
            pytest.fail(f"the two dask workers did not join\n{all_logs()}")
        yield address, client, workers
    finally:
        if client is not None:
            client.close(timeout=5)
        for proc in procs:
            _kill_group(proc)
        for proc in procs:
            proc.wait(timeout=30)


def _records(out: Path) -> dict:
    files = sorted(os.listdir(out))
    assert not [f for f in files if f.startswith(".")], files  # no temporary file left behind
    return {f[:-5]: json.loads((out / f).read_text()) for f in files if f.endswith(".json")}


@pytest.mark.slow
def test_killed_worker_jobs_are_rescheduled_and_recorded_once(tmp_path, cluster):
    address, client, workers = cluster
    calls = str(tmp_path / "calls")
    grid = {"x": list(range(15)), "seed": [0, 1], "delay": [0.08], "calls": [calls]}
    jobs = sweep.expand_grid(grid)
    n = len(jobs)
    out = tmp_path / "dask"
    victim = workers[0]
    # The worker process inside the victim's group (the nanny's child) is the one that runs tasks.
    pid_of = {pgid: pid for pgid, pid in client.run(lambda: (os.getpgrp(), os.getpid())).values()}
    assert set(pid_of) == {w.pid for w in workers}
    victim_pid = pid_of[victim.pid]
    at_kill = {}

    def kill_after_a_few_records():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = len(list(out.glob("*.json"))) if out.is_dir() else 0
            if done >= 4:
                at_kill["records"] = done
                os.killpg(victim.pid, signal.SIGKILL)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_after_a_few_records, daemon=True)
    killer.start()
    t0 = time.monotonic()
    s = sweep.run(SLOW, grid, out, scheduler=address, progress=False)
    wall = time.monotonic() - t0
    killer.join(timeout=5)

    # The kill happened mid-sweep and the cluster lost that worker for good (its nanny died too).
    assert 4 <= at_kill.get("records", n) < n, (at_kill, wall)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert len(client.scheduler_info()["workers"]) == 1

    # The sweep completed anyway: Dask reran the lost tasks on the surviving worker.
    assert (s.total, s.done, s.skipped, s.failed, s.ok) == (n, n, 0, [], True)
    recs = _records(out)
    keys = [sweep.job_key(SLOW, job) for job in jobs]
    assert sorted(recs) == sorted(keys)  # every job exactly once (one file per key)
    for key, job in zip(keys, jobs):
        r = recs[key]
        assert r["key"] == key and r["params"] == job and r["status"] == "ok" and r["error"] is None
        # A task rerun by Dask after its worker died is not a failed attempt of the sweep.
        assert r["attempts"] == 1
    assert [r["params"] for r in s.records] == jobs

    # Both workers ran jobs; each job ran at least once (twice if it was in flight on the victim).
    ran_by = {}
    for f in os.listdir(calls):
        x, pid, _ = f.split("-")
        ran_by.setdefault(int(x), []).append(int(pid))
    assert all(len(ran_by[x]) >= 2 for x in grid["x"])  # two seeds per x
    pids = {p for ps in ran_by.values() for p in ps}
    assert victim_pid in pids and len(pids) == 2, (pids, victim_pid)

    # The same grid on the local pool gives the same records' keys and results.
    pool = sweep.run(SLOW, grid, tmp_path / "pool", workers=2, progress=False)
    assert pool.ok
    assert sorted(_records(tmp_path / "pool")) == sorted(recs)
    assert [r["results"] for r in pool.records] == [r["results"] for r in s.records]
    assert [r["results"] for r in s.records] == [
        json.loads(json.dumps(sweep_tasks.slow(**{**job, "delay": 0, "calls": None}))) for job in jobs
    ]


def test_unreachable_scheduler_is_a_value_error_within_the_timeout(tmp_path, monkeypatch):
    # Nothing listens on the port: Dask retries the connection until the timeout, then gives up.
    monkeypatch.setattr(sweep, "DASK_CONNECT_TIMEOUT", "1s")
    address = f"tcp://127.0.0.1:{_free_port()}"
    calls = str(tmp_path / "calls")
    t0 = time.monotonic()
    with pytest.raises(ValueError, match=f"scheduler='{address}': cannot connect to a Dask scheduler"):
        sweep.run(SLOW, {"x": [1], "calls": [calls]}, tmp_path / "out", scheduler=address, progress=False)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, elapsed  # the timeout is 1 s; Dask may take a little more to give up
    assert not os.path.exists(calls)  # no job ran
    assert not [f for f in os.listdir(tmp_path / "out") if f.endswith(".json")]


@pytest.mark.slow
def test_silent_scheduler_is_a_value_error_within_the_timeout(tmp_path, monkeypatch):
    # A socket that accepts TCP connections (in the kernel's backlog) but never speaks, as a wrong
    # service or a hung scheduler would.  The sweep runs in a thread so that a hang fails the test
    # instead of hanging it; closing the listener afterwards resets the connection and frees it.
    monkeypatch.setattr(sweep, "DASK_CONNECT_TIMEOUT", "1s")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    outcome = []

    def attempt():
        try:
            sweep.run(SLOW, {"x": [1]}, tmp_path / "out", scheduler=address, progress=False)
        except BaseException as err:  # handed to the test's thread
            outcome.append(err)

    thread = threading.Thread(target=attempt, daemon=True)
    try:
        thread.start()
        thread.join(timeout=5)
        hung = thread.is_alive()
    finally:
        listener.close()
        thread.join(timeout=10)
    assert not hung, "run() still connecting 5 s after a 1 s connect timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError), outcome
    assert "cannot connect to a Dask scheduler" in str(outcome[0])


@pytest.mark.slow
def test_cli_scheduler_option_on_the_real_cluster_with_a_killed_worker(tmp_path, cluster):
    """As a user would: ``mcover sweep SPEC --out DIR --scheduler tcp://...`` in its own process,
    one worker SIGKILLed mid-sweep; every record present once and equal to the local pool's."""
    address, client, workers = cluster
    calls = str(tmp_path / "calls")
    grid = {"x": list(range(12)), "seed": [0, 1], "delay": [0.08], "calls": [calls]}
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"task": SLOW, "grid": grid}))
    out = tmp_path / "cli"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(TESTS), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen([sys.executable, "-m", "mcover", "sweep", str(spec), "--out", str(out),
                             "--scheduler", address, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    killed_at = None
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        done = len(list(out.glob("*.json"))) if out.is_dir() else 0
        if killed_at is None and done >= 4:
            os.killpg(workers[1].pid, signal.SIGKILL)
            killed_at = done
        time.sleep(0.01)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-2000:]
    n = len(sweep.expand_grid(grid))
    assert killed_at is not None and 4 <= killed_at < n, killed_at
    assert len(client.scheduler_info()["workers"]) == 1
    report = json.loads(stdout)
    assert (report["total"], report["done"], report["failed"], report["ok"]) == (n, n, 0, True)
    recs = _records(out)
    keys = [sweep.job_key(SLOW, job) for job in sweep.expand_grid(grid)]
    assert sorted(recs) == sorted(keys) and all(r["status"] == "ok" for r in recs.values())
    assert sweep.run(SLOW, grid, tmp_path / "pool", workers=2, progress=False).ok
    local = _records(tmp_path / "pool")
    assert {k: r["results"] for k, r in recs.items()} == {k: r["results"] for k, r in local.items()}
