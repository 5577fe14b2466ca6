"""The figures `elections reconcile` compares, read from a read-only connection to the snapshot.

Per region and summed to the nation: declared polling stations and registered voters (of every
declared precinct, as a commission's summary counts its electorate), ballots cast, invalid ballots,
"against all" and each list's votes of the counted precincts (reported, not annulled). Seats: the
seat table in force (its publication and status named), or with `as_of` the allocation as of that
position under the rules then in force, as `elections seats --as-of` computes it.
"""

from __future__ import annotations

import duckdb

from pipelines.audit.reconciliation import FigureKey, WarehouseFigures
from pipelines.core.errors import InputError
from pipelines.publishing.seat_table import allocate_totals, national_totals
from pipelines.store.election_rules import rules_in_force
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

# The columns of region_totals / region_totals_as_of after region id and name, and what each is here.
REGION_COLUMNS = (
    "precincts",
    None,  # precincts reported
    None,  # precincts annulled
    None,  # precincts pending
    "registered_voters",
    None,  # registered voters of counted precincts
    "ballots_cast",
    "invalid_ballots",
    "against_all",
)


def warehouse_figures(
    conn: duckdb.DuckDBPyConnection, election_id: str, *, as_of: int | None = None
) -> WarehouseFigures:
    lists = {
        str(row[0]): str(row[1])
        for row in conn.execute(query("election_lists"), {"election": election_id}).fetchall()
    }
    if not lists:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    params: dict[str, object] = {"election": election_id}
    if as_of is None:
        areas_sql, votes_sql = query("region_totals"), query("region_list_votes")
        head = first_row(conn.execute(query("log_head_position")))
        position = int(str(head[0])) if head else 0
    else:
        areas_sql, votes_sql = query("region_totals_as_of"), query("region_list_votes_as_of")
        params["as_of"] = position = as_of
    regions: dict[str, str] = {}
    values: dict[FigureKey, int] = {}
    for region_id, name, *figures in conn.execute(areas_sql, params).fetchall():
        regions[str(region_id)] = str(name)
        for measure, figure in zip(REGION_COLUMNS, figures, strict=True):
            if measure is not None:
                values[(str(region_id), measure, None)] = int(figure)
        # A list with no votes in a region has no row in the running totals: it has 0 there.
        values.update({(str(region_id), "votes", list_id): 0 for list_id in lists})
    for region_id, list_id, votes in conn.execute(votes_sql, params).fetchall():
        values[(str(region_id), "votes", str(list_id))] = int(votes)
    national: dict[FigureKey, int] = {}
    for (_region, measure, list_id), value in values.items():
        national[(None, measure, list_id)] = national.get((None, measure, list_id), 0) + value
    values.update(national)
    seats, seats_source = _seats(conn, election_id, as_of)
    for list_id, count in seats.items():
        values[(None, "seats", list_id)] = count
    return WarehouseFigures(election_id, position, regions, lists, values, seats_source)


def _seats(
    conn: duckdb.DuckDBPyConnection, election_id: str, as_of: int | None
) -> tuple[dict[str, int], str]:
    if as_of is not None:
        rules = rules_in_force(conn, election_id, as_of)
        allocation = allocate_totals(national_totals(conn, election_id, as_of=as_of), rules.profile)
        seats = {str(r["list_id"]): int(str(r["seats"])) for r in allocation.to_records()}
        return (
            seats,
            f"computed as of log position {as_of} under rules {rules.profile.profile_id} (not published)",
        )
    cursor = conn.execute(query("seat_table"), {"election": election_id})
    columns = [d[0] for d in cursor.description or []]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    if not rows:
        return {}, "no seat table has been published"
    latest = first_row(conn.execute(query("latest_publication"), {"election": election_id}))
    status, publication = ("", "") if latest is None else (f"{latest[1]} ", f"{latest[0]}, ")
    based_on = rows[0]["based_on_position"]
    return (
        {str(r["list_id"]): int(str(r["seats"])) for r in rows},
        f"the {status}seat table in force ({publication}based on log position {based_on})",
    )
