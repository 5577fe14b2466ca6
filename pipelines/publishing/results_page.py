"""One self-contained HTML results page per publication: inline CSS and SVG, no script, no network.

Every text that came from a file (list, region and election names) is escaped; colours are used only
when they are plain hex codes. Geometry uses floats (it only draws); every figure shown is exact.
Wide tables scroll within their own region on a phone, never the page.

This is the page of the current publication format (4: with the certainty bounds, the quarantine's
materiality, reporting per region on a tile map and a section linking to the forensic report written
after the publication); formats 1 and 2 render results_page_format_2.py,
format 3 results_page_format_3.py, so any change of the bytes written here needs a new format
(publication_layout.py).
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipelines.core.paths import WarehousePaths
from pipelines.publishing.publication_certainty import (
    PublicationCertainty,
    at_stake_lists,
    quarantine_statement,
)
from pipelines.publishing.publication_layout import FORENSICS_PAGE, RESULTS_PAGE
from pipelines.publishing.published_results import AreaTotals, HistoryPoint, ListInfo, PublishedResults
from pipelines.publishing.region_tiles import tiles_for
from pipelines.rules.number_text import percent_text

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
_HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#fafafa}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.15rem;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.status{display:inline-block;font-weight:700;letter-spacing:.08em;padding:6px 14px;border-radius:4px;
color:#fff;font-size:1.1rem;margin:8px 0}
.status.provisional{background:#b45309}.status.certified{background:#15803d}
.basis{font-size:.85rem;color:#444}.basis code{font-size:.8rem;word-break:break-all}
.synthetic{background:#fef3c7;border:1px solid #f59e0b;padding:6px 10px;border-radius:4px;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff}
th,td{padding:5px 8px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:middle}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.seats{font-weight:700}
tr.threshold-line td{border-top:2px dashed #b91c1c;color:#b91c1c;font-size:.8rem;padding:2px 8px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.badge{display:inline-block;font-size:.72rem;padding:1px 6px;border-radius:9px;background:#e0e7ff;
color:#3730a3}
.badge.below{background:#f3f4f6;color:#6b7280}.badge.guarantee{background:#fde68a;color:#92400e}
.progress{background:#e5e7eb;border-radius:4px;height:14px;width:100%;overflow:hidden}
.progress div{background:#2563eb;height:100%}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure{margin:0}figcaption{font-size:.85rem;color:#444}
footer{margin-top:32px;font-size:.8rem;color:#555}
.table-scroll{overflow-x:auto}
.named{display:inline-flex;align-items:flex-start;vertical-align:middle}
.named .swatch{flex:none;margin-top:.2em}
td.share{white-space:nowrap}
.share-figure{display:inline-block;min-width:4.5em}
svg.bar{display:inline-block;width:160px;height:10px;margin-left:8px;vertical-align:middle}
.list-head{display:inline-block;max-width:7em;overflow-wrap:break-word;text-align:right}
.region-name{display:inline-block;max-width:16em;overflow-wrap:break-word}
.quarantine-warning{background:#fef2f2;border:2px solid #b91c1c;border-left-width:8px;padding:10px 14px;
border-radius:4px;margin:12px 0;color:#7f1d1d}
.quarantine-warning strong{display:block;font-size:1.1rem;margin-bottom:4px}
.quarantine-quiet{font-size:.85rem;color:#444}
.badge.certain{background:#dcfce7;color:#166534}.badge.out{background:#f3f4f6;color:#6b7280}
.badge.open{background:#fef3c7;color:#92400e}
td.range{white-space:nowrap}
.range-figure{display:inline-block;min-width:3.5em;font-variant-numeric:tabular-nums}
svg.range{display:inline-block;width:120px;height:12px;margin-left:8px;vertical-align:middle}
.decided{font-size:1.05rem}
.tiles{display:grid;gap:4px;max-width:640px}
.tile{border-radius:4px;padding:4px;min-height:52px;font-size:.72rem;line-height:1.2;
overflow-wrap:anywhere;border:1px solid #cbd5e1}
.tile strong{display:block;font-size:.85rem}
.tile-legend{display:flex;flex-wrap:wrap;gap:8px;font-size:.8rem;margin-top:6px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:700px){main{padding:12px}.grid{grid-template-columns:1fr}
table{font-size:.8rem}th,td{padding:4px 3px}.badge{font-size:.65rem}
svg.bar,svg.range{display:none}.share-figure{min-width:0}.tile{font-size:.6rem;min-height:40px}
.list-head{max-width:6em}.region-name{max-width:8em}.list-name{overflow-wrap:anywhere;min-width:5em}}
"""


def list_colors(lists: Sequence[ListInfo]) -> dict[str, str]:
    """A declared hex colour per list, else a fixed palette colour by ballot order."""
    colors = {}
    for info in lists:
        match = _HEX_COLOR.match(info.color or "")
        fallback = PALETTE[(info.ballot_order - 1) % len(PALETTE)]
        colors[info.list_id] = f"#{match.group(1).lower()}" if match else fallback
    return colors


def _share(part: int, whole: int) -> str:
    return percent_text(Fraction(part, whole)) if whole else "0.00"


def _n(value: int) -> str:
    return f"{value:,}"


def hemicycle_seats(total: int) -> list[tuple[float, float, float]]:
    """(x, y, radius) of each seat in a half-ring diagram, ordered left to right."""
    if total <= 0:
        return []
    rows = max(1, math.ceil(math.sqrt(total / 3.5)))
    outer, inner = 1.0, 0.4 if rows > 1 else 1.0
    radii = [inner + (outer - inner) * i / max(rows - 1, 1) for i in range(rows)]
    counts = [int(total * r / sum(radii)) for r in radii]
    counts[-1] += total - sum(counts)
    seat_radius = (
        min(0.5 * (outer - inner) / max(rows - 1, 1), math.pi * outer / max(counts[-1], 1) / 2) * 0.8
    )
    seats = []
    for radius, count in zip(radii, counts, strict=True):
        for j in range(count):
            angle = math.pi / 2 if count == 1 else math.pi * (1 - j / (count - 1))
            seats.append((angle, radius, seat_radius))
    seats.sort(key=lambda s: (-s[0], s[1]))
    return [(r * math.cos(a), r * math.sin(a), size) for a, r, size in seats]


def hemicycle_svg(allocation: Sequence[Mapping[str, Any]], colors: Mapping[str, str]) -> str:
    order = [r for r in allocation if int(r["seats"]) > 0]
    owners = [str(r["list_id"]) for r in order for _ in range(int(r["seats"]))]
    seats = hemicycle_seats(len(owners))
    width, height, scale = 440, 240, 200
    circles = [
        f'<circle class="seat" data-list-id="{escape(owner)}" cx="{220 + x * scale:.2f}" '
        f'cy="{225 - y * scale:.2f}" r="{size * scale:.2f}" fill="{colors[owner]}"/>'
        for owner, (x, y, size) in zip(owners, seats, strict=True)
    ]
    total = len(owners)
    label = (
        f'<text x="220" y="215" text-anchor="middle" font-size="34" font-weight="700" '
        f'id="total-seats">{total}</text>'
        '<text x="220" y="234" text-anchor="middle" font-size="12" fill="#555">seats</text>'
    )
    return (
        f'<svg id="hemicycle" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{total} seats by list">' + "".join(circles) + label + "</svg>"
    )


def scrolling(table: str, label: str) -> str:
    """A table that scrolls sideways within a narrow screen instead of widening the page; focusable, so
    that a keyboard can scroll it, and named for screen readers."""
    return f'<div class="table-scroll" role="region" aria-label="{escape(label)}" tabindex="0">{table}</div>'


def _threshold_percent(results: PublishedResults) -> Fraction:
    return Fraction(str(results.rules.get("threshold_percent", "0")))


def shows_bounds(results: PublishedResults) -> PublicationCertainty | None:
    """The certainty a provisional publication shows; None for a certified one or an older format."""
    return results.certainty if results.status == "provisional" else None


def _range_cell(low: int, high: int, now: int, total: int, color: str) -> str:
    """The proven interval as text, and drawn: the range over 0..all seats, the seats now a tick."""
    width = 120
    scale = width / total if total else 0.0
    text = str(low) if low == high else f"{low}–{high}"
    return (
        f'<td class="num range"><span class="range-figure">{text}</span>'
        f'<svg class="range" viewBox="0 0 {width} 12" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="{width}" height="12" fill="#f3f4f6"/>'
        f'<rect x="{low * scale:.1f}" width="{max((high - low) * scale, 2.0):.1f}" height="12" '
        f'fill="{color}" fill-opacity="0.45"/>'
        f'<line x1="{now * scale:.1f}" x2="{now * scale:.1f}" y1="0" y2="12" stroke="#111" stroke-width="2" '
        'vector-effect="non-scaling-stroke"/></svg></td>'
    )


THRESHOLD_STATUS_TEXT = {"certain": "certain to pass", "out": "cannot pass", "open": "open"}


def list_table(results: PublishedResults, colors: Mapping[str, str]) -> str:
    threshold = _threshold_percent(results)
    certainty = shows_bounds(results)
    bounds = {} if certainty is None else {b.list_id: b for b in certainty.bounds.lists}
    columns = 7 if bounds else 6
    by_kind = "kind_thresholds" in results.rules  # a coalition may fail above a party that passes
    rows = sorted(
        results.allocation,
        key=lambda r: (by_kind and not r["passed_threshold"], -int(r["votes"]), int(r["ballot_order"] or 0)),
    )
    consoled = "consolation_seats" in results.rules
    body = []
    line_drawn = False
    width = 160
    for r in rows:
        passed = bool(r["passed_threshold"])
        if not passed and not line_drawn:
            shown = escape(percent_text(threshold / 100))
            base = escape(str(results.rules.get("threshold_base", "the threshold base")).replace("_", " "))
            body.append(
                f'<tr class="threshold-line"><td colspan="{columns}">threshold {shown}% of {base}'
                + (" (another for lists declared of another kind)" if by_kind else "")
                + ": lists below this line take no seat unless the guarantee admits them"
                + (" or a consolation band gives them seats" if consoled else "")
                + "</td></tr>"
            )
            line_drawn = True
        share = Fraction(str(r["share"]))
        bar = min(share * 100, Fraction(100))
        bar_px = float(bar) * width / 100
        tick = float(threshold) * width / 100
        status = '<span class="badge">passed</span>' if passed else '<span class="badge below">below</span>'
        if r["admitted_by_guarantee"]:
            status += ' <span class="badge guarantee" title="admitted by the guarantee">★ guarantee</span>'
        elif consoled and not passed and int(r["seats"]):
            status += ' <span class="badge guarantee" title="seats of a consolation band">consolation</span>'
        list_id = escape(str(r["list_id"]))
        proven = ""
        if bounds:
            b = bounds[str(r["list_id"])]
            status += f' <span class="badge {b.status}">{THRESHOLD_STATUS_TEXT[b.status]}</span>'
            proven = _range_cell(
                b.min_seats, b.max_seats, int(r["seats"]), results.total_seats, colors[str(r["list_id"])]
            )
        body.append(
            f'<tr data-list-id="{list_id}"><td class="num">{escape(str(r["ballot_order"]))}</td>'
            f'<td><span class="named"><span class="swatch" style="background:{colors[str(r["list_id"])]}">'
            f'</span><span class="list-name">{escape(str(r["name"]))}</span></span></td>'
            f'<td class="num votes">{_n(int(r["votes"]))}</td>'
            f'<td class="num share"><span class="share-figure">{escape(str(r["share_pct"]))}%</span>'
            # The figure says it; the bar only draws it, scaled to the cell by CSS on narrow screens.
            f'<svg class="bar" viewBox="0 0 {width} 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect width="{bar_px:.1f}" height="10" fill="{colors[str(r["list_id"])]}"/>'
            f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="0" y2="10" stroke="#b91c1c" stroke-dasharray="2,1" '
            'vector-effect="non-scaling-stroke"/></svg></td>'
            f"<td>{status}</td>"
            f'<td class="num seats" data-list-id="{list_id}">{int(r["seats"])}</td>{proven}</tr>'
        )
    head = (
        '<tr><th class="num">No.</th><th>List</th><th class="num">Votes</th><th class="num">Share</th>'
        '<th>Threshold</th><th class="num">Seats</th>'
        + ('<th class="num">Final seats: proven range</th>' if bounds else "")
        + "</tr>"
    )
    foot = (
        f'<tr><td></td><td>Total</td><td class="num">{_n(sum(int(r["votes"]) for r in rows))}</td>'
        f'<td></td><td></td><td class="num seats" id="seat-total">{results.total_seats}</td>'
        + ("<td></td>" if bounds else "")
        + "</tr>"
    )
    return scrolling(
        f'<table id="list-table"><thead>{head}</thead><tbody>{"".join(body)}{foot}</tbody></table>',
        "Lists and seats",
    )


def decided_section(results: PublishedResults) -> str:
    """ "decided: N of M seats" under the table, and what the ranges mean (provisional tables only)."""
    certainty = shows_bounds(results)
    if certainty is None:
        return ""
    b = certainty.bounds
    if b.exact:
        meaning = "Every declared precinct has reported or been annulled: each range is the list's seats."
    else:
        meaning = (
            f"Whatever the {_n(certainty.precincts_outstanding)} precinct(s) still to report bring (at most "
            f"{_n(certainty.outstanding_voters)} more ballots, their registered voters), each list ends with "
            "a number of seats within its proven range (the tick marks its seats now); the decided seats "
            "are those no outcome can take from their list, the sum of each list's fewest. A list marked "
            "open may still pass or fail the threshold."
        )
    if b.fallback is not None:
        meaning += f" These rules are bounded only as 0 to {b.total_seats} seats: {escape(b.fallback)}."
    return (
        f'<p class="decided" id="decided"><strong>decided: {b.decided} of {b.total_seats} seats</strong></p>'
        f'<p class="basis" id="bounds-meaning">{meaning}</p>'
    )


def quarantine_section(results: PublishedResults) -> str:
    """Prominent when the quarantine could change the table (or that is not ruled out), one quiet line
    when it cannot or nothing is quarantined."""
    certainty = results.certainty
    if certainty is None:
        return ""
    stakes = certainty.quarantine
    statement = escape(quarantine_statement(stakes))
    if not stakes.material:
        return f'<p class="quarantine-quiet" id="quarantine">{statement}</p>'
    now = {str(r["list_id"]): (int(r["seats"]), bool(r["passed_threshold"])) for r in results.allocation}
    names = {info.list_id: info.name for info in results.lists}
    at_stake = ", ".join(escape(names.get(i, i)) for i in at_stake_lists(certainty, now))
    return (
        '<div class="quarantine-warning" id="quarantine" role="alert">'
        "<strong>Warning: the quarantine could change the seats</strong>"
        f"{statement} Seats or threshold at stake: {at_stake}. The quarantined rows and files are "
        "corrected and sent again by the commission, or annulled; until then this table may not stand."
        "</div>"
    )


# Reported share of a region's precincts -> tile colour and text colour; the legend shows each band.
TILE_BANDS: tuple[tuple[Fraction, str, str, str], ...] = (
    (Fraction(0), "#f1f5f9", "#1b1b1b", "none"),
    (Fraction(1, 4), "#dbeafe", "#1b1b1b", "under 25%"),
    (Fraction(1, 2), "#93c5fd", "#1b1b1b", "25-50%"),
    (Fraction(3, 4), "#3b82f6", "#ffffff", "50-75%"),
    (Fraction(1), "#1d4ed8", "#ffffff", "75-100%"),
    (Fraction(2), "#1e3a8a", "#ffffff", "all"),
)


def _tile_band(reported: int, expected: int) -> tuple[str, str]:
    share = Fraction(reported, expected) if expected else Fraction(0)
    if share == 0:
        return TILE_BANDS[0][1], TILE_BANDS[0][2]
    if share == 1:
        return TILE_BANDS[-1][1], TILE_BANDS[-1][2]
    for top, background, text, _ in TILE_BANDS[1:-1]:
        if share < top:
            return background, text
    return TILE_BANDS[-2][1], TILE_BANDS[-2][2]


def region_tiles_section(regions: Sequence[AreaTotals]) -> str:
    """Reporting progress per region on a tile grid (schemas/region_tiles/), coloured by the share of
    its precincts reported and saying it in text; without a layout for every region, a sentence."""
    tiles = tiles_for([str(area.region_id) for area in regions])
    if tiles is None:
        return (
            '<p id="region-tiles-none">No tile map covers these regions: reporting per region is in the '
            "table below.</p>"
        )
    columns = max(tile.column for tile in tiles) + 1
    cells = []
    for area, tile in zip(regions, tiles, strict=True):
        f = area.figures
        reported, expected = f["precincts_reported"], f["precincts_expected"]
        background, text = _tile_band(reported, expected)
        cells.append(
            f'<div class="tile" role="listitem" data-region-id="{escape(tile.region_id)}" '
            f'style="grid-row:{tile.row + 1};grid-column:{tile.column + 1};background:{background};'
            f'color:{text}" title="{escape(area.name)}"><strong>{escape(tile.label)}</strong>'
            f'<span class="sr-only">{escape(area.name)}: </span>{_share(reported, expected)}% reported'
            f"<br>{_n(reported)}/{_n(expected)}</div>"
        )
    legend = "".join(
        f'<span><span class="swatch" style="background:{background}"></span>{label}</span>'
        for _, background, _, label in TILE_BANDS
    )
    return (
        f'<div class="tiles" id="region-tiles" role="list" aria-label="Precincts reported per region" '
        f'style="grid-template-columns:repeat({columns},minmax(0,1fr))">{"".join(cells)}</div>'
        f'<div class="tile-legend" aria-hidden="true">Precincts reported: {legend}</div>'
    )


def _progress_row(label: str, part: int, whole: int) -> str:
    pct = _share(part, whole)
    return (
        f"<p>{escape(label)}: <strong>{_n(part)}</strong> of {_n(whole)} ({pct}%)</p>"
        f'<div class="progress"><div style="width:{pct}%"></div></div>'
    )


def progress_section(national: AreaTotals) -> str:
    f = national.figures
    settled = f["precincts_reported"]
    text = _progress_row("Precincts reported", settled, f["precincts_expected"])
    text += _progress_row(
        "Registered voters covered by counted precincts",
        f["registered_voters_counted"],
        f["registered_voters"],
    )
    if f["precincts_annulled"]:
        text += f"<p>{_n(f['precincts_annulled'])} precinct(s) annulled and excluded from the totals.</p>"
    text += f'<p id="precincts-pending">{_n(f["precincts_pending"])} precinct(s) still to report.</p>'
    return f'<section id="progress">{text}</section>'


def projection_svg(
    history: Sequence[HistoryPoint], lists: Sequence[ListInfo], colors: Mapping[str, str]
) -> str:
    """Seats of each list at each publication of the night, as step lines over the log position."""
    width, height, left, bottom, top, right = 640, 260, 44, 40, 12, 12
    if not history:
        return ""
    max_seats = max(max(p.seats.values(), default=0) for p in history) or 1
    count = len(history)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / (count - 1) if count > 1 else 0.5)

    def y(seats: int) -> float:
        return top + (height - top - bottom) * (1 - seats / max_seats)

    parts = []
    for tick in sorted({0, max_seats // 2, max_seats}):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>'
        )
    step = max(1, count // 8)
    for i, point in enumerate(history):
        if i % step == 0 or i == count - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10">'
                f"#{point.based_on_position}</text>"
                f'<text x="{x(i):.1f}" y="{height - bottom + 26}" text-anchor="middle" font-size="9" '
                f'fill="#666">{point.published_at.strftime("%H:%M")}</text>'
            )
    for info in lists:
        coords: list[str] = []
        previous_y: float | None = None
        for i, point in enumerate(history):
            current_y = y(point.seats.get(info.list_id, 0))
            if previous_y is not None:  # a step: the projection holds until the next publication
                coords.append(f"{x(i):.1f},{previous_y:.1f}")
            coords.append(f"{x(i):.1f},{current_y:.1f}")
            previous_y = current_y
        parts.append(
            f'<polyline class="projection" data-list-id="{escape(info.list_id)}" fill="none" '
            f'stroke="{colors[info.list_id]}" stroke-width="2" points="{" ".join(coords)}"/>'
        )
        for i, point in enumerate(history):
            seats = point.seats.get(info.list_id, 0)
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(seats):.1f}" r="2.5" fill="{colors[info.list_id]}"/>'
            )
    return (
        f'<svg id="projection" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" '
        f'role="img" aria-label="Seats by list at each publication">{"".join(parts)}</svg>'
    )


def projection_section(
    history: Sequence[HistoryPoint], lists: Sequence[ListInfo], colors: Mapping[str, str]
) -> str:
    """The chart from the second publication on; before, one point per list says nothing a chart can
    show, so a sentence says so (the seats are in the table above)."""
    if len(history) < 2:
        return (
            '<p id="projection-single">One publication so far: the seats of each list through the night '
            "are drawn here once there is a second. This publication's seats are in the table above.</p>"
        )
    return (
        f"<figure>{projection_svg(history, lists, colors)}<figcaption>Seats of each list at each of the "
        f"{len(history)} publications of this election up to this one, by the log position each was "
        "based on (time of publication, UTC, below).</figcaption></figure>"
    )


def region_table(results: PublishedResults, colors: Mapping[str, str]) -> str:
    lists = results.lists
    head = (
        '<tr><th>Region</th><th class="num">Reported</th><th class="num">Turnout</th>'
        + "".join(
            # A long name wraps within its column instead of widening it past the others.
            f'<th class="num"><span class="list-head"><span class="swatch" '
            f'style="background:{colors[i.list_id]}"></span>{escape(i.name)}</span></th>'
            for i in lists
        )
        + "</tr>"
    )
    body = []
    for area in results.regions:
        f = area.figures
        turnout = _share(f["ballots_cast"], f["registered_voters_counted"])
        valid = sum(area.votes.values())
        cells = "".join(
            f'<td class="num">{_n(area.votes[i.list_id])}<br><small>{_share(area.votes[i.list_id], valid)}%'
            "</small></td>"
            for i in lists
        )
        body.append(
            f'<tr><td><span class="region-name">{escape(area.name)}</span></td>'
            f'<td class="num">{_n(f["precincts_reported"])}/{_n(f["precincts_expected"])}</td>'
            f'<td class="num">{turnout}%</td>{cells}</tr>'
        )
    return scrolling(
        f'<table id="region-table"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>', "Regions"
    )


def rules_section(results: PublishedResults) -> str:
    """The rules in one line, and the allocation's own step-by-step explanation (no script needed)."""
    rules = results.rules
    guarantee = rules.get("guarantee", {})
    variant = str(guarantee.get("variant", "none")) if isinstance(guarantee, dict) else "none"
    summary = (
        f"{escape(str(rules.get('seats', results.total_seats)))} list seats by the "
        f"{escape(str(rules.get('method', '')))} method; threshold "
        f"{escape(str(rules.get('threshold_percent', '')))}% of "
        f"{escape(str(rules.get('threshold_base', '')).replace('_', ' '))}; "
        f"guarantee when one list passes: {escape(variant.replace('_', ' '))}."
    )
    steps = "".join(f"<li>{escape(line)}</li>" for line in results.explanation)
    return (
        f'<p class="basis" id="rules">Rules ({escape(results.rule_profile)}): {summary}</p>'
        f"<details><summary>How the seats were allocated</summary><ol>{steps}</ol></details>"
    )


def forensics_href(publication_id: str) -> str:
    """The publication's forensic report relative to this page, as one link that works both from the
    folder on disk (data/publications/<id>/results.html -> data/forensics/<id>/forensics.html) and from
    the results API (/v1/publications/<id>/files/results.html -> /v1/publications/forensics/<id>/...,
    a route of the report): both are the warehouse's layout, read from WarehousePaths."""
    layout = WarehousePaths(Path("warehouse"))
    page = (layout.publications / publication_id / RESULTS_PAGE).as_posix()
    report = (layout.forensics / publication_id / FORENSICS_PAGE).as_posix()
    relative = posixpath.relpath(report, posixpath.dirname(page))
    return "/".join(quote(part, safe="") for part in relative.split("/"))


def forensics_section(results: PublishedResults) -> str:
    href = escape(forensics_href(results.publication_id))
    return (
        '<section id="forensics"><h2>Forensic screening \u2014 screening, not proof</h2>'
        "<p>The polling stations counted in this publication are screened for patterns that rewritten "
        "protocols and ballot stuffing can leave: integer-percentage peaks of turnout and of each list's "
        "share tested against a Monte-Carlo null of the same station sizes, the last digits of the vote "
        "counts, and the turnout against leader-share &ldquo;comet&rdquo; plot, for the nation and each "
        "region (ranked). A flag is a reason to look closer, not a finding: innocent causes raise them "
        "too, and a clean screen proves nothing.</p>"
        "<p>The screening is rendered after this seat table, never with it, so that it never delays the "
        "table: its report appears a little after the publication (seconds at national scale).</p>"
        f'<p><a id="forensics-report" href="{href}">The forensic report of this publication</a> '
        "(a page of its own, with its charts and tables; not there yet while the screening runs).</p>"
        "</section>"
    )


def render_results_page(results: PublishedResults) -> str:
    colors = list_colors(results.lists)
    status = results.status.upper()
    basis = (
        f"Based on the event log up to position <strong>{results.based_on_position}</strong> "
        f"(hash of the event there: <code>{escape(results.based_on_hash)}</code>); "
        f"published by event {results.position} at {escape(results.published_at_text)} (UTC) "
        f"under rule profile <strong>{escape(results.rule_profile)}</strong>. "
        f"Seat table SHA-256: <code>{escape(results.table_sha256)}</code>. "
        f"Publication <code>{escape(results.publication_id)}</code>."
    )
    meaning = (
        "These results are certified: every declared precinct has reported or been annulled."
        if results.status == "certified"
        else "These results are provisional: they change as precincts report, are amended or annulled."
    )
    if results.revokes is not None:
        revoked = results.revokes
        meaning += (
            f" The certification of publication <code>{escape(str(revoked['publication_id']))}</code> "
            f"was revoked (event {int(revoked['revoked_position'])}, decided by "
            f"{escape(str(revoked['decided_by']))}: {escape(str(revoked['reason']))}); "
            "this table is provisional again until a new certification."
        )
    synthetic = (
        '<p class="synthetic">Synthetic data: this election is a demonstration, not real results.</p>'
        if results.synthetic
        else ""
    )
    legend = "".join(
        f'<span style="margin-right:12px"><span class="swatch" style="background:{colors[i.list_id]}"></span>'
        f"{escape(i.name)}</span>"
        for i in results.lists
    )
    history = results.history
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(status)} - {escape(results.election_name)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{escape(results.election_name)}</h1>
<div>Election day {escape(results.election_date)}</div>
<div class="status {escape(results.status)}" id="status">{escape(status)}</div>
<p>{meaning}</p>
<p class="basis" id="basis">{basis}</p>
<p class="basis" id="page-links"><a href="#forensics">Forensic screening (screening, not proof)</a></p>
{quarantine_section(results)}
{synthetic}
<div class="grid">
<figure>{hemicycle_svg(results.allocation, colors)}
<figcaption>{legend}</figcaption></figure>
<div><h2 style="margin-top:0">Reporting progress</h2>{progress_section(results.national)}</div>
</div>
<h2>Lists and seats</h2>
{list_table(results, colors)}
{decided_section(results)}
{rules_section(results)}
<h2>Seat projection through election night</h2>
{projection_section(history, results.lists, colors)}
<h2>Reporting by region</h2>
{region_tiles_section(results.regions)}
<h2>Regions</h2>
{region_table(results, colors)}
{forensics_section(results)}
<footer>Generated from the event log by the elections pipeline. Every figure on this page can be
recomputed from the log up to position {results.based_on_position}.</footer>
</main>
</body>
</html>
"""
