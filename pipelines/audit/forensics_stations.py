"""The counted stations of an election as `StationCounts`, read from a read-only snapshot connection.

Counted means reported and not annulled, as of a log position (default: the log's head); pending
stations have no figures and annulled ones count for nothing, so neither enters the screen. The rows
go straight into arrays (no object per station): a national election is ~100,000 stations x lists.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipelines.audit.forensics_screen import StationCounts
from pipelines.core.errors import InputError
from pipelines.store.migrations import first_row
from pipelines.store.queries import query


def counted_stations(
    conn: duckdb.DuckDBPyConnection, election_id: str, *, as_of: int | None = None
) -> tuple[StationCounts, int]:
    """The counted stations (by region, then precinct id) and the log position they were read at."""
    list_ids = tuple(
        str(row[0]) for row in conn.execute(query("election_lists"), {"election": election_id}).fetchall()
    )
    if not list_ids:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    if as_of is None:
        head = first_row(conn.execute(query("log_head_position")))
        as_of = int(str(head[0])) if head else 0
    params: dict[str, object] = {"election": election_id, "as_of": as_of}
    precincts = conn.execute(query("precinct_figures_as_of"), params).fetchnumpy()
    counted = np.asarray(precincts["state"]) == "reported"
    precinct_ids = np.asarray(precincts["precinct_id"])[counted]
    region_ids, region_index = np.unique(
        np.asarray(precincts["region_id"])[counted].astype(str), return_inverse=True
    )
    cells = conn.execute(query("precinct_list_votes_in_force"), params).fetchnumpy()
    # A hash index each way (-1 when absent): no Python object per vote cell.
    rows = pd.Index(precinct_ids, dtype=object).get_indexer(np.asarray(cells["precinct_id"], dtype=object))
    columns = pd.Index(list_ids, dtype=object).get_indexer(np.asarray(cells["list_id"], dtype=object))
    found = (rows >= 0) & (columns >= 0)
    votes = np.zeros((precinct_ids.size, len(list_ids)), dtype=np.int64)
    votes[rows[found], columns[found]] = np.asarray(cells["votes"], dtype=np.int64)[found]
    stations = StationCounts(
        region_index=region_index.astype(np.int64),
        region_ids=tuple(str(r) for r in region_ids),
        list_ids=list_ids,
        registered=np.asarray(precincts["registered_voters"], dtype=np.int64)[counted],
        ballots_cast=np.asarray(precincts["ballots_cast"], dtype=np.int64)[counted],
        votes=votes,
    )
    return stations, as_of
