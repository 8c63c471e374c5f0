"""Renderings of a coverage report in its JSON form (``CoverageReport.to_json``): a formula-safe CSV and an
SVG heatmap."""
from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any
from xml.sax.saxutils import escape

from ..loaded import LoadedIndex
from .records import WEAK
from .text import plural


CSV_FIELDS = ("id", "label", "group", "blind_spot", "demand", "sources", "experts_covering", "best_expert",
              "best_score", "experts", "themegroups")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """VALUE as a CSV cell a spreadsheet will not run as a formula: a leading quote before = + - @ tab CR
    (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(_DANGEROUS):
        return "'" + text
    return text


def to_csv(report: dict) -> str:
    """One row per concept; cells that a spreadsheet would read as a formula get a leading quote."""
    weak = report.get("weak", WEAK)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for c in report["concepts"]:
        experts = c.get("experts") or []
        best = experts[0] if experts else {}
        covering = [e for e in experts if e.get("available", True) and e["score"] >= weak]
        w.writerow([safe_cell(v) for v in (
            c["id"], c["label"], c.get("group", ""), "ja" if c["blind_spot"] else "nee", c["demand"], c["sources"],
            len(covering), best.get("id", ""), best.get("score", ""),
            "; ".join(f"{e['id']}:{e['score']}" for e in experts),
            "; ".join(f"{g['id']}:{g['score']}" for g in c.get("themegroups") or []))])
    return buf.getvalue()


MAX_ROWS = 40
MAX_BLIND_ROWS = 20
MAX_COLUMNS = 14
OTHER = "overig"


def organisation_short(value: Any) -> str:
    """'Lectoraat X, Hogeschool Y' -> 'Hogeschool Y': the institution, at most 24 characters."""
    text = " ".join(str(value or "").split())
    if not text:
        return OTHER
    part = text.split(",")[-1].strip() or text
    return part if len(part) <= 24 else part[:23].rstrip() + "…"


_STOPS = ((0.0, (247, 251, 255)), (0.25, (198, 219, 239)), (0.5, (107, 174, 214)), (0.75, (33, 113, 181)),
          (1.0, (8, 48, 107)))


def _colour(score: float) -> str:
    s = min(1.0, max(0.0, score))
    for (a, ca), (b, cb) in zip(_STOPS, _STOPS[1:]):
        if s <= b:
            t = (s - a) / (b - a)
            return "#%02x%02x%02x" % tuple(round(x + (y - x) * t) for x, y in zip(ca, cb))
    return "#08306b"


def heatmap_svg(report: dict, index: LoadedIndex) -> str:
    """Concepts (rows: blind spots first) x expert organisations (columns), colour = best expert strength.

    REPORT is the JSON form of a coverage report; at most ``MAX_ROWS`` rows and ``MAX_COLUMNS`` named
    organisations (the rest as ``OTHER``). Returns a standalone SVG document (text, no external assets)
    with a title and description for screen readers.
    """
    weak = report.get("weak", WEAK)
    rows, more = _heatmap_rows(report)
    org_of, columns = _organisations(index)
    cells = [_cells(c, index, org_of, columns) for c in rows]
    label_w, cell_w, cell_h, head_h, top = 330, 30, 20, 150, 56
    width = max(720, label_w + cell_w * max(1, len(columns)) + 130)
    height = top + head_h + cell_h * len(rows) + 110
    n_blind = sum(1 for c in rows if c["blind_spot"])
    more -= n_blind
    title = "Dekking van onderwerpen door experts per organisatie"
    desc = (f"Heatmap van {len(rows)} onderwerpen (rijen; {n_blind} blinde vlekken bovenaan) tegen "
            f"{len(columns)} organisaties (kolommen). De kleur van een cel is de sterkste dekking door een expert "
            f"van die organisatie, van 0 (licht) tot 1 (donker); vanaf {weak:.2f} telt een expert als dekking.")
    subtitle = (f"{n_blind} blinde vlekken (rood, met ●; de belangrijkste eerst"
                + (f", nog {more} in de lijst" if more > 0 else "") + f"), {len(rows) - n_blind} gedekte onderwerpen")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="cov-title cov-desc" '
           f'font-family="system-ui, sans-serif" font-size="12">',
           f'<title id="cov-title">{escape(title)}</title>',
           f'<desc id="cov-desc">{escape(desc)}</desc>',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="12" y="24" font-size="16" font-weight="bold" fill="#111111">{escape(title)}</text>',
           f'<text x="12" y="44" fill="#333333">{escape(subtitle)}</text>']
    y0 = top + head_h
    out += _svg_grid(rows, cells, columns, y0, label_w, cell_w, cell_h)
    out += _svg_legend(y0 + cell_h * len(rows) + 28, weak)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _heatmap_rows(report: dict) -> tuple[list[dict], int]:
    """The concepts shown (blind spots first, by their rank in the report) and how many blind spots exist."""
    rank = {}
    for n, b in enumerate(report["blind_spots"]):
        for label in b["concepts"]:
            rank.setdefault(label, n)
    shown = [c for c in report["concepts"] if c["demand"] or c["sources"]]
    blind = sorted((c for c in shown if c["blind_spot"]),
                   key=lambda c: (rank.get(c["label"], 1 << 30), -c["demand"], -c["sources"], c["label"]))
    covered = sorted((c for c in shown if not c["blind_spot"]), key=lambda c: (-c["demand"], -c["sources"], c["label"]))
    # blind spots first, but leave room for the covered topics they stand out against
    n_blind = min(len(blind), max(MAX_ROWS - len(covered), MAX_BLIND_ROWS))
    return (blind[:n_blind] + covered)[:MAX_ROWS], len(blind)


def _organisations(index: LoadedIndex) -> tuple[dict[str, str], list[str]]:
    """Expert id -> column (short organisation, or ``OTHER`` beyond the largest ``MAX_COLUMNS``), and the columns."""
    org_of: dict[str, str] = {}
    for rec in index.record_list:
        if rec.kind == "expert":
            org_of[rec.id] = organisation_short(rec.fields.get("organisation"))
    size = Counter(org_of.values())
    named = [o for o, _ in sorted(size.items(), key=lambda kv: (-kv[1], kv[0])) if o != OTHER][:MAX_COLUMNS]
    columns = named + ([OTHER] if len(size) > len(named) else [])
    col = {o: (o if o in named else OTHER) for o in size}
    return {rid: col.get(o, OTHER) for rid, o in org_of.items()}, columns


def _cells(c: dict, index: LoadedIndex, column_of: dict[str, str], columns: list[str]) -> list[tuple[float, str]]:
    """Per column, the best expert strength for concept C and that expert's name ('' when none)."""
    best: dict[str, tuple[float, str]] = {}
    for e in c["experts"]:
        o = column_of.get(e["id"], OTHER)
        name = index.records[e["id"]].title if e["id"] in index.records else e["id"]
        if not e.get("available", True):
            name += " (niet beschikbaar)"
        if e["score"] > best.get(o, (-1.0, ""))[0]:
            best[o] = (e["score"], name)
    return [best.get(o, (0.0, "")) for o in columns]


def _svg_grid(rows: list[dict], cells: list[list[tuple[float, str]]], columns: list[str], y0: int, label_w: int,
              cell_w: int, cell_h: int) -> list[str]:
    out = [f'<text x="{label_w - 8}" y="{y0 - 6}" text-anchor="end" fill="#555555" font-size="10">'
           f'{escape("vr = vragen, br = bronnen")}</text>']
    for j, o in enumerate(columns):
        x = label_w + j * cell_w + cell_w / 2
        out.append(f'<text x="{x:.1f}" y="{y0 - 6}" transform="rotate(-50 {x:.1f} {y0 - 6})" fill="#111111">'
                   f'{escape(o)}</text>')
    for i, (c, row) in enumerate(zip(rows, cells)):
        y = y0 + i * cell_h
        label = c["label"] if len(c["label"]) <= 30 else c["label"][:29] + "…"
        info = f"{c['demand']} vr, {c['sources']} br"
        colour = "#b00020" if c["blind_spot"] else "#111111"
        weight = ' font-weight="bold"' if c["blind_spot"] else ""
        mark = "● " if c["blind_spot"] else ""
        out.append(f'<g><title>{escape(c["label"])}: {escape(plural(c["demand"], "vraag", "vragen"))}, '
                   f'{escape(plural(c["sources"], "bron", "bronnen"))}'
                   f'{escape(", blinde vlek" if c["blind_spot"] else "")}</title>'
                   f'<text x="12" y="{y + cell_h * 0.7:.1f}" fill="{colour}"{weight}>{escape(mark + label)}</text>'
                   f'<text x="{label_w - 8}" y="{y + cell_h * 0.7:.1f}" text-anchor="end" fill="#555555" '
                   f'font-size="10">{escape(info)}</text></g>')
        for j, (score, who) in enumerate(row):
            x = label_w + j * cell_w
            tip = f"{c['label']} × {columns[j]}: " + (f"{score:.2f} ({who})" if who else "geen expert")
            out.append(f'<rect x="{x}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                       f'fill="{_colour(score) if who else "#f2f2f2"}"><title>{escape(tip)}</title></rect>')
    return out


def _svg_legend(ly: int, weak: float) -> list[str]:
    out = [f'<text x="12" y="{ly + 12}" fill="#111111">{escape("Dekking door beste expert:")}</text>']
    for k in range(11):
        s = k / 10
        out.append(f'<rect x="{200 + k * 22}" y="{ly}" width="21" height="16" fill="{_colour(s)}">'
                   f'<title>{s:.1f}</title></rect>')
    out.append(f'<text x="200" y="{ly + 30}" fill="#333333" font-size="10">0</text>')
    out.append(f'<text x="{200 + 10 * 22 + 21}" y="{ly + 30}" text-anchor="end" fill="#333333" '
               f'font-size="10">1</text>')
    wx = 200 + weak * 10 * 22 + 10
    out.append(f'<line x1="{wx:.1f}" y1="{ly - 4}" x2="{wx:.1f}" y2="{ly + 20}" stroke="#b00020" stroke-width="2"/>'
               f'<text x="{wx:.1f}" y="{ly + 30}" text-anchor="middle" fill="#b00020" font-size="10">'
               f'{escape(f"dekking vanaf {weak:.2f}")}</text>')
    out.append(f'<rect x="{200}" y="{ly + 40}" width="21" height="16" fill="#f2f2f2"/>'
               f'<text x="{228}" y="{ly + 52}" fill="#333333">{escape("geen expert van deze organisatie")}</text>')
    return out
