"""The results page, rendered by headless Chromium from the file system: seats, status, escaping."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import REPO_ROOT, WarehousePaths
from pipelines.publishing.publication_layout import RESULTS_PAGE
from pipelines.publishing.published_results import load_published_results
from pipelines.publishing.results_page import PALETTE, render_results_page
from pipelines.rules.rule_profiles import load_profile
from tests.support.election_night import (
    DECLARED_COLOR,
    HOSTILE_LIST_NAME,
    HOSTILE_REGION_NAME,
    INJECTED_COLOR,
    ElectionNight,
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
        elif a.get("id") in ("status", "basis", "seat-total", "precincts-pending"):
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
    for needle in ("src=", "href=", "url(", "<link", "@import", "<script"):
        assert needle not in html  # nothing to fetch: the page opens from the file system


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
