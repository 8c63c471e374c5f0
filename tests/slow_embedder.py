"""Run the real ``schakel`` CLI with a slow embedder, for the kill -9 tests.

    python tests/slow_embedder.py index CORPUS --home H

The embedder factory has no plugin hook, so this script registers the slow
embedder in its cache (spec ``slow``) and sets ``SCHAKEL_EMBEDDER=slow``
before handing over to ``schakel.cli.main``; everything else is the real
command. The embedder computes exactly the ``hash:256`` vectors under the
name ``hash:256``, so an index it builds is queried with ``hash:256``.

Environment:
- ``SLOW_EMBED_SECONDS``: sleep per embedding batch (default 0.1).
- ``SLOW_MARK_DIR``: folder for marker files ``embedding`` (first batch
  started) and ``publishing`` (the build is complete in ``builds/.tmp-*``
  and is about to be renamed and made current).
- ``SLOW_PUBLISH_SECONDS``: sleep after writing the ``publishing`` marker,
  before the real publish (default 0).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from indexer import embedders, store
from indexer.embedders import HashEmbedder


def _mark(name: str) -> None:
    folder = os.environ.get("SLOW_MARK_DIR")
    if folder:
        path = Path(folder) / name
        if not path.exists():
            path.write_text(str(os.getpid()), "utf-8")


class SlowEmbedder(HashEmbedder):
    def __init__(self, seconds: float):
        super().__init__(256)          # name 'hash:256': same vectors, same name
        self.seconds = seconds

    def embed_passages(self, texts):
        _mark("embedding")
        time.sleep(self.seconds)
        return super().embed_passages(texts)


def install() -> None:
    embedders._CACHE["slow"] = SlowEmbedder(float(os.environ.get("SLOW_EMBED_SECONDS", "0.1")))
    os.environ["SCHAKEL_EMBEDDER"] = "slow"
    real_publish = store.Home.publish
    pause = float(os.environ.get("SLOW_PUBLISH_SECONDS", "0"))

    def publish(self, tmp):
        _mark("publishing")
        time.sleep(pause)
        return real_publish(self, tmp)

    store.Home.publish = publish


if __name__ == "__main__":
    install()
    from schakel.cli import main

    main()
