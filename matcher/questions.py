"""Question files: JSONL with one object per line that has at least a ``question`` text."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from indexer.errors import InvalidInput


def read_jsonl(path: str | Path, field: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) per non-empty line; a clear error naming the file, line and ``field`` otherwise."""
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise InvalidInput(f"question file {path} does not exist", field=field) from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc.strerror}", field=field) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: is not UTF-8 text", field=field) from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}:{n}: not valid JSON ({exc.msg})", field=field) from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise InvalidInput(f"{path}:{n}: expected an object with a 'question' text", field=field)
        yield n, item
