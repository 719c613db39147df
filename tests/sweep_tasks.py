"""Task functions for tests/test_sweep.py (a module, so that worker processes can import them)."""

import os
import random
import time
import uuid
from pathlib import Path


def _count(calls, x):
    """Leave one file per call in the folder ``calls`` (named by x), to count calls across processes."""
    if calls is not None:
        Path(calls).mkdir(parents=True, exist_ok=True)
        (Path(calls) / f"{x}-{uuid.uuid4().hex}").touch()


def calls_of(calls, x) -> int:
    """How many times a task ran with parameter ``x``."""
    folder = Path(calls)
    return len(list(folder.glob(f"{x}-*"))) if folder.is_dir() else 0


def cheap(x, y, seed=0, calls=None):
    """x * y and one seeded draw."""
    _count(calls, x)
    return {"xy": x * y, "draw": random.Random(seed).random(), "tag": f"x{x}", "pair": [x, y]}


def flaky(x, calls=None):
    """Raises for odd x."""
    _count(calls, x)
    if x % 2:
        raise RuntimeError(f"odd x={x}")
    return {"half": x // 2}


def heal(x, marker):
    """Raises while the file ``marker`` does not exist."""
    if x == 1 and not os.path.exists(marker):
        raise RuntimeError("not yet")
    return {"x": x}


def killer(x, marker, calls=None):
    """Kills its worker process the first time x == 3 (once the file ``marker`` exists, it does not)."""
    _count(calls, x)
    if x == 3 and not os.path.exists(marker):
        Path(marker).touch()
        time.sleep(0.3)  # let the cheap jobs before it finish
        os._exit(13)
    return {"x2": x * x}


def interrupt(x, marker, calls=None):
    """Raises KeyboardInterrupt the first time x == 2, as Ctrl-C would."""
    _count(calls, x)
    if x == 2 and not os.path.exists(marker):
        Path(marker).touch()
        raise KeyboardInterrupt
    return {"x": x}


def bad_result(x):
    """Returns something that is not JSON (for x == 1)."""
    return {"obj": object()} if x == 1 else {"x": x}


def not_a_dict(x):
    return [x]


def takes_kwargs(**kw):
    return {"n": len(kw)}


def slow(x, seed=0, delay=0.08, calls=None):
    """Sleeps ``delay`` seconds, then returns a result that depends only on the parameters.

    Each call leaves a file ``{x}-{pid}-...`` in ``calls`` at its start (so that a call cut
    short by a killed worker is counted too, with the process that ran it).
    """
    if calls is not None:
        Path(calls).mkdir(parents=True, exist_ok=True)
        (Path(calls) / f"{x}-{os.getpid()}-{uuid.uuid4().hex}").touch()
    time.sleep(delay)
    return {"sq": x * x, "draw": random.Random(1000 * seed + x).random()}
