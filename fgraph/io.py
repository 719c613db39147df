"""File formats (placeholder: being written)."""


def read(path, evidence=None):  # pragma: no cover - placeholder
    raise NotImplementedError


def write(graph, path):  # pragma: no cover - placeholder
    raise NotImplementedError


def to_networkx(graph):  # pragma: no cover - placeholder
    raise NotImplementedError


def from_networkx(G):  # pragma: no cover - placeholder
    raise NotImplementedError
