"""Human tables for ``schakel eval`` reports (``matcher.evaluate.Evaluator.run`` output).

One block per question file: the headline figures with full, BM25-only and
dense-only side by side, then each half (odd / even questions) and each
question style. A figure that has no question to measure it on shows as "-".
"""
from __future__ import annotations

from typing import Any

ROWS = (  # (key, label); a key "ndcg5:KIND" reads ndcg5_per_kind[KIND]
    ("ndcg5", "nDCG@5 (over kinds)"),
    ("ndcg5:expert", "  experts"),
    ("ndcg5:themegroup", "  theme groups"),
    ("ndcg5:literature", "  literature"),
    ("ndcg5:product", "  products"),
    ("ndcg5:kennisrotonde", "  Kennisrotonde"),
    ("expert_recall5", "expert Recall@5"),
    ("themegroup_top3", "theme group in top 3"),
    ("concept_hit3", "concept hit@3"),
    ("specifics_dropped", "specifics dropped"),
    ("vague_precision", "vague precision"),
    ("vague_recall", "vague recall"),
    ("vague_f1", "vague F1"),
    ("off_topic_no_match", "off-topic: no match"),
    ("on_topic_answered", "on-topic: answered"),
    ("blind_spot_no_expert", "blind spot: no expert"),
)
HALF_ROWS = ("ndcg5", "expert_recall5", "themegroup_top3", "concept_hit3", "vague_f1")
STYLE_COLUMNS = (("ndcg5", "nDCG@5", False), ("expert_recall5", "expert R@5", False),
                 ("concept_hit3", "concept", True), ("off_topic_no_match", "off-topic: none shown", False))
# (key, label, full system only)


def value(m: dict[str, Any], key: str) -> float | None:
    """A figure of one ``measures`` dict; ``ndcg5:KIND`` reads the per-kind nDCG@5."""
    if key.startswith("ndcg5:"):
        return (m.get("ndcg5_per_kind") or {}).get(key.split(":", 1)[1])
    return m.get(key)


def _cell(v: float | None, width: int = 8) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.3f}"


def _table(by_system: dict[str, dict[str, Any]], rows, label_width: int = 24) -> list[str]:
    names = list(by_system)
    lines = [f"{'':<{label_width}}" + "".join(f"{n:>8}" for n in names)]
    for key, label in rows:
        vals = [value(by_system[n], key) for n in names]
        if all(v is None for v in vals):
            continue
        lines.append(f"{label:<{label_width}}" + "".join(_cell(v) for v in vals))
    return lines


def format_file(title: str, report: dict[str, Any]) -> str:
    """The tables of one question file's report."""
    lines = [f"== {title} ({report['n']} questions)"]
    lines += _table(report["systems"], ROWS)
    labels = dict(ROWS)
    lines += ["", "per half"]
    for half, by_system in report["halves"].items():
        n = next(iter(by_system.values()))["n"]
        lines += _table(by_system, [(k, f"  {half} ({n}) {labels[k].strip()}") for k in HALF_ROWS], 38)[1:]
    lines += ["", *_style_header(list(report["systems"]))]
    for style, by_system in report["styles"].items():
        n = next(iter(by_system.values()))["n"]
        cells = "".join(_cell(value(by_system[s], key)) for key, _, full_only in STYLE_COLUMNS
                        for s in by_system if not full_only or s == "full")
        lines.append(f"  {style:<12}{n:>4}{cells}")
    return "\n".join(lines)


def _style_header(systems: list[str]) -> list[str]:
    groups, names = "", ""
    for _, label, full_only in STYLE_COLUMNS:
        cols = [s for s in systems if not full_only or s == "full"]
        groups += f"{label:^{8 * len(cols)}}"
        names += "".join(f"{s:>8}" for s in cols)
    return [f"{'per style':<18}{groups}", f"{'':<14}{'n':>4}{names}"]


def format_report(reports: list[tuple[str, dict[str, Any]]]) -> str:
    """All files' tables, one after the other."""
    return "\n\n".join(format_file(title, rep) for title, rep in reports)


SWEEP_COLUMNS = (("ndcg5", "nDCG@5"), ("expert_recall5", "expR@5"), ("themegroup_top3", "grp@3"),
                 ("concept_hit3", "conc@3"), ("vague_f1", "vagF1"), ("off_topic_no_match", "offtop"))


def format_sweep(name: str, runs: list[dict[str, Any]], system: str = "full") -> str:
    """One row per swept value, per question file the headline figures of ``system`` (default full),
    overall and for the odd and even halves' nDCG@5 (a change should hold on each half)."""
    titles = list(runs[0]["reports"]) if runs else []
    lines = []
    for title in titles:
        lines += [f"== sweep {name} on {title} ({system})",
                  f"{'value':<12}" + "".join(f"{label:>8}" for _, label in SWEEP_COLUMNS) + f"{'odd':>8}{'even':>8}"]
        for run in runs:
            rep = run["reports"][title]
            m = rep["systems"][system]
            halves = [rep["halves"][h][system].get("ndcg5") for h in ("odd", "even")]
            lines.append(f"{str(run['value']):<12}" + "".join(_cell(value(m, k)) for k, _ in SWEEP_COLUMNS)
                         + "".join(_cell(v) for v in halves))
        lines.append("")
    return "\n".join(lines).rstrip()
