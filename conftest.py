"""Root pytest configuration: keep entry-point scripts out of doctest collection."""

collect_ignore = ["mcover/__main__.py", "setup.py"]
collect_ignore_glob = ["benchmarks/*", "examples/*", "build/*", ".v/*"]
