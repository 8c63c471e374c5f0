"""The tussenring's blind-spot dashboard: where questions come in and no expert or theme group covers them.

Coverage is computed by ``matcher.coverage.compute(engine, questions)`` over the
consented intake questions, each with its clarification answers (an answer such
as "eerstejaars" is demand too). ``concept_rows`` turns that one report into the
rows that the table, the heatmap table and the CSV all show, so their figures
agree. The CSV is for Dutch Excel: semicolons, UTF-8 with a BOM, Dutch headers,
names instead of record ids, decimal commas. The SVG heatmap stays available
as a download (``matcher.coverage``); the raw JSON is documented in the
API description (``/api/openapi.json``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import threading
from collections import Counter
from dataclasses import dataclass

from flask import Blueprint, Response, jsonify, render_template

from matcher import coverage
from matcher.coverage.output import OTHER, organisation_short, safe_cell

from .services import services
from .security import require_role

log = logging.getLogger(__name__)

# Full paths (no url_prefix): the JSON view lives at /api/coverage, the pages under /tussenring.
bp = Blueprint("ring", __name__)

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
_cache_lock = threading.Lock()


def questions() -> list[dict]:
    """Demand: the consented intake questions ({"question", "date"}), oldest first; a question's clarification
    answers are part of its text (as the matcher reads them), so they count toward demand too."""
    from matcher.clarify import with_answers

    out = []
    for q in services().store.all_questions():
        answers = q.pop("answers", None) or {}
        if answers:
            q["question"] = with_answers(q["question"], answers)
            q.pop("vector", None)  # the stored vector is of the question alone
            q.pop("embedder", None)
        out.append(q)
    return out


def report() -> tuple[dict, list[dict]]:
    """The coverage report for the current index and stored questions, computed once per change of either."""
    from flask import current_app

    engine = services().engine
    qs = questions()
    key = (engine.index().build.name, len(qs), hash(tuple(q["question"] for q in qs[-50:])))
    cache = current_app.extensions.setdefault("schakel_coverage", {})
    with _cache_lock:
        hit = cache.get("report")
        if hit and hit[0] == key:
            return hit[1], qs
    rep = coverage.compute(engine, qs)
    with _cache_lock:
        cache["report"] = (key, rep)
    return rep, qs


# --- demand over time ---------------------------------------------------------

def _top(value) -> list[str]:
    """The three most asked concepts of one month of the report's "months" ({concept: count}), if it has them."""
    if not isinstance(value, dict):
        return []
    counts = {str(k): v for k, v in value.items() if k != "total" and isinstance(v, (int, float))
              and not isinstance(v, bool) and v > 0}
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]


def demand_by_month(rep: dict | None, qs: list[dict]) -> list[dict]:
    """[{"month": "2024-05", "label": "mei 2024", "count": n, "top": [...]}], oldest first.

    The count is the number of stored questions that month (a question about three
    concepts counts once); "top" are the most asked concepts from the report's
    "months", when it has them.
    """
    from .brief import MONTHS

    counts = Counter((q.get("date") or "")[:7] for q in qs if q.get("date"))
    months = rep.get("months") if isinstance(rep, dict) and isinstance(rep.get("months"), dict) else {}
    out = []
    for month in sorted(set(counts) | {str(m) for m in months}):
        try:
            d = dt.date.fromisoformat(month[:7] + "-01")
            label = f"{MONTHS[d.month - 1]} {d.year}"
        except ValueError:
            label = month
        out.append({"month": month, "label": label, "count": counts.get(month, 0), "top": _top(months.get(month))})
    return out


def covering(entries, weak: float | None, flag: str) -> int:
    """How many of a concept's experts (or theme groups) cover it: available (active) and, when the report
    gives a threshold, at least that strong."""
    n = 0
    for e in entries or []:
        if not isinstance(e, dict):
            n += 1
            continue
        if e.get(flag, True) is False:
            continue
        if weak is not None and isinstance(e.get("score"), (int, float)) and e["score"] < weak:
            continue
        n += 1
    return n


# --- views ----------------------------------------------------------------------

@bp.get("/tussenring/")
@require_role("tussenring")
def dashboard():
    rep, qs = report()
    weak = rep.get("weak") if isinstance(rep.get("weak"), (int, float)) else None
    rows = concept_rows(rep, services().engine.index())
    unmatched = rep.get("unmatched") if isinstance(rep.get("unmatched"), dict) else {}
    return render_template("ring/dashboard.html", report=rep, blind_spots=rep.get("blind_spots", []),
                           concepts=rows, heat=heatmap(rows),
                           months=demand_by_month(rep, qs), question_count=len(qs), weak=weak, unmatched=unmatched,
                           shade=lambda score: shade(score, weak), decimal=decimal)


@bp.get("/tussenring/heatmap.svg", endpoint="heatmap")
@require_role("tussenring")
def heatmap_svg_page():
    rep, _ = report()
    svg = coverage.heatmap_svg(rep, services().engine.index())
    resp = Response(svg, mimetype="image/svg+xml")
    # Opened on its own, an SVG is a document: no script, no external loads, sandboxed.
    resp.headers["Content-Security-Policy"] = SVG_CSP
    resp.headers["Content-Disposition"] = 'inline; filename="dekking.svg"'
    return resp


@bp.get("/tussenring/coverage.csv")
@require_role("tussenring")
def coverage_csv():
    rep, _ = report()
    name = f"schakel-dekking-{dt.date.today().isoformat()}.csv"
    rows = concept_rows(rep, services().engine.index())
    return Response("\ufeff" + dutch_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/api/coverage")
@require_role("tussenring")
def api_coverage():
    rep, _ = report()
    return jsonify(rep)


# --- one set of rows for the table, the heatmap and the CSV ---------------------------------

@dataclass
class Coverer:
    """An expert or theme group covering a concept: its name (not its record id), strength 0..1, available."""
    id: str
    name: str
    score: float | None
    available: bool
    organisation: str = ""


@dataclass
class ConceptRow:
    id: str
    label: str
    group: str
    blind_spot: bool
    demand: int
    sources: int
    experts: list[Coverer]
    themegroups: list[Coverer]
    covering_experts: int
    covering_groups: int


def _coverers(entries, index, weak, flag: str) -> list[Coverer]:
    out = []
    for e in entries or []:
        rid = e.get("id", "") if isinstance(e, dict) else str(e)
        score = e.get("score") if isinstance(e, dict) else None
        ok = e.get(flag, True) is not False if isinstance(e, dict) else True
        rec = index.records.get(rid)
        name = str(rec.fields.get("name") or rec.title) if rec else rid
        org = str(rec.fields.get("organisation") or "") if rec else ""
        out.append(Coverer(rid, name, float(score) if isinstance(score, (int, float)) else None, ok, org))
    return out


def concept_rows(rep: dict, index) -> list[ConceptRow]:
    """Every concept of the report, blind spots first, then by demand, sources and label."""
    weak = rep.get("weak") if isinstance(rep.get("weak"), (int, float)) else None
    rows = []
    for c in rep.get("concepts", []):
        experts = _coverers(c.get("experts"), index, weak, "available")
        groups = _coverers(c.get("themegroups"), index, weak, "active")
        rows.append(ConceptRow(
            id=str(c.get("id", "")), label=str(c.get("label", c.get("id", ""))), group=str(c.get("group") or ""),
            blind_spot=bool(c.get("blind_spot")), demand=int(c.get("demand") or 0), sources=int(c.get("sources") or 0),
            experts=experts, themegroups=groups, covering_experts=covering(c.get("experts"), weak, "available"),
            covering_groups=covering(c.get("themegroups"), weak, "active")))
    rows.sort(key=lambda r: (not r.blind_spot, -r.demand, -r.sources, r.label.lower()))
    return rows


def decimal(value: float | None) -> str:
    """0.456 -> '0,46' (Dutch decimal comma); None -> ''."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


# --- the heatmap as a table --------------------------------------------------------------------

MAX_COLUMNS = 14


@dataclass
class Heatmap:
    columns: list[tuple[str, str]]                      # (short name, full organisation names)
    rows: list[tuple[ConceptRow, list[tuple[float | None, str]]]]   # per column: (best score, expert name)


def heatmap(rows: list[ConceptRow]) -> Heatmap:
    """Concepts x expert organisations: per cell the strongest expert of that organisation and its name."""
    full: dict[str, set[str]] = {}
    size: Counter = Counter()
    for r in rows:
        for e in r.experts:
            short = organisation_short(e.organisation)
            full.setdefault(short, set()).add(e.organisation or short)
            size[short] += 1
    named = [o for o, _ in sorted(size.items(), key=lambda kv: (-kv[1], kv[0])) if o != OTHER]
    keep = named[:MAX_COLUMNS]
    other = OTHER
    cols = keep + ([other] if len(size) > len(keep) else [])
    out = []
    for r in rows:
        best: dict[str, tuple[float | None, str]] = {}
        for e in r.experts:
            short = organisation_short(e.organisation)
            col = short if short in keep else other
            name = e.name + ("" if e.available else " (niet beschikbaar)")
            if col not in best or (e.score or 0) > (best[col][0] or 0):
                best[col] = (e.score, name)
        out.append((r, [best.get(c, (None, "")) for c in cols]))
    columns = [(c, "; ".join(sorted(full.get(c, {c}))) if c != other else "andere organisaties") for c in cols]
    return Heatmap(columns, out)


def shade(score: float | None, weak: float | None) -> str:
    """A CSS class for a heatmap cell: none, below the coverage threshold, covering, strong."""
    if score is None:
        return "h-none"
    threshold = weak if weak is not None else getattr(coverage, "WEAK", 0.5)
    if score < threshold:
        return "h-weak"
    return "h-strong" if score >= (1 + threshold) / 2 else "h-ok"


# --- CSV for Dutch Excel ------------------------------------------------------------------------

CSV_HEADERS = ("Onderwerp", "Groep", "Blinde vlek", "Vragen", "Bronnen", "Experts die dekken",
               "Themagroepen die dekken", "Beste expert", "Sterkste dekking", "Experts (dekking)",
               "Themagroepen (dekking)")


def dutch_csv(rows: list[ConceptRow]) -> str:
    """Semicolon-separated, Dutch headers, names, decimal commas, formula-safe cells; without the BOM."""
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_HEADERS)
    for r in rows:
        best = max(r.experts, key=lambda e: e.score or 0, default=None)
        w.writerow([safe_cell(v) for v in (
            r.label, r.group, "ja" if r.blind_spot else "nee", r.demand, r.sources, r.covering_experts,
            r.covering_groups, best.name if best else "", decimal(best.score) if best else "",
            ", ".join(f"{e.name} ({decimal(e.score)})" if e.score is not None else e.name for e in r.experts),
            ", ".join(f"{g.name} ({decimal(g.score)})" if g.score is not None else g.name for g in r.themegroups))])
    return out.getvalue()
