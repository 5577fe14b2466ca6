"""A forensic screen written to a folder: images (SVG and PNG), the tables as CSV, everything as JSON.

Files: comet.svg/.png, turnout.svg/.png, share-NN.svg/.png per list (NN its position in ballot
order), regions.csv (the nation first, then the regions as ranked), lists.csv, forensics.json,
forensics.html (all of it on one self-contained page: forensics_page.py) and README.txt with the
screening note. Same screen, same bytes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pipelines.audit.forensics import FLAG_LEVEL, NULL_DRAWS, SCREENING_NOTE, percent_histogram, shares
from pipelines.audit.forensics_charts import comet_png, comet_svg, histogram_png, histogram_svg
from pipelines.audit.forensics_page import forensics_html
from pipelines.audit.forensics_screen import LIST_COLUMNS, SCOPE_COLUMNS, ElectionScreen, StationCounts
from pipelines.publishing.publication_layout import FORENSICS_PAGE
from pipelines.publishing.spreadsheet_safe import spreadsheet_safe


def scope_records(result: ElectionScreen) -> list[dict[str, object]]:
    return [result.national.record(), *(r.record() for r in result.regions)]


def report_json(result: ElectionScreen, *, election_id: str, position: int, draws: int = NULL_DRAWS) -> str:
    document = {
        "note": SCREENING_NOTE,
        "election_id": election_id,
        "log_position": position,
        "flag_level": FLAG_LEVEL,
        "null_draws": draws,
        "leader": result.leader,
        "scopes": scope_records(result),
        "lists": [p.record() for p in result.lists],
        "comet": {
            "rows": "turnout percent 0-99 (100% in 99)",
            "columns": "leader share percent 0-99",
            "voters": result.comet.tolist(),
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def _csv(rows: list[dict[str, object]], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(c)) for c in columns])
    return buffer.getvalue()


def write_report(
    result: ElectionScreen,
    stations: StationCounts,
    out_dir: Path,
    *,
    election_id: str,
    position: int,
    draws: int = NULL_DRAWS,
) -> list[Path]:
    """Write the folder (created if missing; files of the same names replaced); return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "README.txt": (
            f"Forensic screen of {election_id} at log position {position}.\n{SCREENING_NOTE}\n"
            f"Flags at p < {FLAG_LEVEL}; method and measured error rates: docs/forensics.md.\n"
            "forensics.html shows it all on one page (charts inline, nothing fetched from anywhere).\n"
        ).encode(),
        "regions.csv": _csv(scope_records(result), SCOPE_COLUMNS).encode(),
        "lists.csv": _csv([p.record() for p in result.lists], LIST_COLUMNS).encode(),
        "forensics.json": report_json(
            result, election_id=election_id, position=position, draws=draws
        ).encode(),
        "comet.svg": comet_svg(
            result.comet, title=f"{election_id}: turnout against {result.leader}'s share, weighted by voters"
        ).encode(),
        "comet.png": comet_png(result.comet),
    }
    turnout = percent_histogram(shares(stations.ballots_cast, stations.registered))
    files["turnout.svg"] = histogram_svg(
        turnout, title=f"{election_id}: turnout of each station", axis="turnout"
    ).encode()
    files["turnout.png"] = histogram_png(turnout)
    valid = stations.votes.sum(axis=1)
    list_shares = []
    for column, list_id in enumerate(stations.list_ids):
        share = percent_histogram(shares(stations.votes[valid > 0, column], valid[valid > 0]))
        list_shares.append((list_id, share))
        name = f"share-{column + 1:02d}"
        files[f"{name}.svg"] = histogram_svg(
            share,
            title=f"{election_id}: {list_id}'s share of valid list votes per station",
            axis=f"{list_id}'s share",
        ).encode()
        files[f"{name}.png"] = histogram_png(share)
    files[FORENSICS_PAGE] = forensics_html(
        result, turnout, list_shares, election_id=election_id, position=position, draws=draws
    ).encode()
    written = []
    for name, data in files.items():
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    return written
