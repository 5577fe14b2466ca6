"""The forensic report of one publication: the stations counted as of its `based_on_position`,
screened and written once to `data/forensics/<publication_id>/` (what `elections forensics --out`
writes, forensics.html first among it).

Never inside the publication's folder: that folder is immutable and `elections verify` renders it
again, and the seat table never waits for screening (seconds at national scale). The report is read
from the readers' snapshot only, so it needs no writer lock; it is written under a hidden temporary
name and renamed into place as publication folders are, and a report that exists is never rewritten.
The screen's seeds are fixed and its files state only what the log records, so the same log gives
the same bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.audit.forensics import NULL_DRAWS
from pipelines.audit.forensics_report import write_report
from pipelines.audit.forensics_screen import screen
from pipelines.audit.forensics_stations import counted_stations
from pipelines.core.durable import fsync_folder
from pipelines.core.errors import InputError
from pipelines.core.paths import WarehousePaths
from pipelines.store.event_store import open_read_only
from pipelines.store.migrations import first_row
from pipelines.store.queries import query


@dataclass(frozen=True)
class PublicationScreen:
    publication_id: str
    election_id: str
    position: int  # the publication's based_on_position: the stations screened are those counted there
    folder: Path
    stations: int | None  # counted stations screened (0: nothing to screen, no folder; None: not read)
    written: bool  # False when the report was there already (or there was nothing to screen)


def publication_basis(conn: duckdb.DuckDBPyConnection, publication_id: str) -> tuple[str, int]:
    """The election and `based_on_position` of a publication the snapshot holds."""
    row = first_row(conn.execute(query("publication_ref"), {"publication": publication_id}))
    if row is None:
        raise InputError(
            f"no publication {publication_id[:200]!r} in the readers' snapshot",
            column="publication",
            value=publication_id[:200],
        )
    return str(row[1]), int(str(row[3]))


def screen_publication(paths: WarehousePaths, publication_id: str) -> PublicationScreen:
    """Write the forensic report of a publication unless it exists; a second call is a no-op."""
    with open_read_only(paths.snapshot) as conn:
        # Looked up first: an id the log holds was checked as a folder name when it was published.
        election_id, position = publication_basis(conn, publication_id)
        folder = paths.forensics / publication_id
        if folder.exists():
            return PublicationScreen(publication_id, election_id, position, folder, None, written=False)
        stations, _ = counted_stations(conn, election_id, as_of=position)
    if len(stations) == 0:
        return PublicationScreen(publication_id, election_id, position, folder, 0, written=False)
    result = screen(stations, draws=NULL_DRAWS)
    paths.forensics.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=paths.forensics, prefix=f".{publication_id}."))
    try:
        for path in write_report(
            result, stations, staging, election_id=election_id, position=position, draws=NULL_DRAWS
        ):
            os.chmod(path, 0o444)
        if folder.exists():  # written meanwhile by another screen of the same publication: keep theirs
            shutil.rmtree(staging)
            return PublicationScreen(publication_id, election_id, position, folder, len(stations), False)
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.chmod(folder, 0o555)
    fsync_folder(paths.forensics)
    return PublicationScreen(publication_id, election_id, position, folder, len(stations), written=True)


def newest_unscreened(paths: WarehousePaths) -> list[str]:
    """Each election's newest publication in the readers' snapshot whose report is not written yet.

    Only the newest: when the night publishes faster than it screens, the older ones are left behind
    on purpose (`elections forensics --publication ID` screens any of them). Read from the snapshot,
    not from who published what, so a screen that was missed is caught up by the next one."""
    if not paths.snapshot.exists():
        return []
    with open_read_only(paths.snapshot) as conn:
        newest = conn.execute(query("newest_publications")).fetchall()
    return [str(pub) for _, pub in newest if not (paths.forensics / str(pub)).exists()]
