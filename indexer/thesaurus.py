"""The domain thesaurus: concepts with labels, synonyms, broader and related concepts.

The built-in thesaurus is ``indexer/data/thesaurus.yaml``, package data found
through ``importlib.resources``, so an installed wheel has it as much as a
source checkout (the demo corpus' ``corpus/thesaurus.yaml`` is a link to it). A
missing or unreadable built-in thesaurus is an error (``InstallationBroken``),
never a silent build without concepts. A corpus may add a ``thesaurus.yaml`` at
its root and a user may add one more file (setting ``thesaurus``); later files
add concepts or extend existing ones (synonyms and links are merged, label and
definition replaced).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Iterable

import yaml

from .errors import InstallationBroken, InvalidInput

BUILTIN: Traversable | Path = files("indexer").joinpath("data", "thesaurus.yaml")
GROUPS = ("didactiek", "toetsing", "begeleiding", "ict", "professionalisering", "organisatie", "werkveld",
          "inclusie", "internationalisering", "onderzoek", "curriculum", "samenwerking")


@dataclass
class Concept:
    """A thesaurus concept: label, group (a theme such as those in ``GROUPS``), definition, synonyms, and the ids of broader, related
    and organisation concepts."""
    id: str
    label: str
    group: str = ""
    definition: str = ""
    synonyms: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    organisation: list[str] = field(default_factory=list)

    def terms(self) -> list[str]:
        """The label and the synonyms: the words that name the concept in text."""
        return [self.label] + self.synonyms

    def definition_text(self) -> str:
        """The text that a question is compared with to detect the concept: label and definition, embedded as a
        query (e5's 'query: ' on both sides suits symmetric text-to-text similarity, Wang et al. 2022)."""
        return f"{self.label}. {self.definition}".strip()

    def embed_text(self) -> str:
        """The text whose embedding represents the concept: label, definition and up to eight synonyms."""
        syn = ", ".join(self.synonyms[:8])
        return f"{self.label}. {self.definition} {syn}".strip()


def _list(value, where: str, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise InvalidInput(f"{where}: field '{name}' must be a list of texts", field=name)
    return [str(v).strip() for v in value if str(v).strip()]


#: PyYAML's safe loader on libyaml where the binding is built (as in PyYAML's wheels): the same documents, eight
#: times faster on the built-in thesaurus (0.05 against 0.42 s, every build and every start of the server)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(path: Path | Traversable) -> list[Concept]:
    """The concepts of one thesaurus YAML file; ``InvalidInput`` naming the file (and line) when it cannot
    be read or is not a thesaurus."""
    try:
        data = yaml.load(path.read_text("utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise InvalidInput(f"{path}{line}: invalid YAML: {getattr(exc, 'problem', exc)}", field="thesaurus") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc.strerror}", field="thesaurus") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: is not UTF-8 text", field="thesaurus") from None
    if data is None:
        return []
    items = data.get("concepts") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput(f"{path}: expected a list under 'concepts:'", field="thesaurus")
    out = []
    for n, item in enumerate(items, start=1):
        where = f"{path}: concept #{n}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} is not a mapping", field="thesaurus")
        cid = str(item.get("id") or "").strip()
        label = str(item.get("label") or "").strip()
        if not cid or not label:
            raise InvalidInput(f"{where} needs both 'id' and 'label'", field="id" if not cid else "label")
        where = f"{path}: concept '{cid}'"
        out.append(Concept(
            id=cid, label=label, group=str(item.get("group") or "").strip(),
            definition=str(item.get("definition") or "").strip(),
            synonyms=_list(item.get("synonyms"), where, "synonyms"),
            broader=_list(item.get("broader"), where, "broader"),
            related=_list(item.get("related"), where, "related"),
            organisation=_list(item.get("organisation"), where, "organisation")))
    return out


def merge(layers: Iterable[list[Concept]]) -> dict[str, Concept]:
    """Concepts by id from LAYERS, later layers over earlier ones: label, definition and group replaced, synonyms
    and links added. Links to unknown concepts (and to the concept itself) are dropped."""
    merged: dict[str, Concept] = {}
    for layer in layers:
        for c in layer:
            old = merged.get(c.id)
            if old is None:
                merged[c.id] = c
                continue
            old.label = c.label or old.label
            old.definition = c.definition or old.definition
            old.group = c.group or old.group
            for name in ("synonyms", "broader", "related", "organisation"):
                values = getattr(old, name)
                values += [v for v in getattr(c, name) if v not in values]
    # drop dangling references rather than failing: a user file may refer to concepts of a newer built-in
    for c in merged.values():
        c.broader = [b for b in c.broader if b in merged and b != c.id]
        c.related = [r for r in c.related if r in merged and r != c.id]
        c.organisation = [o for o in c.organisation if o in merged]
    return merged


def builtin() -> list[Concept]:
    """The built-in thesaurus' concepts.

    Raises ``InstallationBroken`` when the package data file is missing, unreadable or not a
    thesaurus: Schakel without its thesaurus finds no concepts, asks no general question and has no
    coverage, so it must not start that way."""
    try:
        if not BUILTIN.is_file():
            raise InstallationBroken(f"the built-in thesaurus {BUILTIN} is missing: this Schakel installation is "
                                     "incomplete (reinstall it; the file ships as package data of 'indexer')",
                                     field="thesaurus")
        return load_file(BUILTIN)
    except InvalidInput as exc:
        raise InstallationBroken(f"the built-in thesaurus is unusable: {exc.message}", field="thesaurus") from None


def load(extra: Iterable[Path] = ()) -> dict[str, Concept]:
    """The built-in thesaurus merged with the ``extra`` files in order (see the module docstring).

    Raises ``InstallationBroken`` for a missing or broken built-in file, ``InvalidInput`` for a broken
    extra file."""
    layers = [builtin()]
    seen = {Path(str(BUILTIN)).resolve()}
    for path in extra:
        path = Path(path)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        layers.append(load_file(path))
    return merge(layers)


def depth(concepts: dict[str, Concept], cid: str, _seen: frozenset = frozenset()) -> int:
    """Number of broader steps from concept CID to the top of the hierarchy (longest path; 0 for a top concept or
    an unknown id; cycles are cut)."""
    c = concepts.get(cid)
    if c is None or not c.broader or cid in _seen:
        return 0
    return 1 + max(depth(concepts, b, _seen | {cid}) for b in c.broader)
