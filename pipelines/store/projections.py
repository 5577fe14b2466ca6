"""Derived state, from events only: incremental from a checkpoint, rebuildable from zero.

Every projection table is written here and nowhere else. `update_projections` applies the events
after the checkpoint; `rebuild_projections` empties the tables and applies the whole log, which
must give byte-identical tables (`projection_checksums` proves it). Both are one path: set-based
SQL over the events after the checkpoint (all of them for a rebuild), so that an update costs what
its batch holds. Running totals per region and list move by deltas: the contribution of every
precinct the batch touches is subtracted as it stood and added as it stands.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb

from pipelines.core.errors import InputError
from pipelines.domain.events import (
    BATCH_QUARANTINED,
    BATCH_RECEIVED,
    CERTIFICATION_REVOKED,
    CONTEST_RESULTS_REPORTED,
    CONTESTS_DECLARED,
    ELECTION_DECLARED,
    PRECINCT_ANNULLED,
    RESULTS_CERTIFIED,
    RESULTS_PUBLISHED,
    ROW_QUARANTINED,
    RULES_AMENDED,
    canonical_json,
)
from pipelines.store.election_rules import rules_in_force
from pipelines.store.migrations import first_row
from pipelines.store.queries import query, statement

CHECKPOINT = "core"

PROJECTION_TABLES = (
    "proj_elections",
    "proj_rule_amendments",
    "proj_lists",
    "proj_regions",
    "proj_precincts",
    "proj_precinct_results",
    "proj_annulments",
    "proj_region_totals",
    "proj_region_list_votes",
    "proj_batches",
    "proj_anomalies",
    "proj_quarantine",
    "proj_publications",
    "proj_certification_revocations",
    "proj_published_seats",
    "proj_publication_progress",
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
    rows = conn.execute(query("events_of_types_since"), {"since": since, "types": list(types)}).fetchall()
    return [(int(p), e, b, t, json.loads(payload)) for p, e, b, t, payload in rows]


def update_projections(conn: duckdb.DuckDBPyConnection) -> int:
    """Apply every event after the checkpoint; return the new checkpoint. Call inside a transaction."""
    since = checkpoint(conn)
    head_row = first_row(conn.execute(query("log_head_position")))
    head = int(str(head_row[0])) if head_row else 0
    if head <= since:
        return since
    new_elections = _apply_declarations(conn, since)
    _start_totals(conn, new_elections)
    _apply_rules(conn, since, head)
    if _touched_precincts(conn, since):
        _collect_contributions(conn, sign=-1)  # as they stood: superseded protocols, precincts not annulled
        _apply_protocols(conn, since)
        _apply_annulments(conn, since)
        _collect_contributions(conn, sign=1)  # as they stand now
        _apply_deltas(conn)
    _apply_batches(conn, since)
    if _apply_publications(conn, since):
        _apply_publication_progress(conn, since)
    _apply_revocations(conn, since)
    _apply_openelections(conn, since)
    _set_checkpoint(conn, head)
    return head


def _apply_declarations(conn: duckdb.DuckDBPyConnection, since: int) -> list[str]:
    """Project the elections declared after `since`; return their ids."""
    declared = []
    for position, election_id, _batch, _at, payload in _payload_events(conn, since, (ELECTION_DECLARED,)):
        declared.append(election_id)
        conn.execute(
            statement("insert_proj_election"),
            {
                "election": election_id,
                "name": payload["name"],
                "date": payload["date"],
                "rule_profile": payload["rule_profile"],
                "against_all_on_ballot": payload["against_all_on_ballot"],
                "synthetic": payload["synthetic"],
                "position": position,
            },
        )
        _insert_many(
            conn,
            "proj_lists",
            [
                [election_id, p["list_id"], p["name"], p["ballot_order"], p["color"], p["candidates"]]
                for p in payload["lists"]
            ],
        )
        _insert_many(
            conn,
            "proj_regions",
            [[election_id, r["region_id"], r["name"], r["utc_offset_hours"]] for r in payload["regions"]],
        )
        conn.execute(statement("insert_proj_precincts_declared"), {"position": position})
    return declared


def _apply_rules(conn: duckdb.DuckDBPyConnection, since: int, head: int) -> None:
    """List the amendments after `since` and show the rules in force at `head` for every election
    whose rules may have moved: declared or amended after `since`, a scheduled amendment reached."""
    for position, election_id, _batch, at, p in _payload_events(conn, since, (RULES_AMENDED,)):
        conn.execute(
            "INSERT INTO proj_rule_amendments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                position,
                election_id,
                p["effective_position"],
                p["rules"]["profile_id"],
                p["rules_sha256"],
                p["previous_rules_sha256"],
                p["reason"],
                p["decided_by"],
                at,
            ],
        )
    moved = conn.execute(query("elections_with_rules_to_show"), {"since": since, "head": head}).fetchall()
    for (election_id,) in moved:
        try:
            rules = rules_in_force(conn, str(election_id), head)
        except InputError:
            # Only a version-1 declaration whose profile can no longer be read gets here: it must not
            # stop every other election's ingestion; its rules stay unshown until it can be read.
            continue
        conn.execute(
            statement("update_proj_election_rules"),
            {
                "profile_id": rules.profile.profile_id,
                "sha256": rules.sha256,
                "set_at": rules.set_at,
                "effective_from": rules.effective_from,
                "election": election_id,
            },
        )


def _start_totals(conn: duckdb.DuckDBPyConnection, election_ids: list[str]) -> None:
    """Zero totals for every region (and list) of newly declared elections, every precinct pending."""
    if not election_ids:
        return
    conn.execute("CREATE OR REPLACE TEMP TABLE _new_elections (election_id VARCHAR)")
    conn.executemany("INSERT INTO _new_elections VALUES (?)", [[e] for e in election_ids])
    conn.execute(statement("start_region_totals"))
    conn.execute(statement("start_region_list_votes"))
    conn.execute("DROP TABLE _new_elections")


def _touched_precincts(conn: duckdb.DuckDBPyConnection, since: int) -> bool:
    """Collect the precincts whose contribution to the totals the events after `since` may change
    (a new protocol or an annulment); False, and nothing to do, when there are none."""
    conn.execute(statement("create_touched_precincts"), {"since": since, "annulled": PRECINCT_ANNULLED})
    row = first_row(conn.execute("SELECT count(*) FROM _touched"))
    if row is None or int(str(row[0])) == 0:
        conn.execute("DROP TABLE _touched")
        return False
    conn.execute(statement("create_region_deltas"))
    conn.execute(statement("create_list_deltas"))
    return True


def _collect_contributions(conn: duckdb.DuckDBPyConnection, *, sign: int) -> None:
    """Add `sign` times what the touched precincts contribute to the totals in the current state."""
    conn.execute(statement("create_touched_state"))
    conn.execute(statement("add_region_contributions"), {"sign": sign})
    conn.execute(statement("add_list_contributions"), {"sign": sign})
    conn.execute("DROP TABLE _touched_state")


def _apply_deltas(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(statement("apply_region_deltas"))
    conn.execute(statement("apply_list_deltas"))
    for table in ("_touched", "_region_deltas", "_list_deltas"):
        conn.execute(f"DROP TABLE {table}")


def _apply_protocols(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """The latest protocol of each precinct replaces the one in force (their votes follow by position)."""
    if since == 0:  # a rebuild starts from empty tables: nothing to replace
        conn.execute("INSERT INTO proj_precinct_results " + query("latest_protocols_since"), {"since": since})
        return
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _latest_protocols AS " + query("latest_protocols_since"),
        {"since": since},
    )
    conn.execute(statement("delete_superseded_precinct_results"))
    conn.execute("INSERT INTO proj_precinct_results SELECT * FROM _latest_protocols")
    conn.execute("DROP TABLE _latest_protocols")


def _apply_annulments(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    conn.execute(statement("insert_proj_annulments"), {"annulled": PRECINCT_ANNULLED, "since": since})


def _apply_batches(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """Received files, their anomaly flags and quarantined rows and files, straight from the payloads."""
    received = {"received": BATCH_RECEIVED, "since": since}
    conn.execute(statement("insert_proj_batches"), received)
    conn.execute(statement("insert_proj_anomalies"), received)
    conn.execute(
        statement("insert_proj_quarantine"),
        {"row": ROW_QUARANTINED, "file": BATCH_QUARANTINED, "since": since},
    )


def _apply_publications(conn: duckdb.DuckDBPyConnection, since: int) -> int:
    """Project the publications after `since`; return how many."""
    publications = _payload_events(conn, since, (RESULTS_PUBLISHED, RESULTS_CERTIFIED))
    for position, election_id, _batch, at, p in publications:
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
            "proj_seat_table",
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
            "proj_published_seats",
            [
                [p["publication_id"], r["list_id"], r["name"], r["ballot_order"], r["votes"], r["seats"]]
                for r in p["seats"]
            ],
        )
    return len(publications)


def _apply_revocations(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    conn.execute(
        "INSERT INTO proj_certification_revocations " + query("certification_revocations_since"),
        {"revoked": CERTIFICATION_REVOKED, "since": since},
    )


def _apply_publication_progress(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """Precincts reported by each new publication's base position (see the statement for how)."""
    conn.execute(statement("insert_proj_publication_progress"), {"since": since})


def _apply_openelections(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """Elections, counties and contests declared from OpenElections files; county totals; variants."""
    for position, election_id, _batch, _at, p in _payload_events(
        conn, since, (CONTESTS_DECLARED, CONTEST_RESULTS_REPORTED)
    ):
        if "contests" in p:  # ContestsDeclared: the first one of an election declares it
            conn.execute(
                statement("insert_proj_oe_election"),
                {
                    "election": election_id,
                    "state": p["state"],
                    "date": p["date"],
                    "file_name": p["file_name"],
                    "position": position,
                },
            )
            _insert_many(
                conn,
                "proj_oe_counties",
                [[election_id, county, position] for county in p["counties"]],
            )
            _insert_many(
                conn,
                "proj_oe_contests",
                [[election_id, c["office"], c["district"], position] for c in p["contests"]],
            )
        else:  # ContestResultsReported: its variants are those of the whole election so far
            conn.execute("DELETE FROM proj_oe_office_variants WHERE election_id = ?", [election_id])
            _insert_many(
                conn,
                "proj_oe_office_variants",
                [
                    [election_id, group, v["likeness"], spelling, count, position]
                    for group, v in enumerate(p["office_variants"], start=1)
                    for spelling, count in v["spellings"]
                ],
            )
    # Totals are recomputed, not added to, for every county and contest the new rows touch.
    conn.execute(statement("create_oe_touched"), {"since": since})
    touched = first_row(conn.execute("SELECT count(*) FROM _oe_touched"))
    if touched is not None and int(str(touched[0])) > 0:
        _recount_oe_totals(conn)
    conn.execute("DROP TABLE _oe_touched")


def _recount_oe_totals(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(statement("delete_oe_county_totals_touched"))
    conn.execute(statement("insert_oe_county_totals_touched"))


def _insert_many(conn: duckdb.DuckDBPyConnection, table: str, rows: list[list[Any]]) -> None:
    """Insert rows with one statement per thousand: executemany costs a statement per row."""
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        row_marks = "(" + ", ".join("?" for _ in chunk[0]) + ")"
        conn.execute(
            f"INSERT INTO {table} VALUES " + ", ".join(row_marks for _ in chunk),
            [value for row in chunk for value in row],
        )


def rebuild_projections(conn: duckdb.DuckDBPyConnection) -> int:
    """Empty every projection and replay the whole log. Call inside a transaction."""
    for table in PROJECTION_TABLES:
        _recreate_empty(conn, table)
    _set_checkpoint(conn, 0)
    return update_projections(conn)


def _recreate_empty(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a table and create it again from its own definition. Deleting a million rows from a
    table with a primary key and inserting them again cost ~25 s at COMMIT (its index); a new table
    costs well under one."""
    row = first_row(conn.execute(query("table_definition"), {"table": table}))
    assert row is not None, table
    conn.execute(f"DROP TABLE {table}")
    conn.execute(str(row[0]))


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
