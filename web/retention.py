"""Retention kept by the server itself: purge at start-up and then every ``PURGE_INTERVAL_HOURS``.

Nobody has to remember ``schakel purge``: ``create_app`` starts one daemon
thread per app database that deletes intakes, follow-ups, notes and feedback
older than ``RETENTION_DAYS`` (the setting, also from ``schakel.cfg`` and
``SCHAKEL_RETENTION_DAYS``) and sessions past their absolute lifetime. The
thread sleeps on an ``Event`` between runs (no CPU). With several worker
processes each runs it; the deletes are idempotent.

``PURGE_INTERVAL_HOURS`` (setting ``purge_interval_hours``): default 24; 0
switches the schedule off (then run ``schakel purge`` from cron or a systemd
timer). Test apps (``TESTING``) start no schedule unless the interval was set
explicitly (its source is not the default).
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

from indexer.errors import InvalidInput

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_HOURS = 24.0
_running: dict[str, "PurgeSchedule"] = {}
_lock = threading.Lock()


def retention_days(config) -> int:
    """The configured retention in whole days (at least 1). Raises InvalidInput naming the setting."""
    raw = config.get("RETENTION_DAYS")
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = 0
    if isinstance(raw, bool) or days < 1 or str(days) != str(raw).strip():
        raise InvalidInput(f"RETENTION_DAYS={raw!r}: give a whole number of days, at least 1",
                           field="RETENTION_DAYS")
    return days


class PurgeSchedule:
    """A daemon thread running ``store.purge(days, session_seconds)`` now and every ``interval`` seconds."""

    def __init__(self, store, days: int, interval: float, session_seconds: int):
        self.store, self.days, self.interval, self.session_seconds = store, days, interval, session_seconds
        self.runs = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="schakel-purge", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                counts = self.store.purge(self.days, session_seconds=self.session_seconds)
                log.info("retention purge (older than %d days): %s", self.days, counts)
            except Exception:  # a failed run must not end the schedule
                log.exception("retention purge failed")
            self.runs += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)


def install(app: Flask, store) -> PurgeSchedule | None:
    """Check the retention setting and start the schedule for ``store``; returns it (also kept in
    ``app.extensions["schakel_purge"]``), or None when switched off."""
    from .sessions import ABSOLUTE_SECONDS

    days = retention_days(app.config)
    hours = app.config.get("PURGE_INTERVAL_HOURS", DEFAULT_INTERVAL_HOURS)
    cfg = app.config.get("SCHAKEL_SETTINGS")
    explicit = cfg is not None and "purge_interval_hours" in cfg and cfg.source("purge_interval_hours") != "default"
    if app.config.get("TESTING") and not explicit:
        return None
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise InvalidInput(f"PURGE_INTERVAL_HOURS={hours!r} is not a number", field="PURGE_INTERVAL_HOURS") from None
    if hours <= 0:
        return None
    key = str(store.path.resolve())
    schedule = PurgeSchedule(store, days, hours * 3600,
                             int(app.config.get("SESSION_ABSOLUTE_SECONDS") or ABSOLUTE_SECONDS))
    with _lock:  # one schedule per database per process: a newer app replaces the older one's
        previous = _running.pop(key, None)
        if previous is not None:
            previous.stop()
        _running[key] = schedule
        schedule.thread.start()
    app.extensions["schakel_purge"] = schedule
    return schedule
