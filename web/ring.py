"""The tussenring's blind-spot dashboard: where questions come in and no expert or theme group covers them.

Coverage is computed by ``matcher.coverage.compute(engine, questions)`` over the
consented intake questions and rendered by ``matcher.coverage_output`` (CSV, SVG).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import threading
from collections import Counter

from flask import Blueprint, Response, jsonify, render_template

from matcher import coverage, coverage_output

from .services import services
from .security import require_role

log = logging.getLogger(__name__)

# Full paths (no url_prefix): the JSON view lives at /api/coverage, the pages under /tussenring.
bp = Blueprint("ring", __name__)

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
_cache_lock = threading.Lock()


def questions() -> list[dict]:
    """Demand: the consented intake questions ({"question", "date"}), oldest first."""
    return services().store.all_questions()


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


# --- CSV ------------------------------------------------------------------------

def safe_csv(text: str) -> str:
    """Every CSV this service sends is formula-safe, whoever made it (OWASP CSV injection)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([coverage_output.safe_cell(c) for c in row])
    return out.getvalue()


# --- views ----------------------------------------------------------------------

@bp.get("/tussenring/")
@require_role("tussenring")
def dashboard():
    rep, qs = report()
    weak = rep.get("weak") if isinstance(rep.get("weak"), (int, float)) else None
    rows = [{"label": c.get("label", c.get("id", "")), "experts": covering(c.get("experts"), weak, "available"),
             "themegroups": covering(c.get("themegroups"), weak, "active"), "sources": c.get("sources") or 0,
             "demand": c.get("demand") or 0, "blind_spot": bool(c.get("blind_spot"))}
            for c in rep.get("concepts", [])]
    rows.sort(key=lambda c: (not c["blind_spot"], -c["demand"], -c["sources"], str(c["label"]).lower()))
    hidden = sum(1 for c in rows if not c["demand"] and not c["sources"])  # nothing to say: in the CSV only
    rows = [c for c in rows if c["demand"] or c["sources"]]
    unmatched = rep.get("unmatched") if isinstance(rep.get("unmatched"), dict) else {}
    return render_template("ring/dashboard.html", report=rep, blind_spots=rep.get("blind_spots", []),
                           concepts=rows, months=demand_by_month(rep, qs), question_count=len(qs),
                           weak=weak, unmatched=unmatched, hidden_concepts=hidden)


@bp.get("/tussenring/heatmap.svg")
@require_role("tussenring")
def heatmap():
    rep, _ = report()
    svg = coverage_output.heatmap_svg(rep, services().engine.index())
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
    return Response("\ufeff" + safe_csv(coverage_output.to_csv(rep)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/api/coverage")
@require_role("tussenring")
def api_coverage():
    rep, _ = report()
    return jsonify(rep)
