"""forensics.html: one self-contained page that says it is screening, shows the charts and the flags."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.audit.forensics_page import CLEAN_ANY_NATIONAL_RATE, CLEAN_ANY_REGION_RATE, FLAG_MEANINGS
from pipelines.audit.forensics_report import write_report
from pipelines.audit.forensics_screen import StationCounts, screen
from pipelines.core.paths import REPO_ROOT
from pipelines.synthetic.manipulation import Manipulation
from pipelines.synthetic.precinct_synthesis import NationalTotals, RegionShape, synthesise


def simulated(manipulation: Manipulation | None) -> StationCounts:
    shapes = [RegionShape("north <&>", 1, 0.6), RegionShape("south", 1, 0.7)]
    totals = NationalTotals(1_200_000, 780_000, 7_800, 0, (500_000, 172_200, 100_000))
    table = synthesise(shapes, totals, 1000, seed=5, manipulation=manipulation)
    return StationCounts(
        table.region_index,
        ("north <&>", "south"),
        ("x", "y", "z"),
        table.registered_voters,
        table.ballots_cast,
        table.votes,
    )


def page(stations: StationCounts, folder: Path) -> str:
    write_report(screen(stations, draws=100), stations, folder, election_id="sim", position=7, draws=100)
    return (folder / "forensics.html").read_text(encoding="utf-8")


def test_the_page_is_self_contained_labelled_and_shows_the_injected_manipulation(tmp_path: Path) -> None:
    # The simulator rewrites a fifth of the stations' turnout up to the next multiple of 5%.
    html = page(simulated(Manipulation(rounding_share=0.2)), tmp_path)
    # Nothing is fetched: no script, stylesheet, image or frame, and every link is an anchor in the page.
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b|@import|url\(", html, re.IGNORECASE)
    assert not re.search(r"\ssrc\s*=", html, re.IGNORECASE)
    hrefs = re.findall(r"\shref\s*=\s*[\"']?([^\"'\s>]*)", html, re.IGNORECASE)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    # Labelled first, and on each chart: the comet, the turnout histogram, one per list.
    assert "<strong>Screening, not proof:</strong>" in html[: html.index("<h2")]
    assert html.count("<svg ") == 2 + 3 and html.count("Screening, not proof") >= 2 + 5
    assert "turnout against x&#x27;s share" in html and "north &lt;&amp;&gt;" in html
    # The nation's row is the first of the ranked table, highlighted, and names the flag.
    national = re.search(r"<tr class=flagged><td>\(national\)</td>.*?</tr>", html)
    assert national is not None and "turnout_peaks" in national.group(0)
    for meaning in FLAG_MEANINGS:
        assert f"<td>{meaning.flag}</td>" in html and f"{100 * meaning.clean_rate:.1f}%" in html


def test_a_clean_election_raises_no_national_flag_on_the_page(tmp_path: Path) -> None:
    html = page(simulated(None), tmp_path)
    assert "<tr><td>(national)</td>" in html and "<tr class=flagged><td>(national)" not in html


def test_the_false_positive_rates_on_the_page_are_the_calibration_in_the_docs() -> None:
    docs = (REPO_ROOT / "docs" / "forensics.md").read_text(encoding="utf-8")
    header = next(line for line in docs.splitlines() if line.startswith("| scenario |"))
    clean = next(line for line in docs.splitlines() if line.startswith("| clean |"))
    rates = dict(zip(header.split("|")[1:-1], clean.split("|")[1:-1], strict=True))
    rates = {k.strip(): v.strip() for k, v in rates.items()}
    for meaning in FLAG_MEANINGS:
        assert float(rates[meaning.flag]) == meaning.clean_rate
    assert float(rates["any national flag"]) == CLEAN_ANY_NATIONAL_RATE
    assert float(rates["any of 10 regions flagged"]) == CLEAN_ANY_REGION_RATE
