"""Derived state, from events only: incremental from a checkpoint, rebuildable from zero.

Every projection table is written here and nowhere else. `update_projections` applies the events
after the checkpoint; `rebuild_projections` empties the tables and applies the whole log, which
must give byte-identical tables (`projection_checksums` proves it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb

from pipelines.events import (
    BATCH_QUARANTINED,
    BATCH_RECEIVED,
    CONTEST_RESULTS_REPORTED,
    CONTESTS_DECLARED,
    ELECTION_DECLARED,
    RESULTS_CERTIFIED,
    RESULTS_PUBLISHED,
    ROW_QUARANTINED,
    canonical_json,
)
from pipelines.migrations import first_row

CHECKPOINT = "core"

PROJECTION_TABLES = (
    "proj_elections",
    "proj_lists",
    "proj_regions",
    "proj_precincts",
    "proj_precinct_results",
    "proj_precinct_votes",
    "proj_annulments",
    "proj_batches",
    "proj_anomalies",
    "proj_quarantine",
    "proj_publications",
    "proj_published_seats",
    "proj_seat_table",
    "proj_oe_elections",
    "proj_oe_counties",
    "proj_oe_contests",
    "proj_oe_county_totals",
    "proj_oe_office_variants",
)


def checkpoint(conn: duckdb.DuckDBPyConnection) -> int:
    row = first_row(
        conn.execute("SELECT position FROM projection_checkpoints WHERE projection = ?", [CHECKPOINT])
    )
    return 0 if row is None else int(row[0])


def _set_checkpoint(conn: duckdb.DuckDBPyConnection, position: int) -> None:
    conn.execute("DELETE FROM projection_checkpoints WHERE projection = ?", [CHECKPOINT])
    conn.execute("INSERT INTO projection_checkpoints VALUES (?, ?)", [CHECKPOINT, position])


def _payload_events(
    conn: duckdb.DuckDBPyConnection, since: int, types: tuple[str, ...]
) -> list[tuple[int, str, str | None, Any, dict[str, Any]]]:
    marks = ", ".join("?" for _ in types)
    rows = conn.execute(
        f"SELECT position, election_id, batch_id, occurred_at, payload FROM events "
        f"WHERE position > ? AND event_type IN ({marks}) ORDER BY position",
        [since, *types],
    ).fetchall()
    return [(int(p), e, b, t, json.loads(payload)) for p, e, b, t, payload in rows]


def update_projections(conn: duckdb.DuckDBPyConnection) -> int:
    """Apply every event after the checkpoint; return the new checkpoint. Call inside a transaction."""
    since = checkpoint(conn)
    head_row = first_row(conn.execute("SELECT coalesce(max(position), 0) FROM events"))
    head = int(str(head_row[0])) if head_row else 0
    if head <= since:
        return since
    _apply_declarations(conn, since)
    _apply_protocols(conn, since)
    conn.execute(
        """
        INSERT INTO proj_annulments
        SELECT election_id, payload->>'$.precinct_id', position,
               payload->>'$.reason', payload->>'$.decided_by'
        FROM events WHERE event_type = 'PrecinctAnnulled' AND position > ? ORDER BY position
        """,
        [since],
    )
    _apply_batches(conn, since)
    _apply_publications(conn, since)
    _apply_openelections(conn, since)
    _set_checkpoint(conn, head)
    return head


def _apply_declarations(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    for position, election_id, _batch, _at, payload in _payload_events(conn, since, (ELECTION_DECLARED,)):
        conn.execute(
            "INSERT INTO proj_elections VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                election_id,
                payload["name"],
                payload["date"],
                payload["rule_profile"],
                payload["against_all_on_ballot"],
                payload["synthetic"],
                position,
            ],
        )
        _insert_many(
            conn,
            "INSERT INTO proj_lists VALUES (?, ?, ?, ?, ?, ?)",
            [
                [election_id, p["list_id"], p["name"], p["ballot_order"], p["color"], p["candidates"]]
                for p in payload["lists"]
            ],
        )
        _insert_many(
            conn,
            "INSERT INTO proj_regions VALUES (?, ?, ?, ?)",
            [[election_id, r["region_id"], r["name"], r["utc_offset_hours"]] for r in payload["regions"]],
        )
        conn.execute(
            "INSERT INTO proj_precincts SELECT election_id, precinct_id, region_id, registered_voters "
            "FROM declared_precincts WHERE position = ? ORDER BY precinct_id",
            [position],
        )


def _apply_protocols(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _latest_protocols AS
        SELECT * FROM protocol_facts WHERE position > ?
        QUALIFY row_number() OVER (PARTITION BY election_id, precinct_id ORDER BY position DESC) = 1
        """,
        [since],
    )
    conn.execute(
        """
        DELETE FROM proj_precinct_results r USING _latest_protocols l
        WHERE r.election_id = l.election_id AND r.precinct_id = l.precinct_id
        """
    )
    conn.execute(
        """
        INSERT INTO proj_precinct_results
        SELECT election_id, precinct_id, region_id, protocol_version, position, registered_voters,
               ballots_issued, ballots_cast, invalid_ballots, against_all
        FROM _latest_protocols ORDER BY election_id, precinct_id
        """
    )
    conn.execute(
        """
        DELETE FROM proj_precinct_votes v USING _latest_protocols l
        WHERE v.election_id = l.election_id AND v.precinct_id = l.precinct_id
        """
    )
    conn.execute(
        """
        INSERT INTO proj_precinct_votes
        SELECT l.election_id, l.precinct_id, v.list_id, v.votes
        FROM _latest_protocols l JOIN protocol_votes v USING (position)
        ORDER BY l.election_id, l.precinct_id, v.list_id
        """
    )
    conn.execute("DROP TABLE _latest_protocols")


def _apply_batches(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    for position, election_id, batch_id, at, p in _payload_events(
        conn, since, (BATCH_RECEIVED, BATCH_QUARANTINED, ROW_QUARANTINED)
    ):
        assert batch_id is not None
        if "rows_total" in p:  # BatchReceived
            conn.execute(
                "INSERT INTO proj_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    batch_id,
                    election_id,
                    position,
                    p["file_name"],
                    p["file_format"],
                    p["size_bytes"],
                    at,
                    p["rows_total"],
                    p["rows_applied"],
                    p["rows_duplicate"],
                    p["rows_quarantined"],
                    p["quarantined_whole"],
                ],
            )
            _insert_many(
                conn,
                "INSERT INTO proj_anomalies VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        election_id,
                        batch_id,
                        position,
                        a["kind"],
                        a.get("precinct_id"),
                        p["file_name"],
                        a.get("row"),
                        a["detail"],
                    ]
                    for a in p.get("anomalies", [])
                ],
            )
        else:  # a quarantined row or file
            conn.execute(
                "INSERT INTO proj_quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    position,
                    election_id,
                    batch_id,
                    p["file_name"],
                    p.get("row"),
                    p.get("column"),
                    p["rule"],
                    p.get("value"),
                    p["message"],
                    p.get("precinct_id"),
                ],
            )


def _apply_publications(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    for position, election_id, _batch, at, p in _payload_events(
        conn, since, (RESULTS_PUBLISHED, RESULTS_CERTIFIED)
    ):
        conn.execute(
            "INSERT INTO proj_publications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                p["publication_id"],
                election_id,
                position,
                p["status"],
                p["based_on_position"],
                p["rule_profile"],
                p["table_sha256"],
                at,
            ],
        )
        # The seat table in force is the latest publication's allocation, provisional or certified.
        conn.execute("DELETE FROM proj_seat_table WHERE election_id = ?", [election_id])
        _insert_many(
            conn,
            "INSERT INTO proj_seat_table VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    election_id,
                    p["based_on_position"],
                    r["list_id"],
                    r["name"],
                    r["ballot_order"],
                    r["votes"],
                    r["share"],
                    r["share_pct"],
                    r["passed_threshold"],
                    r["admitted_by_guarantee"],
                    r["seats"],
                    canonical_json(r),
                ]
                for r in p["allocation"]
            ],
        )
        _insert_many(
            conn,
            "INSERT INTO proj_published_seats VALUES (?, ?, ?, ?, ?, ?)",
            [
                [p["publication_id"], r["list_id"], r["name"], r["ballot_order"], r["votes"], r["seats"]]
                for r in p["seats"]
            ],
        )


def _apply_openelections(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """Elections, counties and contests declared from OpenElections files; county totals; variants."""
    for position, election_id, _batch, _at, p in _payload_events(
        conn, since, (CONTESTS_DECLARED, CONTEST_RESULTS_REPORTED)
    ):
        if "contests" in p:  # ContestsDeclared: the first one of an election declares it
            conn.execute(
                "INSERT INTO proj_oe_elections SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                "(SELECT 1 FROM proj_oe_elections WHERE election_id = ?)",
                [election_id, p["state"], p["date"], p["file_name"], position, election_id],
            )
            _insert_many(
                conn,
                "INSERT INTO proj_oe_counties VALUES (?, ?, ?)",
                [[election_id, county, position] for county in p["counties"]],
            )
            _insert_many(
                conn,
                "INSERT INTO proj_oe_contests VALUES (?, ?, ?, ?)",
                [[election_id, c["office"], c["district"], position] for c in p["contests"]],
            )
        else:  # ContestResultsReported: its variants are those of the whole election so far
            conn.execute("DELETE FROM proj_oe_office_variants WHERE election_id = ?", [election_id])
            _insert_many(
                conn,
                "INSERT INTO proj_oe_office_variants VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [election_id, group, v["likeness"], spelling, count, position]
                    for group, v in enumerate(p["office_variants"], start=1)
                    for spelling, count in v["spellings"]
                ],
            )
    # Totals are recomputed, not added to, for every county and contest the new rows touch.
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _oe_touched AS SELECT DISTINCT election_id, office, district, county "
        "FROM oe_results WHERE position > ?",
        [since],
    )
    conn.execute(
        """
        DELETE FROM proj_oe_county_totals t USING _oe_touched x
        WHERE t.election_id = x.election_id AND t.office = x.office AND t.district = x.district
          AND t.county = x.county
        """
    )
    conn.execute(
        """
        INSERT INTO proj_oe_county_totals
        SELECT r.election_id, r.office, r.district, r.county, r.party, r.candidate,
               sum(r.votes)::BIGINT, count(DISTINCT r.precinct)::INTEGER
        FROM oe_results r JOIN _oe_touched USING (election_id, office, district, county)
        GROUP BY ALL ORDER BY ALL
        """
    )
    conn.execute("DROP TABLE _oe_touched")


def _insert_many(conn: duckdb.DuckDBPyConnection, sql: str, rows: list[list[Any]]) -> None:
    if rows:  # DuckDB refuses executemany with no rows
        conn.executemany(sql, rows)


def rebuild_projections(conn: duckdb.DuckDBPyConnection) -> int:
    """Empty every projection and replay the whole log. Call inside a transaction."""
    for table in PROJECTION_TABLES:
        conn.execute(f"DELETE FROM {table}")
    _set_checkpoint(conn, 0)
    return update_projections(conn)


def projection_checksums(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """SHA-256 of each projection's rows in a total order: equal checksums mean equal tables."""
    sums = {}
    for table in PROJECTION_TABLES:
        digest = hashlib.sha256()
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY ALL")
        while batch := cursor.fetchmany(50_000):
            for row in batch:
                digest.update(repr(row).encode("utf-8"))
                digest.update(b"\n")
        sums[table] = digest.hexdigest()
    return sums
