"""The results page, rendered by headless Chromium from the file system: seats, status, escaping, and
the layout format 3 mended, measured from the browser's element boxes."""

from __future__ import annotations

import dataclasses
import html as html_text
import itertools
import json
import re
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb
import pytest

from pipelines.audit.forensics_publication import screen_publication
from pipelines.core.paths import REPO_ROOT, WarehousePaths
from pipelines.publishing.publication_layout import CERTAINTY_JSON, FORENSICS_PAGE, RESULTS_PAGE
from pipelines.publishing.published_results import PublishedResults, load_published_results
from pipelines.publishing.region_tiles import tiles_for
from pipelines.publishing.results_page import PALETTE, forensics_href, render_results_page
from pipelines.publishing.results_page_format_2 import render_results_page as render_format_2_page
from pipelines.rules.rule_profiles import load_profile
from tests.support.election_night import (
    DECLARED_COLOR,
    HOSTILE_LIST_NAME,
    HOSTILE_REGION_NAME,
    INJECTED_COLOR,
    ElectionNight,
    copy_of,
    election_night,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--hide-scrollbars",
)
README_IMAGE = REPO_ROOT / "docs" / "img" / "results-page.png"


class PageReader(HTMLParser):
    """What the test reads off the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.seat_cells: dict[str, str] = {}
        self.circles: Counter[str] = Counter()
        self.tags: Counter[str] = Counter()
        self.styles: list[str] = []
        self.texts: dict[str, str] = {}
        self.list_names: list[str] = []
        self.region_cells: list[str] = []
        self._open: list[tuple[str, str]] = []  # (what, collected text)
        self._in_region_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        if "style" in a:
            self.styles.append(a["style"])
        classes = a.get("class", "").split()
        if tag == "circle" and "seat" in classes:
            self.circles[a["data-list-id"]] += 1
        if tag == "table" and a.get("id") == "region-table":
            self._in_region_table = True
        if tag == "td" and "seats" in classes and "data-list-id" in a:
            self._open.append((f"seats:{a['data-list-id']}", ""))
        elif a.get("id") in ("status", "basis", "seat-total", "precincts-pending", "decided", "quarantine"):
            self._open.append((f"id:{a['id']}", ""))
        elif tag == "span" and "list-name" in classes:
            self._open.append(("list-name", ""))
        elif tag == "td" and self._in_region_table:
            self._open.append(("region-cell", ""))

    def handle_data(self, data: str) -> None:
        self._open = [(what, text + data) for what, text in self._open]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_region_table = False
        if tag not in ("td", "div", "p", "span") or not self._open:
            return
        what, text = self._open.pop()
        if what.startswith("seats:"):
            self.seat_cells[what[6:]] = text.strip()
        elif what.startswith("id:"):
            self.texts[what[3:]] = " ".join(text.split())
        elif what == "list-name":
            self.list_names.append(text)
        else:
            self.region_cells.append(text)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return reader


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> ElectionNight:
    return election_night(tmp_path_factory.mktemp("night"))


def published_seats(night: ElectionNight, publication_id: str) -> dict[str, int]:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        payload = conn.execute(
            "SELECT payload FROM events WHERE payload->>'$.publication_id' = ?", [publication_id]
        ).fetchall()[0][0]
    return {r["list_id"]: int(r["seats"]) for r in json.loads(payload)["seats"]}


def test_chromium_renders_the_published_seats_and_a_screenshot_is_saved(
    night: ElectionNight, tmp_path: Path
) -> None:
    publication_id = night.publications[-1]
    page = WarehousePaths(night.warehouse).publications / publication_id / RESULTS_PAGE
    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile-dom").stdout
    reader = read_page(dom)

    seats = published_seats(night, publication_id)
    total = load_profile("kz-mazhilis-2021").seats
    assert sum(seats.values()) == total
    assert {lid: int(text) for lid, text in reader.seat_cells.items()} == seats
    assert dict(reader.circles) == {lid: n for lid, n in seats.items() if n}
    assert reader.texts["seat-total"] == str(total)
    assert reader.texts["status"] == "PROVISIONAL"
    basis = reader.texts["basis"]
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        results = load_published_results(conn, publication_id)
    assert f"up to position {results.based_on_position} " in basis
    assert results.based_on_hash in basis
    assert "kz-mazhilis-2021" in basis and results.table_sha256 in basis
    assert reader.texts["precincts-pending"].startswith("2 precinct(s)")
    stated = json.loads((page.parent / CERTAINTY_JSON).read_text())
    decided = f"decided: {stated['bounds']['decided_seats']} of {total} seats"
    assert reader.texts["decided"] == decided and stated["bounds"]["precincts_outstanding"] == 2
    assert reader.texts["quarantine"] == "Nothing is quarantined."

    screenshot = tmp_path / "results-page.png"
    chromium(
        f"--screenshot={screenshot}",
        "--window-size=1100,1800",
        page.as_uri(),
        profile=tmp_path / "profile-shot",
    )
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1100, 1800)
    if not README_IMAGE.exists():  # delete it to refresh; rewriting it every run would churn git
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, README_IMAGE)


def test_hostile_names_stay_text_and_injected_colours_are_dropped(night: ElectionNight) -> None:
    page = WarehousePaths(night.warehouse).publications / night.publications[-1] / RESULTS_PAGE
    html = page.read_text(encoding="utf-8")
    reader = read_page(html)
    assert reader.tags["script"] == 0
    assert HOSTILE_LIST_NAME in reader.list_names
    assert HOSTILE_REGION_NAME in reader.region_cells
    assert INJECTED_COLOR not in html
    swatches = [s for s in reader.styles if s.startswith("background:#")]
    assert f"background:{DECLARED_COLOR.lower()}" in swatches  # alpha's declared colour
    assert f"background:{PALETTE[2]}" in swatches  # gamma's injected colour replaced by the palette
    for needle in ("src=", "url(", "<link", "@import", "<script"):
        assert needle not in html  # nothing to fetch: the page opens from the file system
    # Its only links: to its own forensics section, and to the report written beside its folder.
    assert re.findall(r"href=", html) == ["href="] * 2
    assert re.findall(r'href="([^"]*)"', html) == ["#forensics", forensics_href(night.publications[-1])]


def test_the_forensics_section_is_linked_from_the_top_and_its_link_finds_the_report_on_disk(
    night: ElectionNight, tmp_path: Path
) -> None:
    paths = WarehousePaths(copy_of(night, tmp_path / "warehouse"))  # the report is written into the copy
    publication = night.publications[-1]
    page = paths.publications / publication / RESULTS_PAGE
    html = page.read_text(encoding="utf-8")
    top, lists, section = (
        html.index('href="#forensics"'),
        html.index("<h2>Lists and seats</h2>"),
        html.index('<section id="forensics"><h2>Forensic screening \u2014 screening, not proof</h2>'),
    )
    assert top < lists < section
    assert "rendered after this seat table" in html[section:]
    (href,) = re.findall(r'<a id="forensics-report" href="([^"]+)"', html)
    target = page.parent / html_text.unescape(unquote(href))
    assert not target.exists()  # not screened yet: publishing never waits for it
    assert screen_publication(paths, publication).written
    assert target.resolve() == (paths.forensics / publication / FORENSICS_PAGE).resolve()
    assert "Screening, not proof" in target.read_text(encoding="utf-8")


def test_the_page_of_a_certified_publication_says_so(night: ElectionNight) -> None:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        results = load_published_results(conn, night.publications[-1])
    certified = dataclasses.replace(results, status="certified")
    reader = read_page(render_results_page(certified))
    assert reader.texts["status"] == "CERTIFIED"
    assert len(results.history) == len(night.publications)
    provisional = read_page(render_results_page(results))
    assert provisional.tags["polyline"] == len(results.lists)  # one projection line per list


def test_a_list_admitted_by_the_guarantee_is_marked_below_the_threshold_line(night: ElectionNight) -> None:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        results = load_published_results(conn, night.publications[-1])
    below = [r for r in results.allocation if not r["passed_threshold"]]
    assert below, "the night needs a list below the threshold"
    admitted = str(below[0]["list_id"])
    allocation = [{**r, "admitted_by_guarantee": r["list_id"] == admitted} for r in results.allocation]
    html = render_results_page(dataclasses.replace(results, allocation=allocation))
    rows = dict(re.findall(r'<tr data-list-id="([^"]+)">(.*?)</tr>', html))
    assert "guarantee" in rows[admitted]
    assert all("guarantee" not in row for lid, row in rows.items() if lid != admitted)
    line = html.index('class="threshold-line"')
    assert html.index(f'<tr data-list-id="{admitted}">') > line
    assert all(
        html.index(f'<tr data-list-id="{r["list_id"]}">') < line for r in allocation if r["passed_threshold"]
    )


# Appended to each page measured (the page itself has no script): writes the boxes the browser laid out
# into the frame's parent, whose DOM --dump-dom prints. A frame, because a headless window is never
# narrower than 500 px, and one browser run measures every page.
MEASURE = """<script>
const box = (node) => {  // an element's box, or a text's (format 2 has no element round its figure)
  const range = document.createRange(); range.selectNodeContents(node);
  const r = node instanceof Element ? node.getBoundingClientRect() : range.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
};
const firstText = (cell) => document.createTreeWalker(cell, NodeFilter.SHOW_TEXT).nextNode();
const measured = {
  shares: [...document.querySelectorAll("#list-table td.share")].map(
    (cell) => ({figure: box(firstText(cell)), bar: box(cell.querySelector("svg"))})),
  regionColumns: [...document.querySelectorAll("#region-table thead th")].map(
    (th) => th.getBoundingClientRect().width),
  seatsRight: Math.max(...[...document.querySelectorAll("#list-table td.seats")].map(
    (td) => td.getBoundingClientRect().right)),
  ranges: [...document.querySelectorAll("#list-table td.range")].map(
    (cell) => ({figure: box(cell.querySelector(".range-figure")), bar: box(cell.querySelector("svg"))})),
  tiles: [...document.querySelectorAll("#region-tiles .tile")].map(
    (tile) => ({id: tile.dataset.regionId, text: tile.innerText, ...box(tile)})),
  viewport: window.innerWidth,
  pageWidth: document.documentElement.scrollWidth,
};
const out = parent.document.createElement("pre"); out.className = "measured";
out.dataset.frame = window.frameElement.id; out.textContent = JSON.stringify(measured);
parent.document.body.append(out);
</script>"""


def measured_layouts(pages: dict[str, tuple[str, int]], folder: Path) -> dict[str, dict[str, Any]]:
    """Each page (name: html, width) laid out by Chromium in a frame that wide; their measures by name."""
    frames = "".join(
        f'<iframe id="{name}" width="{width}" height="1600" '
        f'srcdoc="{html_text.escape(page.replace("</body>", MEASURE + "</body>"))}"></iframe>'
        for name, (page, width) in pages.items()
    )
    outer = folder / "measure.html"
    outer.write_text(f"<!DOCTYPE html><html><body>{frames}</body></html>", encoding="utf-8")
    dom = chromium("--dump-dom", "--window-size=1400,1000", outer.as_uri(), profile=folder / "profile").stdout
    found = re.findall(r'<pre class="measured" data-frame="([^"]+)">(.*?)</pre>', dom, re.S)
    assert {name for name, _ in found} == set(pages), dom[-2000:]
    return {name: json.loads(html_text.unescape(text)) for name, text in found}


def figures_beside_bars(layout: dict[str, Any]) -> bool:
    """Every share figure on the line of its bar (their boxes overlap vertically), the bar after it."""
    return all(
        s["figure"]["top"] < s["bar"]["bottom"]
        and s["bar"]["top"] < s["figure"]["bottom"]
        and s["bar"]["left"] >= s["figure"]["right"]
        for s in layout["shares"]
    )


def widest_list_column_over_narrowest(layout: dict[str, Any]) -> float:
    widths = layout["regionColumns"][3:]  # region, reported, turnout, then one column per list
    return float(max(widths) / min(widths))


def last_results(night: ElectionNight, index: int = -1) -> PublishedResults:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        return load_published_results(conn, night.publications[index])


def kazakh_regions(results: PublishedResults) -> PublishedResults:
    """The night's results over some of Kazakhstan's regions (tests/support's regions have no tile map)."""
    ids = ["west_kazakhstan", "aktobe", "akmola", "astana_city", "karaganda", "almaty", "almaty_city"]
    template = results.regions[0]
    regions = [
        dataclasses.replace(
            template,
            region_id=region_id,
            name=f"Region {region_id}",
            figures={**template.figures, "precincts_expected": 8, "precincts_reported": i},
        )
        for i, region_id in enumerate(ids)
    ]
    return dataclasses.replace(results, regions=regions)


def test_format_3_puts_share_figures_beside_their_bars_and_shares_the_regions_width_fairly(
    night: ElectionNight, tmp_path: Path
) -> None:
    """The night names a list with a long hostile name: format 2's page gave its regions column most of
    the width and put every share figure above its bar; format 3 does neither, on a desktop and a phone.
    Format 4's proven ranges keep their figures beside their bars and its tile map lays each region out
    where its layout says, no tile over another, each saying its share reported."""
    results = last_results(night)
    assert len(results.lists) == 4 and HOSTILE_LIST_NAME in {i.name for i in results.lists}
    page = render_results_page(results)
    kazakh = kazakh_regions(results)
    layouts = measured_layouts(
        {
            "old": (render_format_2_page(results), 1280),
            "new": (page, 1280),
            "phone": (page, 390),
            "tiles": (render_results_page(kazakh), 1280),
        },
        tmp_path,
    )
    old, new, phone, tiles = layouts["old"], layouts["new"], layouts["phone"], layouts["tiles"]
    assert len(new["ranges"]) == len(results.allocation) and figures_beside_bars({"shares": new["ranges"]})
    placed = {t.region_id: t for t in tiles_for([str(a.region_id) for a in kazakh.regions]) or []}
    boxes = {t["id"]: t for t in tiles["tiles"]}
    assert set(boxes) == set(placed) and new["tiles"] == []  # the night's own regions: no map
    for a, b in itertools.combinations(boxes.values(), 2):
        assert (
            a["right"] <= b["left"]
            or b["right"] <= a["left"]
            or a["bottom"] <= b["top"]
            or b["bottom"] <= a["top"]
        )
    for a, b in itertools.permutations(placed.values(), 2):
        if a.row == b.row and a.column < b.column:
            assert boxes[a.region_id]["right"] <= boxes[b.region_id]["left"]
        if a.row < b.row:
            assert boxes[a.region_id]["bottom"] <= boxes[b.region_id]["top"]
    assert all("% reported" in t["text"] for t in boxes.values()), boxes

    assert len(new["shares"]) == len(results.allocation)
    assert not figures_beside_bars(old) and figures_beside_bars(new)
    assert widest_list_column_over_narrowest(old) > 3, old["regionColumns"]
    assert widest_list_column_over_narrowest(new) < 2, new["regionColumns"]
    # A phone scrolls a wide table within its own region, never the page; every list's seats show.
    assert phone["viewport"] == 390 and phone["pageWidth"] <= 390, phone
    assert phone["seatsRight"] <= 390, phone


def test_format_3_says_one_publication_so_far_instead_of_an_empty_chart(night: ElectionNight) -> None:
    first, last = last_results(night, 0), last_results(night)
    assert len(first.history) == 1 and len(last.history) == len(night.publications)
    single = read_page(render_results_page(first))
    assert single.tags["polyline"] == 0 and 'id="projection"' not in render_results_page(first)
    assert "One publication so far" in render_results_page(first)
    assert 'id="projection"' in render_format_2_page(first)  # the frame format 2 drew, kept for its folders
    assert read_page(render_results_page(last)).tags["polyline"] == len(last.lists)
