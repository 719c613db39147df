"""One layer per package: the import graph of the library follows the design.

``fgraph`` imports no sibling package; ``algorithms`` imports ``fgraph`` only (a
lift is itself a compiled graph); ``lifts`` imports ``fgraph`` and
``algorithms``; ``mcover`` may import all three and none imports it.  No
package imports another package's private module or name (a leading
underscore), eagerly or lazily inside a function.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("fgraph", "algorithms", "lifts", "mcover")
ALLOWED = {
    "fgraph": set(),
    "algorithms": {"fgraph"},
    "lifts": {"fgraph", "algorithms"},
    "mcover": {"fgraph", "algorithms", "lifts"},
}


def _imports(path: Path):
    """(line, module, names) of every import in a file, relative imports resolved."""
    pkg_parts = path.relative_to(ROOT).with_suffix("").parts[:-1]  # the package holding the module
    return _imports_of(path.read_text(), pkg_parts)


def _imports_of(source: str, pkg_parts):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg_parts[: len(pkg_parts) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield node.lineno, mod, [a.name for a in node.names]


def _files(pkg):
    return sorted((ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("pkg", PACKAGES)
def test_packages_import_only_the_layers_below(pkg):
    bad = []
    for path in _files(pkg):
        for line, mod, _ in _imports(path):
            top = mod.split(".")[0]
            if top in PACKAGES and top != pkg and top not in ALLOWED[pkg]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_no_package_imports_another_packages_private_names(pkg):
    bad = []
    for path in _files(pkg):
        for line, mod, names in _imports(path):
            parts = mod.split(".")
            if parts[0] not in PACKAGES or parts[0] == pkg:
                continue
            private = [p for p in parts[1:] if p.startswith("_")] + [n for n in names if n.startswith("_")]
            if private:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} {names}")
    assert not bad, "\n".join(bad)


def test_the_checker_resolves_relative_and_lazy_imports():
    """The parser sees imports inside functions and resolves relative ones (so the tests can fail)."""
    src = "from ..denoisers import kernels\ndef f():\n    from lifts._perm_kernels import g\n"
    got = list(_imports_of(src, ("algorithms", "amp")))
    assert (1, "algorithms.denoisers", ["kernels"]) in got
    assert (3, "lifts._perm_kernels", ["g"]) in got
