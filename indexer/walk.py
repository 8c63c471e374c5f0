"""The file walk over a corpus folder: every file is either handed to a reader or listed with a reason.

- hidden (``.``/``_``) files and folders, unknown extensions: skipped by rule (``skipped``);
- symbolic links: a link to a file outside the corpus is read as that file (one inside is listed, not
  read twice); a link that points nowhere or into a loop
  (``a.md -> b.md -> a.md``) is reported; a linked folder is followed once, unless its target is
  already part of the walk (a loop, or a second way into a folder of the corpus), then it is reported;
- a folder that cannot be listed and a name that is not valid UTF-8 are reported, the rest walked on;
- names are shown and ids made in Unicode NFC, so a file copied from a Mac (NFD names) gets the id a
  link written normally uses.

Built on ``os.scandir`` (one ``stat`` per entry, no recursion into links unless chosen here).
"""
from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from .readers import known_extension


@dataclass
class Entry:
    """One file met by the walk. ``rel`` is the NFC path relative to the corpus root (as the id and the
    messages use it); ``path`` the real path to open; ``problem`` set when it is reported instead of
    read (``error`` True) or skipped by rule (``error`` False)."""

    path: Path
    rel: PurePosixPath
    problem: str | None = None
    error: bool = False


def nfc_rel(parts: list[str]) -> PurePosixPath:
    """A relative POSIX path of PARTS, each NFC-normalised (a name means the same on macOS and Linux)."""
    return PurePosixPath(*[unicodedata.normalize("NFC", p) for p in parts])


def _bad_name(name: str) -> bool:
    try:
        name.encode("utf-8")
        return False
    except UnicodeEncodeError:  # os.fsdecode keeps undecodable bytes as lone surrogates
        return True


def shown_name(parts: list[str]) -> str:
    """A printable form of a path whose name may hold undecodable bytes: those as \\xNN."""
    raw = os.fsencode(os.path.join(*parts))
    return unicodedata.normalize("NFC", raw.decode("utf-8", errors="backslashreplace"))


def walk(root: Path) -> Iterator[Entry]:
    """Yield an Entry per file under ``root`` in a stable (sorted) order."""
    visited = {os.path.realpath(root)}
    yield from _walk_dir(root, [], visited)


def _walk_dir(folder: Path, parts: list[str], visited: set[str]) -> Iterator[Entry]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        yield Entry(folder, nfc_rel(parts or ["."]), f"folder cannot be read: {exc.strerror or exc}", error=True)
        return
    for entry in entries:
        yield from _one(entry, parts + [entry.name], visited)


def _one(entry: os.DirEntry, parts: list[str], visited: set[str]) -> Iterator[Entry]:
    path = Path(entry.path)
    if _bad_name(entry.name):
        yield Entry(path, PurePosixPath(shown_name(parts)), "file name is not valid UTF-8; rename the file",
                    error=True)
        return
    rel = nfc_rel(parts)
    if entry.name.startswith((".", "_")):
        yield from _hidden(path, rel, _is_dir(entry))
        return
    if entry.is_symlink():
        yield from _link(path, rel, parts, visited)
        return
    if _is_dir(entry):
        real = os.path.realpath(path)
        visited.add(real)
        yield from _walk_dir(path, parts, visited)
        return
    if not entry.is_file(follow_symlinks=False):
        yield Entry(path, rel, "not a regular file (device, socket or pipe)")
        return
    yield _file(path, rel)


def _hidden(path: Path, rel: PurePosixPath, is_dir: bool) -> Iterator[Entry]:
    """Files in a hidden file or folder, each listed as skipped (links inside are not followed)."""
    reason = "hidden file (name starts with '.' or '_')"
    if not is_dir:
        yield Entry(path, rel, reason)
        return
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            inner = Path(folder, name).relative_to(path)
            yield Entry(Path(folder, name), nfc_rel([*rel.parts, *inner.parts]), reason)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _file(path: Path, rel: PurePosixPath) -> Entry:
    if rel.as_posix() == "thesaurus.yaml":
        return Entry(path, rel, "thesaurus (merged, not a record)")
    if not known_extension(path):
        return Entry(path, rel, f"unknown extension '{path.suffix or '(none)'}'")
    return Entry(path, rel)


def _link(path: Path, rel: PurePosixPath, parts: list[str], visited: set[str]) -> Iterator[Entry]:
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 raises this for a loop
        yield Entry(path, rel, "symbolic link loop; skipped", error=True)
        return
    except OSError as exc:
        import errno

        if exc.errno == errno.ELOOP:
            yield Entry(path, rel, "symbolic link loop; skipped", error=True)
        else:
            yield Entry(path, rel, "broken link (its target does not exist)")
        return
    if target.is_dir():
        real = str(target)
        here = os.path.realpath(path.parent)
        if real == here or _is_within(real, here):
            yield Entry(path, rel, "symbolic link loop (a link to a folder that contains it); skipped", error=True)
            return
        if real in visited or any(_is_within(v, real) for v in visited):
            yield Entry(path, rel, f"link to a folder already in the corpus ({os.readlink(path)}); not followed")
            return
        if any(_is_within(real, v) for v in visited):
            yield Entry(path, rel, "link to a folder that contains this one (a loop); not followed", error=True)
            return
        visited.add(real)
        yield from _walk_dir(path, parts, visited)
        return
    if target.is_file():
        if any(_is_within(v, str(target)) for v in visited):
            yield Entry(path, rel, f"link to a file already in the corpus ({os.readlink(path)}); not read twice")
            return
        yield _file(path, rel)
        return
    yield Entry(path, rel, "link to something that is not a file or folder")


def _is_within(ancestor: str, path: str) -> bool:
    return path.startswith(ancestor + os.sep)
