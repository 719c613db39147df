"""The documentation stays true: docs/cli.md against the program, docs/theory.md's numbering.

* Every JSON key documented in docs/cli.md (one Markdown table per subcommand, under
  "### JSON keys of `CMD`", key in backticks in the first column, then type and when it is
  present) appears in the ``--json`` output of that subcommand, with a documented type, and every
  key of the output is documented.  Each subcommand runs twice on a small model: once with
  options that leave out every conditional key, once with options that produce all of them.
* docs/theory.md has numbered sections and subsections ("## 2. ...", "### 2.3 ...") in order,
  listed in its table of contents, and every "docs/theory.md §N.M" cited anywhere in the
  repository exists.
* Nothing in the repository points at files outside it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"
THEORY = ROOT / "docs" / "theory.md"

TYPES = {"int": int, "float": float, "string": str, "bool": bool, "null": type(None), "list": list,
         "object": dict}


# ----------------------------------------------------------------------------- docs/cli.md
def documented_keys(command: str) -> dict:
    """``{key: (allowed python types, always present?)}`` from the command's JSON table."""
    text = CLI_DOC.read_text(encoding="utf-8")
    m = re.search(rf"^### JSON keys of `{command}`\n(.*?)(?=^#|\Z)", text, flags=re.M | re.S)
    assert m, f"docs/cli.md has no '### JSON keys of `{command}`' table"
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+?) \| ([^|]+?) \|", m.group(1), flags=re.M)
    assert rows, f"the JSON table of {command} has no rows"
    out = {}
    for key, types, present in rows:
        words = [t.strip().split()[0] for t in types.split(" or ")]
        unknown = [w for w in words if w not in TYPES]
        assert not unknown, f"{command}: key {key!r} has unknown type(s) {unknown} (use {sorted(TYPES)})"
        assert key not in out, f"{command}: key {key!r} documented twice"
        out[key] = (tuple(TYPES[w] for w in words), present.strip() == "always")
    return out


def _matches(pattern: str, path: str) -> bool:
    """A documented key (``<...>`` stands for any one key) against a dotted JSON path."""
    a, b = pattern.split("."), path.split(".")
    return len(a) == len(b) and all(x == y or re.fullmatch(r"<[^>]+>", x) for x, y in zip(a, b))


def json_paths(obj: dict, prefix: str = "") -> dict:
    """Every key of a JSON object, nested objects included, as ``{dotted path: value}``.

    The objects of a list of objects are entered too, under their index: ``runs.0.seed``."""
    out = {}
    for k, v in obj.items():
        out[prefix + k] = v
        if isinstance(v, dict):
            out.update(json_paths(v, prefix + k + "."))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out[f"{prefix}{k}.{i}"] = x
                out.update(json_paths(x, f"{prefix}{k}.{i}."))
    return out


def check_output(command: str, output: dict, full: bool) -> None:
    """``full``: the output must show every documented key; else exactly the 'always' ones."""
    doc = documented_keys(command)
    paths = json_paths(output)
    seen = set()
    for path, value in paths.items():
        hits = [k for k in doc if _matches(k, path)]
        assert hits, f"mcover {command} --json: key {path!r} is not documented in docs/cli.md"
        assert len(hits) == 1, f"{command}: {path!r} matches several documented keys {hits}"
        types, always = doc[hits[0]]
        assert type(value) in types, (
            f"mcover {command} --json: {path!r} = {value!r} is a {type(value).__name__}, documented as "
            f"{[t.__name__ for t in types]}")
        if not full:
            assert always, f"mcover {command}: {path!r} is documented as conditional but appeared"
        seen.add(hits[0])
    wanted = set(doc) if full else {k for k, (_, always) in doc.items() if always}
    missing = sorted(wanted - seen)
    assert not missing, f"mcover {command} --json lacks documented key(s) {missing}"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A small loopy model (an Ising square, a field and a dense table) written as a .fg file."""
    import fgraph

    g = fgraph.FactorGraph()
    g.add_variables(4)
    g.add_ising([[0, 1], [1, 2], [2, 3], [3, 0]], J=0.4)
    g.add_field(0, 0.2)
    g.add_factor([0, 2], [[1.0, 2.0], [0.5, 1.0]])
    path = tmp_path_factory.mktemp("docs") / "model.fg"
    fgraph.write(g.compile(), path)
    return path


def run_json(capsys, *argv) -> dict:
    from mcover.cli import main

    code = main([*map(str, argv), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_info_json_keys(capsys, model):
    check_output("info", run_json(capsys, "info", model, "--max-width", "0"), full=False)
    check_output("info", run_json(capsys, "info", model), full=True)


def test_bp_json_keys(capsys, model):
    check_output("bp", run_json(capsys, "bp", model), full=False)
    check_output("bp", run_json(capsys, "bp", model, "--mode", "max"), full=True)


def test_lift_json_keys(capsys, model, tmp_path):
    check_output("lift", run_json(capsys, "lift", model, "--M", "3", "--kernel", "ring:1.0"), full=False)
    full = run_json(capsys, "lift", model, "--M", "3", "--kernel", "ring:1.0", "-o", tmp_path / "cover.fg")
    check_output("lift", full, full=True)


def test_compare_json_keys(capsys, model, tmp_path):
    args = ("compare", model, "--M", "2", "--init", "asymmetric")
    check_output("compare", run_json(capsys, *args), full=False)
    check_output("compare", run_json(capsys, *args, "--plot", tmp_path / "c.png"), full=True)


def test_amp_json_keys(capsys, tmp_path):
    args = ("amp", "--n", "200", "--alpha", "2", "--iterations", "5")
    check_output("amp", run_json(capsys, *args), full=False)
    full = run_json(capsys, *args, "--M", "2", "--kernel", "ring:1.0", "--plot", tmp_path / "a.png")
    check_output("amp", full, full=True)


def test_route_json_keys(capsys, tmp_path):
    args = ("route", "--n", "31", "--epochs", "2", "--seeds", "2", "--M", "2", "--n-test", "200")
    check_output("route", run_json(capsys, *args, "--model", "committee"), full=False)
    full = run_json(capsys, *args, "--baseline", "--plot", tmp_path / "r.png")
    check_output("route", full, full=True)


def test_quant_json_keys(capsys, tmp_path):
    small = {"rs": ("--beta", "10"), "phase": ("--bits-range", "1:2", "--widths", "0.5:3:3"),
             "width": ("--n-grid", "5"), "curve": ("--alphas", "0.5:2:3")}
    for action, args in small.items():
        check_output(f"quant {action}", run_json(capsys, "quant", action, *args), full=False)
        full = run_json(capsys, "quant", action, *args, "--plot", tmp_path / f"{action}.png")
        check_output(f"quant {action}", full, full=True)


def test_ste_json_keys(capsys, tmp_path):
    args = ("ste", "--d", "100", "--tau", "5", "--eta", "0.2", "--points", "11")
    check_output("ste", run_json(capsys, *args), full=False)
    full = run_json(capsys, *args, "--seeds", "2", "--teacher", "gaussian", "--plot", tmp_path / "s.png")
    check_output("ste", full, full=True)


def test_sweep_json_keys(capsys, tmp_path):
    from mcover.cli import main

    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"task": "se", "grid": {"alpha": [1.0, 2.0]}}))
    out = tmp_path / "runs"
    check_output("sweep", run_json(capsys, "sweep", spec, "--out", out, "--workers", "0"), full=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    check_output("sweep --collect", run_json(capsys, "sweep", "--collect", empty), full=False)
    bad = tmp_path / "bad.json"  # one job that fails: the conditional keys of failures
    bad.write_text(json.dumps({"task": "se", "grid": {"alpha": [1.0], "prior": ["binary", "nonsense"]},
                               "description": "one bad prior"}))
    code = main(["sweep", str(bad), "--out", str(out), "--workers", "0", "--retries", "0", "--csv",
                 str(tmp_path / "t.csv"), "--jsonl", str(tmp_path / "t.jsonl"), "--json"])
    text, err = capsys.readouterr()
    assert code == 1, err
    check_output("sweep", json.loads(text), full=True)
    full = run_json(capsys, "sweep", "--collect", out, "--csv", tmp_path / "c.csv", "--jsonl",
                    tmp_path / "c.jsonl")
    check_output("sweep --collect", full, full=True)


def test_every_subcommand_is_documented():
    from mcover.cli import build_parser

    text = CLI_DOC.read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"## `mcover {name}`" in text, f"docs/cli.md has no section for mcover {name}"


# ----------------------------------------------------------------------------- docs/theory.md
def theory_headings() -> tuple[list, list]:
    text = THEORY.read_text(encoding="utf-8")
    sections = [(int(n), t.strip()) for n, t in re.findall(r"^## (\d+)\. (.+)$", text, flags=re.M)]
    found = re.findall(r"^### (\d+)\.(\d+) (.+)$", text, flags=re.M)
    subs = [(int(a), int(b), t.strip()) for a, b, t in found]
    return sections, subs


def test_theory_sections_are_numbered_in_order():
    sections, subs = theory_headings()
    numbers = [n for n, _ in sections]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert len(numbers) >= 6
    titles = dict(sections)
    assert "belief propagation" in titles[1].lower()
    assert "bethe" in titles[2].lower()
    assert "cover" in titles[3].lower()
    assert "kernel" in titles[4].lower()
    assert "cycle" in titles[5].lower()
    assert "amp" in titles[6].lower()
    # subsections: N.1, N.2, ... in order, each under its own section
    text = THEORY.read_text(encoding="utf-8")
    current, expected = 0, 1
    for line in text.splitlines():
        if m := re.match(r"^## (\d+)\. ", line):
            current, expected = int(m.group(1)), 1
        elif m := re.match(r"^### (\d+)\.(\d+) ", line):
            assert (int(m.group(1)), int(m.group(2))) == (current, expected), line
            expected += 1
        elif line.startswith("### "):
            pytest.fail(f"unnumbered subsection in docs/theory.md: {line!r}")
    for n in range(1, 7):
        assert any(a == n for a, _, _ in subs), f"section {n} has no numbered subsections"


def test_theory_contents_lists_every_subsection():
    text = THEORY.read_text(encoding="utf-8")
    toc = " ".join(text.split("## Contents", 1)[1].split("\n---", 1)[0].split())
    sections, subs = theory_headings()
    for n, title in sections:
        assert f"{n}. [{title}]" in toc, f"contents lack section {n}. {title}"
    for a, b, title in subs:
        assert f"{a}.{b} {title}" in toc, f"contents lack {a}.{b} {title}"


def _tracked_files() -> list[Path]:
    try:
        res = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60)
        names = [n for n in res.stdout.decode().split("\0") if n]
    except (OSError, subprocess.SubprocessError):  # no git: every file outside the usual build folders
        skip = {".git", ".v", "build", "__pycache__"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    names += ["docs/theory.md", "docs/cli.md", "tests/test_docs.py"]  # also before their first commit
    return [ROOT / n for n in sorted(set(names))]


def _texts():
    for path in _tracked_files():
        if path.is_file():
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def test_theory_citations_exist():
    sections, subs = theory_headings()
    known = {str(n) for n, _ in sections} | {f"{a}.{b}" for a, b, _ in subs}
    bad = []
    for path, text in _texts():
        for ref in re.findall(r"docs/theory\.md,? §(\d+(?:\.\d+)?)", text):
            if ref not in known:
                bad.append(f"{path.relative_to(ROOT)}: §{ref}")
    assert not bad, f"citations of sections that docs/theory.md does not have: {bad}"


# ----------------------------------------------------------------------------- self-containment
#: Pointers to files outside the repository: the sibling shared folder, the internal notes, issue
#: trackers.  (Written with escapes so that this file does not match itself.)
OUTSIDE = {
    "sibling shared folder": re.compile(r"\.\./shared\b|(?<![\w/])shared/data/"),
    "internal notes": re.compile(r"\b(?:SCIENCE|DESIGN|STYLE)\.md\b"),
    "issue tracker": re.compile(r"github\.com/\S*/issues"),
}
#: The tests' oracle data folder is the one outside location the repository may name.
ALLOWED = {"tests/conftest.py": {"sibling shared folder"}}


def _outside_references() -> list[str]:
    """``path:line: what`` for every line of a tracked file that points outside the repository."""
    found = []
    me = Path(__file__).resolve()
    for path, text in _texts():
        rel = path.relative_to(ROOT).as_posix()
        if path.resolve() == me:
            continue
        for k, line in enumerate(text.splitlines(), 1):
            for what, pattern in OUTSIDE.items():
                if pattern.search(line) and what not in ALLOWED.get(rel, ()):
                    found.append(f"{rel}:{k}: {what}")
    return found


def test_no_references_outside_the_repository():
    found = _outside_references()
    assert not found, f"{len(found)} line(s) point outside the repository:\n" + "\n".join(found)
