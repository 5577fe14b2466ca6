"""The counted stations of an election as `StationCounts`, read from a read-only snapshot connection.

Counted means reported and not annulled, as of a log position (default: the log's head); pending
stations have no figures and annulled ones count for nothing, so neither enters the screen.
"""

from __future__ import annotations

import duckdb
import numpy as np

from pipelines.audit.forensics_screen import StationCounts
from pipelines.core.errors import InputError
from pipelines.publishing.precinct_figures import precinct_figures_as_of
from pipelines.store.migrations import first_row
from pipelines.store.queries import query


def counted_stations(
    conn: duckdb.DuckDBPyConnection, election_id: str, *, as_of: int | None = None
) -> tuple[StationCounts, int]:
    """The counted stations and the log position they were read at."""
    list_ids = tuple(
        str(row[0]) for row in conn.execute(query("election_lists"), {"election": election_id}).fetchall()
    )
    if not list_ids:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    if as_of is None:
        head = first_row(conn.execute(query("log_head_position")))
        as_of = int(str(head[0])) if head else 0
    counted = [p for p in precinct_figures_as_of(conn, election_id, as_of, list_ids) if p.state == "reported"]
    region_ids = tuple(sorted({p.region_id for p in counted}))
    index = {region_id: i for i, region_id in enumerate(region_ids)}
    stations = StationCounts(
        region_index=np.array([index[p.region_id] for p in counted], dtype=np.int64),
        region_ids=region_ids,
        list_ids=list_ids,
        registered=np.array([p.registered_voters for p in counted], dtype=np.int64),
        ballots_cast=np.array([p.ballots_cast for p in counted], dtype=np.int64),
        votes=np.array([[p.votes[lid] for lid in list_ids] for p in counted], dtype=np.int64).reshape(
            len(counted), len(list_ids)
        ),
    )
    return stations, as_of
