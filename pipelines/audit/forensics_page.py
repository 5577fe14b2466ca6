"""The forensic screen as one self-contained HTML page: forensics.html beside the images and tables.

Everything is inline (the charts as SVG, the style in the page): no script, no font, no image file, no
request to anywhere, so it opens from a folder, an e-mail or a publication alike. It says first, and
on every chart, that it is screening and not proof, and what each flag means with the rate at which it
fired on clean simulated elections (the calibration of docs/forensics.md, whose figures are copied here
and checked against that file by a test). Same screen, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from pipelines.audit.forensics import FLAG_LEVEL, SCREENING_NOTE, IntArray
from pipelines.audit.forensics_charts import comet_svg, histogram_svg
from pipelines.audit.forensics_screen import LIST_COLUMNS, SCOPE_COLUMNS, ElectionScreen


@dataclass(frozen=True)
class FlagMeaning:
    flag: str
    looks_for: str
    clean_rate: float  # share of clean simulated elections in which it fired nationally (docs/forensics.md)
    found: str


# docs/forensics.md, "Calibration": 200 clean simulated elections of 2,000 stations, national screen.
FLAG_MEANINGS = (
    FlagMeaning(
        "turnout_peaks",
        "more stations than chance would put exactly on an integer percent of turnout: protocols "
        "rewritten to a target turnout",
        0.025,
        "rounded turnout in 5% of stations: every election; in 2% of stations: 56% of them",
    ),
    FlagMeaning(
        "leader_share_peaks",
        "the same for the leader's share of valid list votes: protocols rewritten to a target share",
        0.015,
        "fires only when the rewriting targets the leader's share",
    ),
    FlagMeaning(
        "last_digits",
        "last digits of vote counts of 300 or more far from uniform: figures written rather than counted",
        0.010,
        "the leader's votes written up to a multiple of 10 in 20% of stations: every election",
    ),
)
# Any of the three, nationally; and any of the 30 tests of 10 regions (so one flagged region is weak).
CLEAN_ANY_NATIONAL_RATE = 0.050
CLEAN_ANY_REGION_RATE = 0.230

_STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; }
.warning { border: 3px solid #a00; background: #fff4f4; padding: 0.8em 1em; font-size: 1.1em; }
.warning strong { color: #a00; font-size: 1.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; }
th, td:first-child, td.text { text-align: left; }
.wide { overflow-x: auto; }
tr.flagged td { background: #ffe9c7; font-weight: bold; }
figure { margin: 1em 0 2em; } svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; }
"""


def _table(records: list[dict[str, object]], columns: tuple[str, ...], *, flag_column: str) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = []
    for record in records:
        flagged = record.get(flag_column) not in (None, "none")
        cells = "".join(
            f"<td{' class=text' if c == flag_column else ''}>{escape(str(record.get(c, '')))}</td>"
            for c in columns
        )
        rows.append(f"<tr{' class=flagged' if flagged else ''}>{cells}</tr>")
    body = "\n".join(rows)
    table = f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    return f'<div class="wide">{table}</div>'


def _meanings() -> str:
    rows = "\n".join(
        f"<tr><td>{m.flag}</td><td class=text>{escape(m.looks_for)}</td>"
        f"<td>{100 * m.clean_rate:.1f}%</td><td class=text>{escape(m.found)}</td></tr>"
        for m in FLAG_MEANINGS
    )
    return (
        "<table>\n<thead><tr><th>flag</th><th>what it looks for</th>"
        "<th>fired on clean simulated elections</th><th>found in simulated manipulation</th></tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody>\n</table>"
    )


def _warning() -> str:
    label, _, rest = SCREENING_NOTE.partition(": ")
    return f"<strong>{escape(label)}:</strong> {escape(rest)}"


def _figure(svg: str, caption: str) -> str:
    # The SVG documents of forensics_charts, inline: an XML prolog-free <svg> element is valid HTML.
    return f"<figure>\n{svg.strip()}\n<figcaption>{escape(caption)}</figcaption>\n</figure>"


def forensics_html(
    result: ElectionScreen,
    turnout: IntArray,
    shares: list[tuple[str, IntArray]],
    *,
    election_id: str,
    position: int,
    draws: int,
) -> str:
    """The page: the warning, what the flags mean, the ranked table, each list's peaks, the charts.

    `turnout` and `shares` are the 0.1-point histograms the report draws (one per list, in ballot order).
    """
    scopes = [result.national.record(), *(r.record() for r in result.regions)]
    flagged = [str(s["scope"]) for s in scopes if s["flags"] != "none"]
    summary = f"{len(flagged)} of {len(scopes)} scopes raise a flag" + (
        f": {', '.join(flagged)}." if flagged else "."
    )
    title = f"Forensic screen of {election_id} at log position {position}"
    charts = [
        _figure(
            comet_svg(result.comet, title=f"turnout against {result.leader}'s share, weighted by voters"),
            "The comet plot: voters per 1-point cell of turnout (up) and the leader's share (across), on a "
            "log colour scale. Ballot stuffing draws a tail towards the top right; so can innocent "
            "differences between town and country. No flag is computed from it.",
        ),
        _figure(
            histogram_svg(turnout, title="turnout of each station", axis="turnout"),
            "Stations per 0.1-point bin of turnout. Spikes on integer percents (every tenth bin) are what "
            "turnout_peaks tests.",
        ),
    ]
    for list_id, histogram in shares:
        charts.append(
            _figure(
                histogram_svg(
                    histogram,
                    title=f"{list_id}'s share of valid list votes per station",
                    axis=f"{list_id}'s share",
                ),
                f"Stations per 0.1-point bin of {list_id}'s share.",
            )
        )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        f'<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>',
        "<body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="warning" role="note">{_warning()} '
        "A flag is a reason to look closer at a region or a list, not a finding of fraud.</p>",
        f"<p>{int(result.national.stations):,} counted stations; leader {escape(result.leader)}; a flag "
        f"is a p-value below {FLAG_LEVEL:g} ({draws} Monte-Carlo draws of each null). {escape(summary)}</p>",
        '<nav><a href="#flags">what the flags mean</a> · <a href="#scopes">the nation and the regions</a>'
        ' · <a href="#lists">each list</a> · <a href="#charts">charts</a></nav>',
        '<section id="flags">\n<h2>What the flags mean, and how often they fire on clean elections</h2>',
        _meanings(),
        f"<p>On clean simulated elections any of the three national flags fired in "
        f"{100 * CLEAN_ANY_NATIONAL_RATE:.0f}% of them, and at least one of 10 regions was flagged in "
        f"{100 * CLEAN_ANY_REGION_RATE:.0f}%: one flagged region means little. Ballot stuffing that adds "
        "random numbers of ballots raises none of these flags; it shows in the comet plot only. These "
        "rates hold for the simulator's elections; real data have features it does not (small "
        "stations, round registers).</p>\n</section>",
        '<section id="scopes">\n<h2>The nation and the regions, ranked by flags</h2>',
        "<p>The nation first, then the regions: most flags first, then the smallest p-value. "
        "Highlighted rows raise a flag.</p>",
        # The flags beside the scope's name: the table is wider than a screen.
        _table(
            scopes,
            ("scope", "flags", *(c for c in SCOPE_COLUMNS if c not in ("scope", "flags"))),
            flag_column="flags",
        ),
        "</section>",
        '<section id="lists">\n<h2>Each list\'s share of valid list votes: integer-percent peaks</h2>',
        _table([p.record() for p in result.lists], LIST_COLUMNS, flag_column="flag"),
        "</section>",
        '<section id="charts">\n<h2>Charts</h2>',
        *charts,
        "</section>",
        f'<p class="warning">{_warning()}</p>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
