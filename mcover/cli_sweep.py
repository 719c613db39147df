"""The ``mcover sweep`` subcommand: run a task over a grid of parameters, resumably; collect the table.

``mcover sweep SPEC --out DIR`` reads a sweep specification (a JSON or TOML file
with a ``task`` and a ``grid``) and runs it with :func:`mcover.sweep.run`: one JSON
record per job in DIR, so that rerunning the same command skips the finished jobs
and retries the failed ones.  ``mcover sweep --collect DIR`` prints the records as
a table (:func:`mcover.sweep.collect`) and can export it as CSV or JSON lines.

A task is a built-in name (:data:`mcover.sweep_tasks.BUILTIN`: ``bp``, ``compare``,
``amp``, ``se``, ``route``, ``quant``, ``ste``) or ``"module:function"``.  Every
problem with the SPEC (unreadable, bad extension, bad JSON or TOML, a missing or
unknown task, a bad grid, a parameter the task does not take) raises ValueError
with a one-line message naming the SPEC file and the problem (exit status 2),
before any job runs.  The exit status is 1 when some jobs still failed after
their retries.  With ``--json`` one JSON object is printed whose keys are
documented in docs/cli.md.  The progress bar of the runner is drawn on standard
error when it is a terminal.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

__all__ = ["add_parser", "load_spec", "SPEC_KEYS"]

#: The keys a SPEC may have (``task`` and ``grid`` are required).
SPEC_KEYS = ("task", "grid", "description")
#: Longest text of a cell in the tables.
CELL = 24


# ----------------------------------------------------------------------------- the SPEC
def _read_toml(path: Path, text: str) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # Python 3.10: the same parser as the tomli package, when installed
        try:
            import tomli as tomllib
        except ImportError:
            raise ValueError(f"SPEC {str(path)!r}: reading TOML needs Python >= 3.11 or the tomli package "
                             "(pip install tomli); or write the SPEC as JSON") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"SPEC {str(path)!r} is not valid TOML: {err}") from None


def load_spec(path) -> tuple[str, object, str | None]:
    """Read and check a sweep SPEC file: ``(task name "module:function", grid, description)``.

    Parameters
    ----------
    path : str or path
        A ``.json`` or ``.toml`` file holding one object (table) with the keys
        ``task`` (a built-in task name or ``"module:function"``), ``grid`` (a dict
        of lists, or a list of dicts; see :func:`mcover.sweep.expand_grid`) and
        optionally ``description`` (a string).

    Returns
    -------
    tuple
        The task's name as :func:`mcover.sweep.run` takes it, the grid, the description or None.

    Raises
    ------
    ValueError
        One line naming the file and the problem: unreadable, not ``.json`` or
        ``.toml``, not valid JSON or TOML, not an object, an unknown key, a
        missing or unknown task, a bad grid, a parameter the task does not take
        or a required one missing.

    Examples
    --------
    >>> import json, os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "s.json")
    ...     _ = open(path, "w").write(json.dumps({"task": "se", "grid": {"alpha": [0.5, 1.0]}}))
    ...     task, grid, _ = load_spec(path)
    >>> task, grid
    ('mcover.sweep_tasks:se', {'alpha': [0.5, 1.0]})
    """
    from .sweep import _check_signature, _task_name, expand_grid
    from .sweep_tasks import resolve

    path = Path(path)
    where = f"SPEC {str(path)!r}"
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ValueError(f"{where}: unknown extension {path.suffix or '(none)'!r}; a SPEC is a .json or "
                         ".toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{where} cannot be read: {err}") from None
    if suffix == ".json":
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where} is not valid JSON: {err}") from None
    else:
        spec = _read_toml(path, text)
    if not isinstance(spec, dict):
        raise ValueError(f"{where} must hold one object with 'task' and 'grid', not a {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; a SPEC has the keys {list(SPEC_KEYS)}")
    for key in ("task", "grid"):
        if key not in spec:
            raise ValueError(f"{where} has no {key!r}")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise ValueError(f"{where}: 'description' must be a string")
    try:
        name = resolve(spec["task"])
        name, fn = _task_name(name)
        jobs = expand_grid(spec["grid"])
        _check_signature(name, fn, jobs)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None
    return name, spec["grid"], description


# ----------------------------------------------------------------------------- output
def _cell(v) -> str:
    if isinstance(v, float):
        text = "inf" if math.isinf(v) else format(v, ".6g")
    elif v is None:
        text = "-"
    elif isinstance(v, (list, dict)):
        text = json.dumps(v)
    else:
        text = str(v)
    return text if len(text) <= CELL else text[: CELL - 3] + "..."


def _short(task: str) -> str:
    """A built-in task's short name, else the task's full name."""
    from .sweep_tasks import BUILTIN

    mod, _, fn = task.partition(":")
    return fn if mod == "mcover.sweep_tasks" and fn in BUILTIN else task


def _error_line(rec: dict) -> str:
    return (rec.get("error") or "").strip().splitlines()[0] if rec.get("error") else ""


def _print_table(rows: list[dict], skip=("key", "task", "seconds", "attempts", "error")) -> None:
    cols = []
    for r in rows:
        cols += [c for c in r if c not in skip and c not in cols]
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    print("  ".join(f"{c:>{w}}" for c, w in zip(cols, widths)))
    for row in cells:
        print("  ".join(f"{v:>{w}}" for v, w in zip(row, widths)))


# ----------------------------------------------------------------------------- run and collect
def _check_options(args) -> None:
    if args.collect is not None:
        if args.spec is not None:
            raise ValueError("give either SPEC (to run a sweep) or --collect DIR, not both")
        options = (("--out", args.out), ("--workers", args.workers), ("--scheduler", args.scheduler),
                   ("--retries", args.retries))
        given = [o for o, v in options if v is not None]
        if given:
            raise ValueError(f"{', '.join(given)} apply to running a sweep, not to --collect")
        return
    if args.spec is None:
        raise ValueError("give a SPEC file to run, or --collect DIR")
    if args.out is None:
        raise ValueError("--out DIR is required to run a sweep (the folder of the records)")
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    if args.retries is None:
        args.retries = 1
    if args.retries < 0:
        raise ValueError(f"--retries must be >= 0, got {args.retries}")
    if args.scheduler is not None and "://" not in args.scheduler:
        raise ValueError(f"--scheduler must be an address such as tcp://HOST:PORT, got {args.scheduler!r}")


def _run(args) -> int:
    from .sweep import collect, run

    name, grid, description = load_spec(args.spec)
    t0 = time.perf_counter()
    try:
        summary = run(name, grid, args.out, workers=args.workers, scheduler=args.scheduler,
                      retries=args.retries, progress=True)
    except ImportError as err:
        raise ValueError(f"--scheduler: {err}") from None
    seconds = round(time.perf_counter() - t0, 3)
    if args.csv is not None or args.jsonl is not None:
        collect(args.out, task=name, csv=args.csv, jsonl=args.jsonl)
    out = {"spec": str(args.spec), "task": name, "description": description, "out": str(summary.out),
           "total": summary.total, "done": summary.done, "skipped": summary.skipped,
           "failed": len(summary.failed), "ok": summary.ok,
           "failures": [{"key": r["key"], "params": r["params"], "attempts": r["attempts"],
                         "error": _error_line(r)} for r in summary.failed],
           "seconds": seconds}
    if args.csv is not None:
        out["csv"] = str(args.csv)
    if args.jsonl is not None:
        out["jsonl"] = str(args.jsonl)
    status = 0 if summary.ok else 1
    if args.json:
        print(json.dumps(out))
        return status
    title = f"sweep of task {_short(name)} from {args.spec}" + (f": {description}" if description else "")
    print(title)
    print(f"{summary.total} jobs: {summary.done} done, {summary.skipped} skipped (already recorded), "
          f"{len(summary.failed)} failed  ({seconds:.2f} s)")
    print(f"records in {summary.out} (one JSON file per job); the table: "
          f"mcover sweep --collect {summary.out}")
    for k in ("csv", "jsonl"):
        if k in out:
            print(f"table written to {out[k]}")
    if summary.failed:
        print("\nfailed jobs (rerun the same command to retry them):")
        for f in out["failures"]:
            print(f"  {f['key']}  {json.dumps(f['params'])}  after {f['attempts']} attempt(s): {f['error']}")
    return status


def _collect(args) -> int:
    from .sweep import collect

    rows = collect(args.collect, csv=args.csv, jsonl=args.jsonl)
    failed = [r for r in rows if r["status"] != "ok"]
    tasks = sorted({r["task"] for r in rows if r["task"]})
    out = {"out": str(args.collect), "rows": rows, "total": len(rows), "failed": len(failed), "tasks": tasks}
    if args.csv is not None:
        out["csv"] = str(args.csv)
    if args.jsonl is not None:
        out["jsonl"] = str(args.jsonl)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{args.collect}: {len(rows)} records ({len(rows) - len(failed)} ok, {len(failed)} failed) of "
          f"task(s) {', '.join(_short(t) for t in tasks) or '-'}\n")
    for t in tasks:
        part = [r for r in rows if r["task"] == t]
        if len(tasks) > 1:
            print(f"task {_short(t)}:")
        _print_table(part)
        print()
    for r in failed:
        print(f"failed {r['key']}: {_error_line(r)}")
    for k in ("csv", "jsonl"):
        if k in out:
            print(f"table written to {out[k]}")
    return 0


def _sweep(args) -> int:
    _check_options(args)
    return _collect(args) if args.collect is not None else _run(args)


# ----------------------------------------------------------------------------- parser
def add_parser(sub) -> None:
    """Register ``sweep`` on the subparsers of the ``mcover`` parser."""
    p = sub.add_parser(
        "sweep", help="run a task over a grid of parameters (resumable), or collect a sweep's table",
        description=(
            "Run a task once per point of a parameter grid, one JSON record per job in --out; rerunning "
            "skips the recorded jobs and retries the failed ones. SPEC is a .json or .toml file with "
            "'task' (bp, compare, amp, se, route, quant, ste, or module:function) and 'grid' (a dict of "
            "lists, whose product is the jobs, or a list of dicts). --collect DIR prints the records as a "
            "table. A progress bar is drawn on standard error when it is a terminal."))
    p.add_argument("spec", type=Path, nargs="?", default=None, metavar="SPEC",
                   help="sweep specification: a .json or .toml file with 'task' and 'grid'")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder of the records (created)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: the number of CPUs; 0 or 1: serially in this process)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the jobs on this Dask scheduler instead (needs dask[distributed])")
    p.add_argument("--retries", type=int, default=None, metavar="N",
                   help="runs again of a job that raised, in this call (default 1)")
    p.add_argument("--collect", type=Path, default=None, metavar="DIR",
                   help="print the table of the records in DIR instead of running a sweep")
    p.add_argument("--csv", type=Path, default=None, metavar="FILE", help="also write the table as CSV")
    p.add_argument("--jsonl", type=Path, default=None, metavar="FILE",
                   help="also write the table as JSON lines")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_sweep)
