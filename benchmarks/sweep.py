"""Benchmark: the overhead of the resumable sweep runner (``mcover.sweep.run``).

Rows:

* **serial**: ``--jobs`` CPU-bound jobs of about ``--ms`` ms each (a pure-Python loop calibrated on
  this machine, in ``benchmarks/_sweep_tasks.py``), ``workers=1`` (in this process);
* **bare mp.Pool(2)**: the same jobs on a plain ``multiprocessing`` pool of two, no records: what
  this machine gives two processes at the moment (a busy or shared machine gives more than 0.5x);
* **local pool, 2 workers**: the same jobs on ``workers=2``; target: under 0.6x the serial time;
* **local pool, no-op jobs**: ``--jobs`` jobs that cost nothing, ``workers=2``: wall / jobs is the
  pool's overhead per job (writing the record included);
* **Dask, 2 workers**: the same CPU-bound jobs on a ``distributed.LocalCluster`` of two worker
  processes with one thread each (``scheduler=`` its address); overhead per job =
  (wall - serial / 2) / jobs;
* **Dask, no-op jobs**: wall / jobs of the no-op jobs on that cluster; target: under 20 ms per job.

Every run writes its records to a fresh temporary folder (one fsynced JSON file per job, as in
real use).  The Dask rows print "distributed not installed" when it is missing.

Usage::

    python benchmarks/sweep.py                   # 200 jobs of ~50 ms
    python benchmarks/sweep.py --jobs 400 --ms 20 --repeat 5

The script prints a table and makes no assertions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The tasks are imported by name in the worker processes: the forked pool inherits sys.path, the
# Dask workers (spawned processes) read PYTHONPATH.  Both are set before any worker starts.
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])

import _sweep_tasks  # noqa: E402

from mcover import sweep  # noqa: E402

BURN = "_sweep_tasks:burn"
NOOP = "_sweep_tasks:noop"


def calibrate(ms: float) -> int:
    """Loop steps of ``burn`` that take about ``ms`` milliseconds here (best of a few timings)."""
    n = 20_000
    while True:
        best = min(_time(_sweep_tasks.burn, 0, n) for _ in range(3))
        if best > 0.02:
            return max(1, round(n * ms / 1e3 / best))
        n *= 2


def _time(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def timed_sweep(task, grid, **kw) -> float:
    """Wall seconds of one ``run`` into a fresh folder (every job runs; the sweep must succeed)."""
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        t0 = time.perf_counter()
        s = sweep.run(task, grid, tmp, progress=False, **kw)
        wall = time.perf_counter() - t0
    if not s.ok or s.done != s.total:
        raise RuntimeError(f"the benchmark sweep did not complete: {s!r}")
    return wall


def _raw_pool(n_jobs: int, n: int) -> float:
    """Wall seconds of the same CPU-bound jobs on a bare ``multiprocessing`` pool of 2 (no records)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.starmap(_sweep_tasks.burn, [(0, 1), (1, 1)], chunksize=1)  # the workers are up
        t0 = time.perf_counter()
        pool.starmap(_sweep_tasks.burn, [(i, n) for i in range(n_jobs)], chunksize=1)
        return time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=200, help="jobs per sweep (default 200)")
    ap.add_argument("--ms", type=float, default=50.0, help="cost of a CPU-bound job in ms (default 50)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of every case, best kept (default 3; rounds are interleaved so that "
                         "machine load hits every case alike)")
    args = ap.parse_args(argv)

    n = calibrate(args.ms)
    job_s = min(_time(_sweep_tasks.burn, 1, n) for _ in range(5))
    burn = {"i": list(range(args.jobs)), "n": [n]}
    noop = {"i": list(range(args.jobs))}
    print(f"# {args.jobs} jobs; CPU-bound job: {n} loop steps = {job_s * 1e3:.1f} ms; "
          f"{os.cpu_count()} CPUs; best of {args.repeat} rounds; python {sys.version.split()[0]}")

    try:
        import distributed
    except ImportError:
        distributed = None
    cluster = client = None
    if distributed is not None:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, protocol="tcp")
        client = distributed.Client(cluster, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        timed_sweep(NOOP, {"i": [-1, -2]}, scheduler=cluster.scheduler_address)  # imports in the workers

    best: dict[str, float] = {}
    try:
        for _ in range(args.repeat):
            cases = {
                "serial": lambda: timed_sweep(BURN, burn, workers=1),
                "raw": lambda: _raw_pool(args.jobs, n),
                "pool": lambda: timed_sweep(BURN, burn, workers=2),
                "pool0": lambda: timed_sweep(NOOP, noop, workers=2),
            }
            if cluster is not None:
                cases["dask"] = lambda: timed_sweep(BURN, burn, scheduler=cluster.scheduler_address)
                cases["dask0"] = lambda: timed_sweep(NOOP, noop, scheduler=cluster.scheduler_address)
            for case, fn in cases.items():
                best[case] = min(best.get(case, float("inf")), fn())
    finally:
        if client is not None:
            client.close()
            cluster.close()

    serial = best["serial"]
    per = {k: v / args.jobs * 1e3 for k, v in best.items()}
    rows = [  # (case, wall, ms per job, ratio to serial, target, met)
        ("serial (workers=1)", serial, per["serial"], 1.0, "", ""),
        ("bare mp.Pool(2), no recs", best["raw"], per["raw"], best["raw"] / serial,
         "(what the machine gives)", ""),
        ("local pool, 2 workers", best["pool"], per["pool"], best["pool"] / serial, "< 0.6x serial",
         best["pool"] / serial < 0.6),
        ("local pool, no-op jobs", best["pool0"], per["pool0"], None, "(overhead per job)", ""),
    ]
    if cluster is None:
        rows.append(("Dask, 2 workers", None, None, None, "distributed not installed", ""))
    else:
        over = (best["dask"] - serial / 2) / args.jobs * 1e3
        rows.append(("Dask, 2 workers", best["dask"], per["dask"], best["dask"] / serial,
                     f"(overhead {over:.1f} ms/job)", ""))
        rows.append(("Dask, no-op jobs", best["dask0"], per["dask0"], None, "< 20 ms/job", per["dask0"] < 20))

    head = f"{'case':<26} {'wall s':>8} {'ms/job':>8} {'x serial':>9}  {'target':<28} {'met':>4}"
    print(head)
    print("-" * len(head))
    for case, wall, ms, ratio, target, met in rows:
        print(f"{case:<26} {_fmt(wall, '.2f'):>8} {_fmt(ms, '.1f'):>8} {_fmt(ratio, '.2f'):>9}  "
              f"{target:<28} {'' if met == '' else ('yes' if met else 'NO'):>4}")


def _fmt(v, spec: str) -> str:
    return "" if v is None else format(v, spec)


if __name__ == "__main__":
    main()
