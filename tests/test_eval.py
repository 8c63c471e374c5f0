"""`schakel eval`: the figures (as the acceptance tool scores them), styles, halves, several files."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from matcher.evaluate import Outcome, Question, load_questions, measures
from schakel.cli import main
from schakel.eval_cmd import pair_sets

from conftest import DEMO, TEST_EMBEDDER

KIND_OF = {"e1": "expert", "e2": "expert", "g1": "themegroup", "g2": "themegroup", "l1": "literature"}


def _out(ranked, concepts=(), general="", clarified=False, matched=None):
    matched = sum(len(v) for v in ranked.values()) if matched is None else matched
    return Outcome(ranked, list(concepts), general, clarified, matched)


def test_measures_score_like_the_acceptance_tool():
    q1 = Question("a", "q", {"e1": 2, "e2": 1, "g1": 2, "l1": 1}, concepts=["peer feedback"])
    q2 = Question("b", "q", {"g2": 1}, vague=True, concepts=["blended leren"])
    o1 = _out({"expert": ["x", "e1"], "themegroup": ["x", "y", "z", "g1"], "literature": ["l1"]},
              concepts=[("c-feedback", "feedback geven")], general="Wat werkt bij feedback?")
    o2 = _out({"themegroup": ["g2"]}, concepts=[("c-blended", "Blended leren")], clarified=True)
    m = measures([(q1, o1), (q2, o2)], KIND_OF, {"peer feedback": "c-feedback"})
    ideal = 2 + 1 / 1.5849625
    assert m["ndcg5_per_kind"]["expert"] == pytest.approx((2 / 1.5849625) / ideal)  # gain = grade, not 2^g - 1
    assert m["ndcg5_per_kind"]["literature"] == pytest.approx(1.0)
    assert m["expert_recall5"] == pytest.approx(0.5)
    assert m["themegroup_top3"] == 0.0                     # g1 is fourth; the vague question does not count
    assert m["concept_hit3"] == 1.0                        # a synonym of a top-3 concept, and a label named
    assert (m["vague_precision"], m["vague_recall"], m["vague_f1"]) == (1.0, 1.0, 1.0)
    tg_q1 = 1 / 2.321928                                   # g1 fourth: 2 / log2(5), ideal 2
    assert m["ndcg5_per_kind"]["themegroup"] == pytest.approx((tg_q1 + 1.0) / 2)
    assert m["ndcg5"] == pytest.approx((m["ndcg5_per_kind"]["expert"] + tg_q1 + 1.0 + 1.0) / 4)  # pooled pairs


def test_off_topic_counts_only_an_answer_without_matches():
    off = Question("x", "asdf", {}, off_topic=True)
    on = Question("y", "q", {"e1": 2})
    m = measures([(off, _out({}, matched=0)), (on, _out({"expert": ["e1"]}))], KIND_OF, {})
    assert (m["off_topic_no_match"], m["on_topic_answered"]) == (1.0, 1.0)
    m = measures([(off, _out({"expert": ["e2"]})), (on, _out({}, matched=0))], KIND_OF, {})
    assert (m["off_topic_no_match"], m["on_topic_answered"]) == (0.0, 0.0)
    blind = Question("z", "q", {"l1": 2}, blind_spot=True)
    assert measures([(blind, _out({"expert": ["e1"], "literature": ["l1"]}))], KIND_OF, {})["blind_spot_no_expert"] == 0.0
    assert measures([(blind, _out({"literature": ["l1"]}))], KIND_OF, {})["blind_spot_no_expert"] == 1.0


def test_styles_come_from_question_types_or_the_label_fields(tmp_path):
    f = tmp_path / "questions.jsonl"
    f.write_text("\n".join(json.dumps(d) for d in (
        {"id": "q1", "question": "a b", "relevant": {}, "off_topic": True},
        {"id": "q2", "question": "c d", "relevant": {"e1": 2}, "vague": True},
        {"id": "q3", "question": "e f", "relevant": {"e1": 1}})) + "\n")
    assert [q.styles for q in load_questions(f)] == [["off_topic"], ["vague"], ["other"]]
    assert [q.position for q in load_questions(f)] == [1, 2, 3]
    (tmp_path / "question_types.json").write_text(json.dumps(
        {"questions": {"q1": {"styles": ["off_topic"]}, "q2": {"styles": ["vague", "short"]}}}))
    assert [q.styles for q in load_questions(f)] == [["off_topic"], ["vague", "short"], ["other"]]


def test_pairing_files_with_corpora_and_homes(tmp_path):
    (tmp_path / "w1" / "corpus").mkdir(parents=True)
    q1, q2 = tmp_path / "w1" / "questions.jsonl", tmp_path / "w2" / "questions.jsonl"
    sets = pair_sets([str(q1)], [], [], tmp_path / "work")
    assert sets[0].corpus == tmp_path / "w1" / "corpus" and sets[0].home.parent == tmp_path / "work"
    with pytest.raises(Exception, match="no corpus/ folder beside it"):
        pair_sets([str(q1), str(q2)], [], [], tmp_path / "work")
    with pytest.raises(Exception, match="--home is given 1 times for 2 question files"):
        pair_sets([str(q1), str(q2)], [], [str(tmp_path / "h")], tmp_path / "work")
    sets = pair_sets([str(q1), str(q2)], [], [str(tmp_path / "h1"), str(tmp_path / "h2")], tmp_path / "work")
    assert [s.corpus for s in sets] == [None, None]      # a home without a corpus is used as it is


def _questions(path, items):
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in items))
    return str(path)


def test_eval_over_two_question_files_each_with_its_corpus(tmp_path):
    a = _questions(tmp_path / "a.jsonl", [
        {"id": "a1", "question": "Hoe begeleid ik zelfregulatie bij blended leren?",
         "relevant": {"kr-blended-leren-zelfregulatie": 2, "prod-training-zelfregulatie-blended": 1}},
        {"id": "a2", "question": "asdfgh qwerty", "relevant": {}, "off_topic": True}])
    b = _questions(tmp_path / "b.jsonl", [
        {"id": "b1", "question": "Hoe houd je een netwerk in stand als de subsidie stopt?",
         "relevant": {"kr-netwerk-na-subsidie": 2}, "vague": True}])
    args = ["eval", a, b, "--corpus", str(DEMO), "--corpus", str(DEMO), "--work", str(tmp_path / "work"),
            "--embedder", TEST_EMBEDDER]
    r = CliRunner().invoke(main, args + ["--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert list(out) == [a, b]
    rep = out[a]
    assert set(rep["systems"]) == {"full", "bm25", "dense"} and rep["n"] == 2
    assert rep["systems"]["full"]["ndcg5_per_kind"]["kennisrotonde"] is not None
    assert rep["systems"]["bm25"]["concept_hit3"] is None
    assert set(rep["halves"]) == {"odd", "even"} and rep["halves"]["odd"]["full"]["n"] == 1
    assert set(rep["styles"]) == {"other", "off_topic"}
    assert out[b]["styles"]["vague"]["full"]["n"] == 1
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "nDCG@5 (over kinds)" in r.stdout and "per style" in r.stdout and r.stdout.count("== ") == 2


def test_eval_refuses_unknown_systems(tmp_path):
    r = CliRunner().invoke(main, ["eval", _questions(tmp_path / "q.jsonl", [{"question": "x", "relevant": {}}]),
                                  "--home", str(tmp_path), "--systems", "full,bm42"])
    assert r.exit_code != 0 and "bm42" in r.output


# --- knobs ------------------------------------------------------------------------

def test_knobs_are_typed_checked_and_restored():
    from matcher import knobs
    from matcher.engine import BASELINES, Options

    assert knobs.parse_assignment("rrf_k=60") == ("rrf_k", 60)
    assert knobs.parse_sweep("dense_weight=0.3,0.7") == ("dense_weight", [0.3, 0.7])
    with pytest.raises(Exception, match="did you mean rrf_k"):
        knobs.parse_assignment("rrf_kk=60")
    with pytest.raises(Exception, match="knob rrf_k: '0.5' is not a int"):
        knobs.parse_assignment("rrf_k=0.5")
    with pytest.raises(Exception, match="not one of"):
        knobs.parse_assignment("fusion=maximum")
    with knobs.overridden({"dense_weight": "0.7", "fusion": "rrf"}):
        assert (Options().dense_weight, BASELINES["full"].method) == (0.7, "rrf")
        assert BASELINES["bm25"].method == "bm25" and knobs.changed() == {"dense_weight": 0.7, "fusion": "rrf"}
    assert Options().dense_weight == 0.5 and knobs.changed() == {}
    assert all(k.reason and k.used_in for k in knobs.KNOBS)
    assert set(knobs.RELATIONS.values()) <= set(knobs.BY_NAME)


def test_set_changes_the_ranking_and_sweep_runs_each_value(tmp_path):
    q = _questions(tmp_path / "q.jsonl", [
        {"id": "a1", "question": "Hoe begeleid ik zelfregulatie bij blended leren?",
         "relevant": {"kr-blended-leren-zelfregulatie": 2}}])
    base = ["eval", q, "--corpus", str(DEMO), "--work", str(tmp_path / "work"), "--embedder", TEST_EMBEDDER,
            "--systems", "full", "--json"]
    normal = json.loads(CliRunner().invoke(main, base).stdout)[q]
    assert normal["systems"]["full"]["on_topic_answered"] == 1.0 and normal["knobs"] == {}
    r = CliRunner().invoke(main, base + ["--set", "min_absolute=1000"])   # nothing clears the bar
    silenced = json.loads(r.stdout)[q]
    assert silenced["systems"]["full"]["on_topic_answered"] == 0.0 and silenced["knobs"] == {"min_absolute": 1000.0}
    r = CliRunner().invoke(main, base[:-1] + ["--sweep", "min_absolute=0.05,1000"])
    assert r.exit_code == 0, r.output
    rows = [line for line in r.stdout.splitlines() if line.startswith(("0.05", "1000"))]
    assert len(rows) == 2
    r = CliRunner().invoke(main, ["eval", "--knobs"])
    assert "rrf_k" in r.stdout and "link_expert_author_of" in r.stdout


def test_knobs_from_the_environment_make_a_served_baseline():
    from matcher import knobs
    from matcher.engine import BASELINES, Options

    values = knobs.from_env("fusion=bm25, entity_strength=0 use_general=false concept_support=0")
    assert values == knobs.BASELINE_VALUES["bm25"]
    with knobs.overridden(values):
        assert Options() == BASELINES["bm25"]
    with pytest.raises(Exception, match="SCHAKEL_KNOBS: unknown ranking knob 'fusoin'"):
        knobs.from_env("fusoin=bm25")
