"""README claims stay true: its Python quickstart runs and its commands exist."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_quickstart_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "README has no python block"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_two_newcomer_commands_near_the_top():
    head = README[:1200]
    assert 'pip install -e . && mcover demo' in head
    assert 'pip install -e ".[test]" && pytest' in head


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]"' in ci
    assert ci.strip().splitlines()[-1].strip() == "pytest"
