"""The index format (indexer/index_format.py): what the writer stores, the reader gives back."""
from __future__ import annotations

import json

import numpy as np
import pytest

from indexer import index_format as fmt
from indexer.errors import CorruptIndex
from indexer.records import Passage, Problem, Record
from indexer.thesaurus import Concept


def _records() -> list[Record]:
    a = Record(id="exp-a", kind="expert", title="Anna Smit", source="experts/anna.md", body="Toetsen.",
               url="https://voorbeeld.nl/anna", tags=["toetsing"], fields={"name": "Anna Smit", "available": False},
               links=[("tg-x", "member_of")])
    g = Record(id="tg-x", kind="themegroup", title="Themagroep X", source="groepen/x.md",
               fields={"name": "Themagroep X", "open": False})
    lit = Record(id="lit-1", kind="literature", title="Een boek", source="kr/1.md", derived_from="kr-1",
                 fields={"year": 2020, "authors": ["Jansen, P."]})
    return [a, g, lit]


def _write(tmp_path):
    records = _records()
    passages = [Passage("exp-a", 0, "Anna Smit. Toetsen.", None, None),
                Passage("tg-x", 0, "Themagroep X", "Kop", 3),
                Passage("exp-a", 1, "Meer over toetsen.", "Meer", None)]
    files = [fmt.FileEntry(fmt.file_key(tmp_path, "experts/anna.md"), str(tmp_path.resolve()), "experts/anna.md",
                           "ab" * 32, 120, ["exp-a"])]
    concepts = [Concept("t-toets", "toetsen", "toetsing", "Beoordelen.", ["examinering"], [], ["t-x"], []),
                Concept("t-x", "x", "", "", [], ["t-toets"], [], ["t-toets"])]
    problems = [Problem("kapot.pdf", "cannot be read", line=3)]
    fmt.write_records_db(tmp_path / fmt.RECORDS_DB, records, passages, files, concepts, problems,
                         {"exp-a": ["t-toets"]})
    return records, passages, files, concepts


def test_records_db_round_trip(tmp_path):
    records, passages, files, concepts = _write(tmp_path)
    with fmt.IndexReader(tmp_path, immutable=True) as reader:
        back = reader.records()
        assert [r.id for r in back] == ["exp-a", "tg-x", "lit-1"]
        assert [r.row for r in back] == [0, 1, 2]
        anna = back[0]
        assert (anna.kind, anna.title, anna.url, anna.tags, anna.body) == \
            ("expert", "Anna Smit", "https://voorbeeld.nl/anna", ["toetsing"], "Toetsen.")
        assert anna.fields == {"name": "Anna Smit", "available": False} and anna.concepts == ["t-toets"]
        assert back[2].derived_from == "kr-1" and back[2].concepts == []
        assert reader.record("tg-x").fields == {"name": "Themagroep X", "open": False}
        assert reader.record("nope") is None
        assert reader.passages() == passages                                   # row order
        assert [p.ordinal for p in reader.passages("exp-a")] == [0, 1]          # one record, by ordinal
        assert reader.links() == [("exp-a", "tg-x", "member_of")]
        assert reader.links("tg-x") == []
        assert reader.files() == {f.key: f for f in files}
        assert reader.concepts() == concepts
        assert reader.problems() == [{"path": "kapot.pdf", "line": 3, "level": "error",
                                      "message": "cannot be read"}]


def test_one_record_type_with_status(tmp_path):
    _write(tmp_path)
    with fmt.IndexReader(tmp_path) as reader:
        anna, group, lit = reader.records()
    assert not anna.active and anna.status == "niet beschikbaar"
    assert group.active and group.status == "neemt geen nieuwe leden aan"
    assert lit.active and lit.status is None
    group.fields["status"] = "gestopt"
    assert not group.active and group.status == "gestopt"


def test_manifest_checks_version_size_and_checksum(tmp_path):
    _write(tmp_path)
    fmt.write_concept_vectors(tmp_path, np.zeros((2, 4), np.float32))
    fmt.write_manifest(tmp_path, {"name": "test"})
    manifest = fmt.read_manifest(tmp_path)
    assert manifest["format_version"] == fmt.FORMAT_VERSION
    assert set(manifest["checksums"]) == {fmt.RECORDS_DB, fmt.CONCEPT_VECTORS}
    assert fmt.read_concept_vectors(tmp_path).shape == (2, 4)

    path = tmp_path / fmt.CONCEPT_VECTORS
    path.write_bytes(path.read_bytes()[:-4] + b"\1\1\1\1")                  # same size, other bytes
    with pytest.raises(CorruptIndex, match="checksum"):
        fmt.read_manifest(tmp_path)
    fmt.read_manifest(tmp_path, verify=False)                               # without verify: fine

    old = json.loads((tmp_path / fmt.MANIFEST).read_text("utf-8"))
    old["format_version"] = fmt.FORMAT_VERSION - 1
    (tmp_path / fmt.MANIFEST).write_text(json.dumps(old), "utf-8")
    with pytest.raises(CorruptIndex, match="--rebuild"):
        fmt.read_manifest(tmp_path, verify=False)
