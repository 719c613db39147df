"""A resumable parameter sweep: run a task over a grid of parameters, one JSON record per job.

:func:`run` calls a module-level function of keyword arguments once per point of a
parameter grid, on a local process pool (or a Dask cluster), and writes each finished job to the
output folder as one JSON file named by a stable hash of the task and its
parameters.  Rerunning the same sweep skips every job already recorded as
``"ok"`` and retries the failed ones, so an interrupted sweep (Ctrl-C, a killed
worker, a reboot) resumes where it stopped and nothing is computed twice.
:func:`collect` reads the folder back as a tidy table (one row per job) and
exports it as CSV or JSON lines.

Invariants
----------
* A record file is only ever created by ``os.replace`` of a fully written and
  fsynced temporary file in the same folder, so a reader sees either no record
  or a complete one, never a partial one.
* A job's key is ``sha256(canonical JSON of {"task", "params"})[:16]``; the
  canonical JSON has sorted keys and no whitespace, so the key does not depend
  on the order of the grid or of the keyword arguments.  Note that ``1`` and
  ``1.0`` are different parameters (different JSON).
* In the process pool, the worker writes the record itself before returning,
  so a job whose task returned is on disk even if the parent dies a moment later.
  With Dask the calling process writes each record as its job finishes (the
  workers need not share the folder).
"""

from __future__ import annotations

import csv as _csv
import dataclasses
import functools
import hashlib
import importlib
import inspect
import itertools
import json
import os
import platform
import signal
import socket
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path

from .progress import Progress

__all__ = ["Summary", "collect", "demo_task", "job_key", "expand_grid", "run", "to_csv", "to_jsonl"]

#: How long :func:`run` tries to reach a Dask scheduler given by its address.
DASK_CONNECT_TIMEOUT = "10s"

#: Columns of :func:`collect` that come from the record rather than the parameters or results.
META_COLUMNS = ("key", "task", "status", "seconds", "attempts", "error")


# --------------------------------------------------------------------------------------------
# An example task (importable by worker processes, used by the examples in the docstrings).


def demo_task(x: float, y: float, seed: int = 0) -> dict:
    """An example task: the product ``x * y`` and one seeded uniform draw.

    Parameters
    ----------
    x, y : float
        The factors.
    seed : int, optional
        Seed of the draw (seeds are ordinary parameters of a sweep).

    Returns
    -------
    dict
        ``{"product": x * y, "draw": U(0, 1) drawn with numpy's default generator seeded with seed}``.

    Examples
    --------
    >>> demo_task(2, 3)["product"]
    6
    >>> demo_task(2, 3, seed=1) == demo_task(2, 3, seed=1)
    True
    """
    import numpy as np

    return {"product": x * y, "draw": float(np.random.default_rng(seed).random())}


# --------------------------------------------------------------------------------------------
# Tasks, grids, keys.


def _resolve_name(name: str) -> Callable:
    """The function named ``"module:function"`` (ValueError naming what is missing)."""
    mod_name, sep, fn_name = name.partition(":")
    if not sep or not mod_name or not fn_name:
        raise ValueError(f"task {name!r} is not of the form 'module:function'")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as err:
        raise ValueError(f"task {name!r}: cannot import module {mod_name!r} ({err})") from err
    fn = mod
    for part in fn_name.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise ValueError(f"task {name!r}: module {mod_name!r} has no attribute {fn_name!r}")
    if not callable(fn):
        raise ValueError(f"task {name!r} is not callable (it is a {type(fn).__name__})")
    return fn


@functools.lru_cache(maxsize=32)
def _cached_task(name: str) -> Callable:
    # Each worker process resolves the task by name once (the name, not the function, is sent).
    return _resolve_name(name)


def _task_name(task) -> tuple[str, Callable]:
    """``("module:qualname", function)`` for a task given as a function or a name.

    Worker processes import the task by this name, so a function must be
    reachable from its module under its qualified name (no lambdas, no local functions).
    """
    if isinstance(task, str):
        return task, _resolve_name(task)
    if not callable(task):
        raise TypeError(f"task must be a function or a 'module:function' string, not {task!r}")
    mod_name = getattr(task, "__module__", None)
    qual = getattr(task, "__qualname__", None)
    if not mod_name or not qual or "<" in qual:
        raise ValueError(f"task {task!r} is not importable by name: define it at module level")
    name = f"{mod_name}:{qual}"
    try:
        found = _resolve_name(name)
    except ValueError as err:
        raise ValueError(f"task {task!r} is not importable by name {name!r}: {err}") from err
    if found is not task:
        raise ValueError(f"task {task!r} is not importable by name: {name!r} is another object")
    return name, task


def _plain(value, what: str):
    """``value`` as plain JSON data (numpy scalars and arrays become numbers and lists).

    Raises TypeError naming ``what`` and the value when it is not JSON-serialisable.
    """

    def default(o):
        if hasattr(o, "tolist"):  # numpy scalars and arrays, without importing numpy
            return o.tolist()
        raise TypeError

    try:
        return json.loads(json.dumps(value, default=default))
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} = {value!r} is not JSON-serialisable") from err


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def job_key(task: str, params: Mapping) -> str:
    """The stable key of a job: the first 16 hex digits of the sha256 of its canonical JSON.

    Parameters
    ----------
    task : str
        The task's name, ``"module:qualname"``.
    params : mapping
        The job's parameters (JSON-serialisable).

    Returns
    -------
    str
        16 lowercase hex digits; the same for any order of the parameters.

    Examples
    --------
    >>> job_key("mcover.sweep:demo_task", {"x": 1, "y": 2}) == job_key(
    ...     "mcover.sweep:demo_task", {"y": 2, "x": 1})
    True
    >>> len(job_key("mcover.sweep:demo_task", {"x": 1, "y": 2}))
    16
    """
    return hashlib.sha256(_canonical({"task": task, "params": params}).encode()).hexdigest()[:16]


_SEQUENCES = (list, tuple, range)


def expand_grid(grid) -> list[dict]:
    """The list of parameter dicts of a grid, in the order in which :func:`run` runs them.

    Parameters
    ----------
    grid : dict of lists, or list of dicts
        A dict maps each parameter name to the list (or tuple, or range) of its
        values; the jobs are the Cartesian product, in the dict's key order with
        the last key varying fastest (as ``itertools.product``).  A list of
        dicts is taken as the explicit list of jobs, in its order.

    Returns
    -------
    list of dict

    Raises
    ------
    TypeError
        A grid that is neither, a value that is not a list, a job that is not a dict,
        a parameter that is not JSON-serialisable.
    ValueError
        An empty grid, an empty list of values, an empty job, two equal jobs.

    Examples
    --------
    >>> expand_grid({"x": [1, 2], "seed": [0, 1]})
    [{'x': 1, 'seed': 0}, {'x': 1, 'seed': 1}, {'x': 2, 'seed': 0}, {'x': 2, 'seed': 1}]
    >>> expand_grid([{"x": 1}, {"x": 5, "seed": 3}])
    [{'x': 1}, {'x': 5, 'seed': 3}]
    """
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("the grid is empty: give at least one parameter with a list of values")
        for k, vals in grid.items():
            if not isinstance(k, str):
                raise TypeError(f"grid key {k!r} is not a string (parameter names are keyword names)")
            if not isinstance(vals, _SEQUENCES):
                raise TypeError(f"grid[{k!r}] = {vals!r} is not a list of values (wrap a single value: [v])")
            if len(vals) == 0:
                raise ValueError(f"grid[{k!r}] is an empty list: the product has no jobs")
        names = list(grid)
        jobs = [dict(zip(names, combo)) for combo in itertools.product(*(grid[k] for k in names))]
    elif isinstance(grid, _SEQUENCES) and not isinstance(grid, range):
        if len(grid) == 0:
            raise ValueError("the grid is an empty list of jobs")
        jobs = []
        for i, job in enumerate(grid):
            if not isinstance(job, Mapping):
                raise TypeError(f"grid[{i}] = {job!r} is not a dict of parameters")
            if not job:
                raise ValueError(f"grid[{i}] is an empty dict of parameters")
            for k in job:
                if not isinstance(k, str):
                    raise TypeError(f"grid[{i}] key {k!r} is not a string")
            jobs.append(dict(job))
    else:
        raise TypeError(f"grid must be a dict of lists or a list of dicts, not {type(grid).__name__}")
    # Parameters become JSON (numpy scalars become numbers); two equal jobs would share a record.
    seen: dict[str, int] = {}
    for i, job in enumerate(jobs):
        for k, v in job.items():
            job[k] = _plain(v, f"parameter {k!r}")
        c = _canonical(job)
        if c in seen:
            raise ValueError(f"jobs {seen[c]} and {i} of the grid are the same: {job!r}")
        seen[c] = i
    return jobs


def _check_signature(name: str, fn: Callable, jobs: list[dict]) -> None:
    """Every job's keys are keyword parameters of the task and every required parameter is set."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: let the jobs tell
        return
    params = sig.parameters.values()
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {n for n in accepted if sig.parameters[n].default is inspect.Parameter.empty}
    for job in jobs:
        if not var_kw:
            for k in job:
                if k not in accepted:
                    raise ValueError(
                        f"grid parameter {k!r} (value {job[k]!r}) is not a parameter of task {name!r}; "
                        f"it accepts {sorted(accepted)}"
                    )
        missing = sorted(required - set(job))
        if missing:
            raise ValueError(f"task {name!r} requires parameter(s) {missing}, not set by the job {job!r}")


# --------------------------------------------------------------------------------------------
# Records on disk.


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    out = {}
    for dist in ("mcover", "numpy", "numba"):
        try:
            out[dist] = _dist_version(dist)
        except PackageNotFoundError:
            out[dist] = None
    out["python"] = platform.python_version()
    return out


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: temporary file in the same folder, fsync, os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(tmp)
        raise
    # Make the rename itself durable (POSIX); some platforms cannot open a folder.
    with _suppress_os_error():
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class _suppress_os_error:
    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        return typ is not None and issubclass(typ, OSError)


def _read_record(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # unreadable: cannot happen with atomic writes, so recompute
        return None
    return rec if isinstance(rec, dict) else None


def _check_results(results) -> dict:
    if not isinstance(results, Mapping):
        raise TypeError(f"the task returned {results!r} ({type(results).__name__}), not a dict of results")
    out = {}
    for k, v in results.items():
        if not isinstance(k, str):
            raise TypeError(f"result key {k!r} is not a string")
        if isinstance(v, Mapping):
            raise TypeError(f"result {k!r} = {v!r} is a dict: return a flat dict of results")
        out[k] = _plain(v, f"result {k!r}")
    return out


def _execute(task: str, params: dict, key: str, attempt: int, out: str | None) -> tuple[dict, str | None]:
    """Run one job (in a worker or in-process); write its record to ``out`` if given.

    Returns ``(record, fatal)``: ``fatal`` is a message when the result broke the
    task's contract (not a dict, not JSON-serialisable), which stops the sweep.
    An exception of the task is caught and recorded; KeyboardInterrupt and
    SystemExit are not (they interrupt the sweep).
    """
    fatal = None
    t0 = time.perf_counter()
    results, tb, error = None, None, None
    try:
        raw = _cached_task(task)(**params)
    except Exception as err:
        tb, error = traceback.format_exc(), f"{type(err).__name__}: {err}"
    else:
        try:
            results = _check_results(raw)
        except TypeError as err:
            tb, error, fatal = traceback.format_exc(), f"TypeError: {err}", f"task {task!r}: {err}"
    seconds = time.perf_counter() - t0
    record = {
        "key": key,
        "task": task,
        "params": params,
        "results": results,
        "status": "ok" if error is None else "failed",
        "seconds": round(seconds, 6),
        "attempts": attempt,
        "error": error,
        "traceback": tb,
        "host": socket.gethostname(),
        "versions": _versions(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if out is not None:
        # SIGTERM (how an interrupted or broken pool ends its workers) waits until the record is
        # written, so that no temporary file is left behind; POSIX only.
        mask = getattr(signal, "pthread_sigmask", None)
        old = mask(signal.SIG_BLOCK, {signal.SIGTERM}) if mask else None
        try:
            _write_atomic(Path(out) / f"{key}.json", json.dumps(record, indent=1) + "\n")
        finally:
            if mask:
                mask(signal.SIG_SETMASK, old)
    return record, fatal


def _check_out(out) -> Path:
    """Create ``out`` and prove it writable (atomic write + delete of a probe) before any job runs."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"output folder out={str(out)!r} is not a writable folder ({err})") from err
    return path


# --------------------------------------------------------------------------------------------
# The runner.


@dataclasses.dataclass
class Summary:
    """What :func:`run` did.

    Attributes
    ----------
    total : int
        Jobs in the grid.
    done : int
        Jobs that ran and finished ``"ok"`` in this call.
    skipped : int
        Jobs already recorded ``"ok"`` in ``out`` (not run again).
    failed : list of dict
        Records of the jobs that still failed after their retries, in grid order.
    records : list of dict
        The record of every job of the grid, in grid order.
    out : pathlib.Path
        The output folder.
    """

    total: int
    done: int
    skipped: int
    failed: list
    records: list
    out: Path

    @property
    def ok(self) -> bool:
        """Whether every job of the grid is recorded ``"ok"``."""
        return not self.failed and len(self.records) == self.total

    def __repr__(self) -> str:
        return (f"Summary(total={self.total}, done={self.done}, skipped={self.skipped}, "
                f"failed={len(self.failed)}, out={str(self.out)!r})")


def run(task, grid, out, *, workers: int | None = None, scheduler=None, retries: int = 1,
        progress: bool = True) -> Summary:
    """Run ``task`` once per job of ``grid``, one JSON record per job in ``out``; resumable.

    Parameters
    ----------
    task : function or str
        A module-level function of keyword arguments returning a flat dict of
        results (numbers, strings, booleans, None, small lists; numpy scalars and
        arrays are converted), or its name ``"module:function"``.  Worker
        processes import it by name, so it must be importable from them.
    grid : dict of lists or list of dicts
        The jobs (see :func:`expand_grid`): a dict of lists is the Cartesian
        product, in the dict's key order with the last key varying fastest; a
        list of dicts is the explicit list of jobs.  Seeds are ordinary parameters.
    out : str or path
        Output folder (created).  Each job is written to ``out/KEY.json``, KEY
        being :func:`job_key` of the task name and the parameters.
    workers : int, optional
        Number of worker processes (default ``os.cpu_count()``; never more than
        the jobs to run).  ``0`` or ``1`` runs the jobs serially in this process,
        which is easiest to debug and needs no import by name.
    scheduler : str or dask.distributed.Client, optional
        Run the jobs on a Dask cluster instead of the local pool (``workers`` is
        then ignored): the address of its scheduler (``"tcp://HOST:PORT"``; a
        client is opened and closed here) or a client.  Needs the ``dask``
        extra; the workers must be able to import ``mcover`` and the task.  The
        records are written by this process, so the workers need not see ``out``.
    retries : int, optional
        How many times a job that raised is run again in this call (default 1,
        so two attempts).  Each attempt overwrites the job's record.
    progress : bool, optional
        Draw a progress bar (jobs done, failed, remaining) on standard error
        when it is a terminal.

    Returns
    -------
    Summary
        Counts of jobs done and skipped, the records of the failed jobs and of all jobs.

    Raises
    ------
    TypeError, ValueError
        Bad input, before any job runs: a task that cannot be imported or is not
        a function, a grid parameter the task does not accept (unless it takes
        ``**kwargs``) or a required one missing, a bad grid (see
        :func:`expand_grid`), an unwritable ``out``, bad ``workers`` or
        ``retries``.  During the sweep: TypeError as soon as a result is not a
        dict of JSON-serialisable values (that job is recorded as failed).
    ImportError
        A ``scheduler`` without Dask installed.
    KeyboardInterrupt, concurrent.futures.process.BrokenProcessPool
        The sweep was interrupted, or a worker process died.  Finished jobs are
        on disk; at most the jobs in flight are lost, and calling ``run`` again
        resumes.

    Notes
    -----
    A job recorded ``"ok"`` is never run again; a job recorded ``"failed"`` is
    run again by the next call (its ``attempts`` count continues).  Leftover
    ``.*.tmp`` files (from a process killed while writing) are ignored.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = run(demo_task, {"x": [1, 2], "y": [3], "seed": [0]}, tmp, workers=0)
    ...     again = run("mcover.sweep:demo_task", {"x": [1, 2], "y": [3], "seed": [0]}, tmp, workers=0)
    ...     rows = collect(tmp)
    >>> first  # doctest: +ELLIPSIS
    Summary(total=2, done=2, skipped=0, failed=0, ...)
    >>> again.done, again.skipped
    (0, 2)
    >>> [(r["x"], r["product"]) for r in rows]
    [(1, 3), (2, 6)]
    """
    # Everything is checked before the first job runs.
    name, fn = _task_name(task)
    jobs = expand_grid(grid)
    _check_signature(name, fn, jobs)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries={retries!r} is not a non-negative integer")
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers={workers!r} is not a non-negative integer")
    if scheduler is not None and not isinstance(scheduler, str) and not hasattr(scheduler, "submit"):
        raise TypeError(f"scheduler={scheduler!r} is neither a 'tcp://HOST:PORT' address nor a Dask client")
    path = _check_out(out)

    keys = [job_key(name, p) for p in jobs]
    records: dict[str, dict] = {}
    todo = deque()  # (index, key, params, first attempt number of this call)
    for i, (key, params) in enumerate(zip(keys, jobs)):
        rec = _read_record(path / f"{key}.json")
        if rec is not None and (rec.get("task") != name or rec.get("params") != params):
            raise ValueError(f"{path / (key + '.json')} holds another job (hash collision or edited file)")
        if rec is not None and rec.get("status") == "ok":
            records[key] = rec
        else:
            prev = int(rec.get("attempts", 0)) if rec is not None else 0
            todo.append((i, key, params, prev + 1))
    skipped = len(records)

    n_todo = len(todo)
    bar = Progress(n_todo, label="sweep", enabled=None if progress else False)
    n_ok, n_failed = 0, 0

    def finish(rec: dict, first: int) -> bool:
        """Book a finished attempt; return whether the job must run again."""
        nonlocal n_ok, n_failed
        records[rec["key"]] = rec
        if rec["status"] == "ok":
            n_ok += 1
        elif rec["attempts"] - first < retries:
            return True
        else:
            n_failed += 1
        bar.tick(note=f"ok {n_ok}, failed {n_failed}, left {n_todo - n_ok - n_failed}")
        return False

    try:
        if scheduler is not None and todo:
            _run_dask(scheduler, name, todo, path, finish)
        elif workers <= 1 or not todo:
            while todo:
                _, key, params, first = todo.popleft()
                attempt = first
                while True:
                    rec, fatal = _execute(name, params, key, attempt, str(path))
                    if fatal:
                        raise TypeError(fatal)
                    if not finish(rec, first):
                        break
                    attempt += 1
        else:
            pending: dict = {}  # future -> (job, attempt)

            # A bounded number of jobs are submitted at a time, so that an interruption
            # loses few and the queue of a long sweep stays small.
            limit = 2 * min(workers, len(todo))
            pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)))
            clean = False
            try:
                retry: deque = deque()
                while todo or retry or pending:
                    while (retry or todo) and len(pending) < limit:
                        if retry:
                            job, attempt = retry.popleft()
                        else:
                            job = todo.popleft()
                            attempt = job[3]
                        fut = pool.submit(_execute, name, job[2], job[1], attempt, str(path))
                        pending[fut] = (job, attempt)
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        job, attempt = pending.pop(fut)
                        rec, fatal = fut.result()  # KeyboardInterrupt / BrokenProcessPool propagate
                        if fatal:
                            raise TypeError(fatal)
                        if finish(rec, job[3]):
                            retry.append((job, attempt + 1))
                clean = True
            except BrokenProcessPool as err:
                raise BrokenProcessPool(
                    f"a worker process died (killed, or the task exited the process); the {len(records)} "
                    f"finished jobs are recorded in {str(path)!r} and rerunning resumes the sweep"
                ) from err
            finally:
                if clean:
                    pool.shutdown(wait=True)
                else:
                    _stop(pool)
    finally:
        bar.close()  # ends the bar's line, also on an interruption

    ordered = [records[k] for k in keys if k in records]
    failed = [r for r in ordered if r["status"] != "ok"]
    return Summary(total=len(jobs), done=n_ok, skipped=skipped, failed=failed, records=ordered, out=path)


def _connect(distributed, address: str):
    """A ``distributed.Client`` for ``address``, or ValueError within ``DASK_CONNECT_TIMEOUT``.

    Dask's own timeout covers opening the connection, not the handshake after it: an address
    that accepts TCP connections but never answers (a wrong service, a hung scheduler) would
    block for ever. So the client is built in a helper thread and abandoned at the deadline
    (plus a small margin for Dask's own error); an abandoned client that connects late is
    closed by that thread.
    """
    from dask.utils import parse_timedelta

    seconds = float(parse_timedelta(DASK_CONNECT_TIMEOUT))
    box: dict = {}
    lock = threading.Lock()

    def target():
        try:
            c = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            with lock:
                box["err"] = err
            return
        with lock:
            if box.get("abandoned"):
                late = c
            else:
                box["client"], late = c, None
        if late is not None:
            late.close()

    thread = threading.Thread(target=target, name="mcover-sweep-connect", daemon=True)
    thread.start()
    thread.join(seconds + 2.0)
    with lock:
        if "client" in box:
            return box["client"]
        if "err" not in box:
            box["abandoned"] = True
            raise ValueError(f"scheduler={address!r}: cannot connect to a Dask scheduler (no answer within "
                             f"{DASK_CONNECT_TIMEOUT})")
    err = box["err"]
    if isinstance(err, (OSError, TimeoutError)):
        raise ValueError(f"scheduler={address!r}: cannot connect to a Dask scheduler ({err})") from err
    raise err


def _run_dask(scheduler, name: str, todo: deque, path: Path, finish) -> None:
    """Run the jobs of ``todo`` on a Dask cluster; this process writes the records.

    Dask workers need not share the output folder: they return the records and
    the records are written here as the jobs finish.  On any interruption the
    jobs not yet finished are cancelled (and lost); the finished ones are on disk.
    """
    try:
        import distributed
    except ImportError as err:
        raise ImportError(
            f"scheduler={scheduler!r} needs Dask: pip install 'mcover[dask]' (dask[distributed])"
        ) from err
    own = isinstance(scheduler, str)
    client = _connect(distributed, scheduler) if own else scheduler
    pending: dict = {}  # future -> (job, attempt)
    ready = distributed.as_completed(loop=client.loop)

    def submit(job, attempt):
        # pure=False: a retry must run again, not reuse the failed result.
        fut = client.submit(_execute, name, job[2], job[1], attempt, None, pure=False,
                            key=f"mcover-sweep-{job[1]}-{attempt}")
        pending[fut] = (job, attempt)
        ready.add(fut)

    try:
        for job in todo:
            submit(job, job[3])
        todo.clear()
        for fut in ready:
            job, attempt = pending.pop(fut)
            rec, fatal = fut.result()
            _write_atomic(path / f"{rec['key']}.json", json.dumps(rec, indent=1) + "\n")
            if fatal:
                raise TypeError(fatal)
            if finish(rec, job[3]):
                submit(job, attempt + 1)
    finally:
        if pending:
            client.cancel(list(pending))
        if own:
            client.close()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel the queued jobs and end the workers (the jobs in flight are lost).

    Used on an interruption: a job stuck in compiled code would not notice Ctrl-C,
    and a worker left running could write a record while a resumed sweep runs the
    same job.  (A broken pool has already ended its workers the same way.)
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with _suppress_os_error():
            p.terminate()
    for p in procs:
        p.join(timeout=10)


# --------------------------------------------------------------------------------------------
# The table.


def _sort_value(v):
    # Numbers before strings before anything else, so that rows sort without type errors.
    if isinstance(v, bool) or v is None:
        return (2, _canonical(v))
    if isinstance(v, (int, float)):
        return (0, float(v))
    if isinstance(v, str):
        return (1, v)
    return (2, _canonical(v))


def collect(out, *, task=None, csv=None, jsonl=None) -> list[dict]:
    """The tidy table of a sweep's records: one row per job.

    Parameters
    ----------
    out : str or path
        The output folder of :func:`run`.
    task : function or str, optional
        Keep only the records of this task (a folder may hold several sweeps).
    csv, jsonl : str or path, optional
        Also write the table there (see :func:`to_csv` and :func:`to_jsonl`).

    Returns
    -------
    list of dict
        One dict per record: ``key``, ``task``, ``status``, ``seconds``,
        ``attempts``, ``error`` (None when ok), then the parameters, then the
        results as flat columns.  A result named like a parameter or one of
        those columns gets the prefix ``result_``.  Rows are sorted by task,
        then by the parameters (names sorted, numbers numerically).

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = run(demo_task, [{"x": 2, "y": 5}, {"x": 1, "y": 5}], tmp, workers=0)
    ...     rows = collect(tmp, csv=os.path.join(tmp, "t.csv"))
    ...     header = open(os.path.join(tmp, "t.csv")).readline().strip()
    >>> [(r["x"], r["status"], r["product"]) for r in rows]
    [(1, 'ok', 5), (2, 'ok', 10)]
    >>> header
    'key,task,status,seconds,attempts,error,x,y,product,draw'
    """
    path = Path(out)
    if not path.is_dir():
        raise ValueError(f"out={str(out)!r} is not a folder")
    name = None if task is None else _task_name(task)[0]
    rows = []
    for f in sorted(path.glob("*.json")):
        if f.name.startswith("."):  # temporary files and the writability probe
            continue
        rec = _read_record(f)
        if rec is None or "params" not in rec or "status" not in rec:
            continue  # not a record of a sweep (e.g. an exported table)
        if name is not None and rec.get("task") != name:
            continue
        row = {c: rec.get(c) for c in META_COLUMNS}
        params = rec.get("params") or {}
        row.update(params)
        for k, v in (rec.get("results") or {}).items():
            row[f"result_{k}" if k in row else k] = v
        rows.append((rec.get("task") or "", sorted((k, _sort_value(v)) for k, v in params.items()), row))
    rows.sort(key=lambda t: (t[0], t[1]))
    table = [r for _, _, r in rows]
    if csv is not None:
        to_csv(table, csv)
    if jsonl is not None:
        to_jsonl(table, jsonl)
    return table


def _columns(rows) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def to_csv(rows, path) -> None:
    """Write rows (dicts) as CSV, atomically; columns in order of first appearance.

    Missing values and None are empty cells; lists are written as JSON text.

    Examples
    --------
    >>> import csv, os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     to_csv([{"a": 1, "b": [1, 2]}, {"a": 2, "c": None}], os.path.join(tmp, "t.csv"))
    ...     back = list(csv.DictReader(open(os.path.join(tmp, "t.csv"))))
    >>> back[0]
    {'a': '1', 'b': '[1, 2]', 'c': ''}
    """
    import io

    cols = _columns(rows)
    buf = io.StringIO()
    w = _csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (json.dumps(v) if isinstance(v, (list, dict)) else ("" if v is None else v))
                    for k, v in r.items()})
    _write_atomic(Path(path), buf.getvalue())


def to_jsonl(rows, path) -> None:
    """Write rows (dicts) as JSON lines (one object per line), atomically.

    Examples
    --------
    >>> import json, os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     to_jsonl([{"a": 1}, {"a": 2, "b": [3]}], os.path.join(tmp, "t.jsonl"))
    ...     back = [json.loads(line) for line in open(os.path.join(tmp, "t.jsonl"))]
    >>> back
    [{'a': 1}, {'a': 2, 'b': [3]}]
    """
    _write_atomic(Path(path), "".join(json.dumps(r) + "\n" for r in rows))
