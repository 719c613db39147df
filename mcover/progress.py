"""A one-line progress bar on standard error, for the command line and the examples (no dependency)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """A one-line progress bar (ticks done / total, elapsed and remaining time) on a stream.

    Parameters
    ----------
    total : int
        Number of ticks expected.
    label : str
        Shown before the bar.
    stream : file, optional
        Where to draw (default ``sys.stderr``).
    enabled : bool, optional
        Draw or not; default: whether ``stream`` is a terminal, so that logs
        and pipes stay clean.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = Progress(2, "runs", stream=out, enabled=True)
    >>> bar.tick(note="first"); bar.tick(note="second")
    >>> out.getvalue().count("2/2"), out.getvalue().endswith("\\n")
    (1, True)
    """

    WIDTH = 30

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool | None = None):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty()) if callable(isatty) else False
        self.enabled = bool(enabled)
        self.total = max(int(total), 1)
        self.done = 0
        self.label = label
        self.t0 = time.perf_counter()
        self._closed = False

    def tick(self, n: int = 1, note: str = "") -> None:
        """Count ``n`` more ticks and redraw; the bar ends its line when the total is reached."""
        self.done = min(self.done + int(n), self.total)
        if not self.enabled:
            return
        full = self.WIDTH * self.done // self.total
        secs = time.perf_counter() - self.t0
        left = secs / self.done * (self.total - self.done) if self.done else 0.0
        self.stream.write(f"\r{self.label} [{'#' * full}{'.' * (self.WIDTH - full)}] "
                          f"{self.done}/{self.total} {secs:5.0f} s, ~{left:4.0f} s left  {note:<32}")
        self.stream.flush()
        if self.done == self.total:
            self.close()

    def close(self) -> None:
        """End the bar's line (once)."""
        if self.enabled and not self._closed:
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True
