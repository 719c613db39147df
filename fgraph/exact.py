"""Exact inference (placeholder: being written)."""


def log_z(graph):  # pragma: no cover - placeholder
    raise NotImplementedError


def marginals(graph):  # pragma: no cover - placeholder
    raise NotImplementedError


def map_state(graph):  # pragma: no cover - placeholder
    raise NotImplementedError
