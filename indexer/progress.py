"""Progress of the embedding stages of a build: a tqdm bar on a terminal, plain lines elsewhere.

``progress_bar(total, desc, enabled)`` returns a context manager with ``update(n)``:

- ``enabled=None`` (the CLI default): a tqdm bar when stderr is a terminal; otherwise (a log file, CI, a
  pipe) plain lines "embedden passages: 480/1200 (40%)" at most every ``EVERY_SECONDS`` and at every
  ``STEP_PERCENT``, plus a last line, since a redrawn bar in a log file is one unreadable line;
- ``enabled=True``: the tqdm bar even when not a terminal;
- ``enabled=False``: nothing.

Nothing is shown for a stage with nothing to embed (everything came from the cache).
"""
from __future__ import annotations

import sys
import time

STEP_PERCENT = 10
EVERY_SECONDS = 5.0


class PlainProgress:
    """Plain progress lines on a stream (stderr): start, each ``STEP_PERCENT`` or ``EVERY_SECONDS``, end."""

    def __init__(self, total: int, desc: str, unit: str, stream=None):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.shown_step = -1
        self.shown_at = 0.0

    def __enter__(self) -> "PlainProgress":
        if self.total:
            self._line()
        return self

    def update(self, n: int) -> None:
        self.done += n
        step = self.done * 100 // max(self.total, 1) // STEP_PERCENT
        if step > self.shown_step or time.monotonic() - self.shown_at >= EVERY_SECONDS:
            self._line()

    def _line(self) -> None:
        percent = self.done * 100 // max(self.total, 1)
        print(f"embedden {self.desc}: {self.done}/{self.total} {self.unit} ({percent}%)", file=self.stream, flush=True)
        self.shown_step = percent // STEP_PERCENT
        self.shown_at = time.monotonic()

    def __exit__(self, *exc) -> None:
        if self.total and self.done and self.shown_step < 100 // STEP_PERCENT:
            self._line()


def progress_bar(total: int, desc: str, enabled: bool | None, unit: str = "teksten"):
    """A progress display for ``total`` texts to embed (see the module docstring for ``enabled``)."""
    from tqdm import tqdm

    if enabled is None and not sys.stderr.isatty():
        return PlainProgress(total, desc, unit)
    disable = not (enabled if enabled is not None else True) or total == 0
    return tqdm(total=total, desc=f"embedden {desc}", unit=f" {unit}", disable=disable, dynamic_ncols=True,
                mininterval=0.5, file=sys.stderr)
