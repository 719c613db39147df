"""Helpers shared by the tests of the examples and of the command line (not a test module)."""

import contextlib
import io
import json
import runpy
from pathlib import Path

from mcover.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, tmp_path, **kw):
    """Run an example's ``main(tmp_path, small=True, **kw)``; return (its namespace, result, stdout)."""
    mod = runpy.run_path(str(EXAMPLES / name))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        res = mod["main"](tmp_path, small=True, **kw)
    return mod, res, buf.getvalue()


def cli(capsys, subcommand, *argv):
    """``mcover SUBCOMMAND ARGV...`` in-process: (exit code, stdout, stderr)."""
    code = main([subcommand, *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys, subcommand, *argv) -> dict:
    """The JSON object of ``mcover SUBCOMMAND ARGV... --json``, checking nothing else is on stdout."""
    code, out, err = cli(capsys, subcommand, *argv, "--json")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1  # nothing on stdout but the JSON object
    return json.loads(out)
