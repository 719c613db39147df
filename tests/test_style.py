"""The code base stays ruff-clean (ruff is in the test extra)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    try:
        res = subprocess.run(
            [*cmd, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    except FileNotFoundError:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    assert res.returncode == 0, res.stdout + res.stderr


def test_no_print_in_library_code():
    offenders = []
    for pkg in ("fgraph", "lifts", "algorithms"):
        for path in (ROOT / pkg).rglob("*.py"):
            for k, line in enumerate(path.read_text().splitlines(), 1):
                if line.lstrip().startswith("print("):
                    offenders.append(f"{path.relative_to(ROOT)}:{k}")
    assert not offenders, offenders
