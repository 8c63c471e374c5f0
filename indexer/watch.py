"""Keep the index fresh: re-index when a corpus folder changes (``schakel index --watch``).

File events come from watchfiles (Rust ``notify``: inotify on Linux, polling
where that is unavailable). A burst of changes (an editor saving, ``git pull``,
``rsync``) is debounced into one rebuild: watchfiles groups events until none
arrived for ``debounce`` milliseconds. Every rebuild goes through
``build_index``, which writes a new build beside the published one and switches
the pointer atomically, so running servers keep answering from the old build
until the new one is complete. A failed rebuild is reported and watching
continues; the published index stays as it was.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Sequence

from .errors import SchakelError

log = logging.getLogger(__name__)


def _filter(home: Path):
    """watchfiles' default filter (editor swap files, .git, caches), and nothing inside HOME (the index
    itself may live in a corpus folder's parent; its own writes must not trigger a rebuild)."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()
    home = home.resolve()

    def accept(change, path: str) -> bool:
        p = Path(path).resolve()
        return default(change, path) and home not in p.parents and p != home
    return accept


def watch(paths: Sequence[str | Path], config, on_report: Callable, on_error: Callable[[Exception], None],
          debounce_ms: int = 2000, stop: threading.Event | None = None, rebuild: bool = False) -> None:
    """Index ``paths`` now, then again after each debounced burst of changes, until ``stop`` is set.

    ``config``: resolved settings (indexer.settings.Config). ``on_report(BuildReport, changes)`` gets
    each build's report and the changed paths (empty for the first build); ``on_error(exc)`` gets a
    SchakelError of a failed rebuild (the watch goes on). The first build's errors raise (SchakelError,
    e.g. InvalidInput for a missing folder), as with ``build_index``.
    """
    from watchfiles import watch as file_events

    from .build import build_index

    folders = [Path(p) for p in paths]

    def build(changes: list[str]) -> None:
        try:
            on_report(build_index(folders, progress=False, config=config), changes)
        except SchakelError as exc:
            log.error("re-index failed: %s", exc)
            on_error(exc)

    on_report(build_index(folders, rebuild=rebuild, progress=False, config=config), [])  # errors raise here
    for changes in file_events(*folders, watch_filter=_filter(Path(config.home)), debounce=debounce_ms,
                               stop_event=stop, raise_interrupt=False):
        build(sorted({path for _, path in changes}))
