"""Tasks of benchmarks/sweep.py, in a module of their own so that worker processes import them by name.

benchmarks/sweep.py puts this folder on ``sys.path`` (inherited by the forked pool workers) and on
``PYTHONPATH`` (read by the Dask worker processes it spawns) before any worker starts.
"""


def burn(i: int, n: int) -> dict:
    """CPU-bound work: ``n`` steps of a 32-bit linear congruential generator seeded with ``i``.

    Pure Python (one core, holds the GIL), deterministic; the benchmark calibrates ``n`` so that a
    call takes the wanted time and passes it as a parameter, so every process does the same work.
    """
    x = i
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return {"x": x}


def noop(i: int) -> dict:
    """A job that costs nothing: what remains of a sweep's wall time is the runner's overhead."""
    return {"i": i}
