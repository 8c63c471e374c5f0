"""Per-file resource limits: one file can neither stall nor exhaust an indexing run.

- ``MAX_FILE_BYTES``: the size of a corpus file on disk;
- ``MAX_UNPACKED_BYTES``: what a zip container (DOCX) unpacks to, and each PDF stream (through
  pypdf's own limits, see ``pdf_limits``): a 1 MB DOCX whose XML unpacks to 330 MB is refused
  before any XML is parsed;
- ``FILE_SECONDS``: wall-clock time for reading one file (a parser loop on a malformed PDF).

A file over a limit raises :class:`ReadError` naming the limit; ``read_corpus`` reports it with the
file name and reads the rest.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import zipfile
from typing import IO, Iterator

from .errors import ReadError

MB = 1024 * 1024
MAX_FILE_BYTES = 50 * MB
MAX_UNPACKED_BYTES = 100 * MB
FILE_SECONDS = 60.0


def read_bytes(path) -> bytes:
    """The bytes of a corpus file; ReadError when it is larger than ``MAX_FILE_BYTES``."""
    from pathlib import Path

    size = Path(path).stat().st_size
    if size > MAX_FILE_BYTES:
        raise ReadError(f"file is {size // MB} MB; the limit is {MAX_FILE_BYTES // MB} MB")
    return Path(path).read_bytes()


class FileTimeout(ReadError):
    """Reading one file took longer than ``FILE_SECONDS``."""


def check_zip(source: str | IO[bytes], what: str = "file") -> None:
    """Refuse a zip container whose members unpack to more than ``MAX_UNPACKED_BYTES`` in total.

    Uses the sizes in the zip directory: CPython's zipfile never returns more bytes for a member than
    its declared ``file_size`` (it stops there and fails the CRC check), so the declared total bounds
    what python-docx can be made to parse. Raises ReadError; a file that is not a zip is left to the
    format's reader to report.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            total = sum(max(info.file_size, 0) for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if total > MAX_UNPACKED_BYTES:
        raise ReadError(f"{what} unpacks to {total // MB} MB; the limit is {MAX_UNPACKED_BYTES // MB} MB "
                        "(a decompression bomb or an oversized document)")


@contextlib.contextmanager
def pdf_limits() -> Iterator[None]:
    """pypdf's own per-stream decompression limits, set to ``MAX_UNPACKED_BYTES`` (pypdf >= 6
    raises ``LimitReachedError`` when a stream would unpack beyond them)."""
    from pypdf import apply_configuration

    with apply_configuration(zlib_maximum_output_length=MAX_UNPACKED_BYTES,
                             lzw_maximum_output_length=MAX_UNPACKED_BYTES,
                             run_length_maximum_output_length=MAX_UNPACKED_BYTES,
                             array_based_stream_maximum_output_length=MAX_UNPACKED_BYTES,
                             stream_decoding_work_maximum_length=3 * MAX_UNPACKED_BYTES):
        yield


@contextlib.contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Raise :class:`FileTimeout` inside the block once ``seconds`` (default ``FILE_SECONDS``) have passed.

    Uses SIGALRM (``signal.setitimer``), which interrupts pure-Python parser loops (pypdf, the YAML
    and CSV readers). Signals only reach the main thread, so off the main thread (an indexer run from
    a web worker) or on a platform without SIGALRM the block runs without a time limit.
    """
    seconds = FILE_SECONDS if seconds is None else seconds
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and seconds > 0)
    if not usable:
        yield
        return

    def _expired(signum, frame):
        raise FileTimeout(f"reading took longer than {seconds:g} s and was stopped (a parser loop or an "
                          "oversized document)")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)  # again every second if a parser swallows it
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
