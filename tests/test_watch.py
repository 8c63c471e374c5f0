"""`schakel index --watch` (indexer/watch.py): a change to the corpus is indexed after the debounce,
a burst of changes makes one rebuild, a broken rebuild leaves the published index serving."""
from __future__ import annotations

import threading
import time


from indexer import settings

EXPERT = """---
id: exp-{n}
name: Expert {n}
organisation: Org {n}
expertise:
- kennisclips en video
---
Wij helpen met kennisclips (versie {n}).
"""


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_changes_are_indexed_once_per_burst_while_the_index_keeps_serving(tmp_path):
    from indexer.store import Home
    from indexer.watch import watch

    corpus = tmp_path / "corpus" / "experten"
    corpus.mkdir(parents=True)
    (corpus / "a.md").write_text(EXPERT.format(n=1), "utf-8")
    cfg = settings.resolve({"home": str(tmp_path / "home"), "embedder": "hash:64"})
    reports, errors, stop = [], [], threading.Event()
    thread = threading.Thread(target=watch, args=([corpus.parent], cfg, lambda r, c: reports.append((r, c)),
                                                  errors.append), kwargs={"debounce_ms": 2000, "stop": stop})
    thread.start()
    try:
        assert wait_for(lambda: len(reports) == 1)
        first = Home(cfg.home).current_name()
        for n in range(2, 6):  # a burst: one rebuild
            (corpus / f"b{n}.md").write_text(EXPERT.format(n=n), "utf-8")
        assert wait_for(lambda: len(reports) == 2)
        time.sleep(3)  # longer than the debounce: a second rebuild would have started by now
        assert len(reports) == 2, [c for _, c in reports]
        report, changes = reports[1]
        assert sum(report.kinds.values()) == 5 and len(changes) == 4
        assert Home(cfg.home).current_name() != first
        (corpus / "kapot.md").write_text("---\nid: [unclosed\n---\n", "utf-8")
        assert wait_for(lambda: len(reports) + len(errors) == 3)
        assert Home(cfg.home).current() .is_dir()  # still a published build to serve from
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_watch_ignores_writes_inside_home(tmp_path):
    from indexer.watch import _filter
    from watchfiles import Change

    accept = _filter(tmp_path / "home")
    assert not accept(Change.added, str(tmp_path / "home" / "index" / "x"))
    assert accept(Change.added, str(tmp_path / "corpus" / "x.md"))
    assert not accept(Change.modified, str(tmp_path / "corpus" / ".x.md.swp"))
