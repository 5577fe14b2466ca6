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
from pipelines.store.queries import query

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
            "INSERT INTO proj_elections (election_id, name, election_date, rule_profile, "
            "against_all_on_ballot, synthetic, declared_position) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        conn.execute(
            "INSERT INTO proj_precincts SELECT election_id, precinct_id, region_id, registered_voters "
            "FROM declared_precincts WHERE position = ?",
            [position],
        )
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
    moved = conn.execute(
        "SELECT election_id FROM proj_elections WHERE rules_sha256 IS NULL UNION "
        "SELECT election_id FROM proj_rule_amendments WHERE position > $since "
        "OR (effective_position > $since AND effective_position <= $head)",
        {"since": since, "head": head},
    ).fetchall()
    for (election_id,) in moved:
        try:
            rules = rules_in_force(conn, str(election_id), head)
        except InputError:
            # Only a version-1 declaration whose profile can no longer be read gets here: it must not
            # stop every other election's ingestion; its rules stay unshown until it can be read.
            continue
        conn.execute(
            "UPDATE proj_elections SET rules_profile_id = ?, rules_sha256 = ?, rules_set_at = ?, "
            "rules_effective_from = ? WHERE election_id = ?",
            [rules.profile.profile_id, rules.sha256, rules.set_at, rules.effective_from, election_id],
        )


def _start_totals(conn: duckdb.DuckDBPyConnection, election_ids: list[str]) -> None:
    """Zero totals for every region (and list) of newly declared elections, every precinct pending."""
    if not election_ids:
        return
    conn.execute("CREATE OR REPLACE TEMP TABLE _new_elections (election_id VARCHAR)")
    conn.executemany("INSERT INTO _new_elections VALUES (?)", [[e] for e in election_ids])
    conn.execute(
        """
        INSERT INTO proj_region_totals
        SELECT g.election_id, g.region_id, count(p.precinct_id), 0, 0, 0, count(p.precinct_id),
               coalesce(sum(p.registered_voters), 0), 0, 0, 0, 0
        FROM proj_regions g
        JOIN _new_elections USING (election_id)
        LEFT JOIN proj_precincts p USING (election_id, region_id)
        GROUP BY g.election_id, g.region_id
        """
    )
    conn.execute(
        """
        INSERT INTO proj_region_list_votes
        SELECT g.election_id, g.region_id, l.list_id, 0
        FROM proj_regions g JOIN _new_elections USING (election_id) JOIN proj_lists l USING (election_id)
        """
    )
    conn.execute("DROP TABLE _new_elections")


def _touched_precincts(conn: duckdb.DuckDBPyConnection, since: int) -> bool:
    """Collect the precincts whose contribution to the totals the events after `since` may change
    (a new protocol or an annulment); False, and nothing to do, when there are none."""
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _touched AS
        SELECT election_id, precinct_id FROM protocol_facts WHERE position > $since
        UNION
        SELECT election_id, payload->>'$.precinct_id' FROM events
        WHERE event_type = $annulled AND position > $since
        """,
        {"since": since, "annulled": PRECINCT_ANNULLED},
    )
    row = first_row(conn.execute("SELECT count(*) FROM _touched"))
    if row is None or int(str(row[0])) == 0:
        conn.execute("DROP TABLE _touched")
        return False
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _region_deltas ("
        "election_id VARCHAR, region_id VARCHAR, reported BIGINT, annulled BIGINT, counted BIGINT, "
        "pending BIGINT, registered_counted BIGINT, ballots_cast BIGINT, invalid_ballots BIGINT, "
        "against_all BIGINT)"
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _list_deltas ("
        "election_id VARCHAR, region_id VARCHAR, list_id VARCHAR, votes BIGINT)"
    )
    return True


def _collect_contributions(conn: duckdb.DuckDBPyConnection, *, sign: int) -> None:
    """Add `sign` times what the touched precincts contribute to the totals in the current state."""
    # One pass over the million-row projections; both contributions read this small table.
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE _touched_state AS
        SELECT t.election_id, t.precinct_id, d.region_id AS declared_region, d.registered_voters,
               r.region_id, r.protocol_position, r.ballots_cast, r.invalid_ballots, r.against_all,
               r.precinct_id IS NOT NULL AS reported, a.precinct_id IS NOT NULL AS annulled,
               r.precinct_id IS NOT NULL AND a.precinct_id IS NULL AS counted
        FROM _touched t
        LEFT JOIN proj_precincts d USING (election_id, precinct_id)
        LEFT JOIN proj_precinct_results r USING (election_id, precinct_id)
        LEFT JOIN proj_annulments a USING (election_id, precinct_id)
        """
    )
    # Figures as publication_files._AREA_SQL counts them: declared precincts, by declared region.
    conn.execute(
        """
        INSERT INTO _region_deltas
        SELECT election_id, declared_region,
               $sign * count(*) FILTER (WHERE reported),
               $sign * count(*) FILTER (WHERE annulled),
               $sign * count(*) FILTER (WHERE counted),
               $sign * count(*) FILTER (WHERE NOT reported AND NOT annulled),
               $sign * coalesce(sum(registered_voters) FILTER (WHERE counted), 0),
               $sign * coalesce(sum(ballots_cast) FILTER (WHERE counted), 0),
               $sign * coalesce(sum(invalid_ballots) FILTER (WHERE counted), 0),
               $sign * coalesce(sum(against_all) FILTER (WHERE counted), 0)
        FROM _touched_state WHERE declared_region IS NOT NULL
        GROUP BY election_id, declared_region
        """,
        {"sign": sign},
    )
    # Votes as _REGION_VOTES_SQL counts them: counted protocols, by the protocol's region. FILTER,
    # not WHERE: with WHERE, DuckDB pushes the sum below the join and groups all 20M vote rows.
    conn.execute(
        """
        INSERT INTO _list_deltas
        SELECT s.election_id, s.region_id, v.list_id,
               $sign * coalesce(sum(v.votes) FILTER (WHERE s.counted), 0)
        FROM _touched_state s JOIN protocol_votes v ON v.position = s.protocol_position
        GROUP BY s.election_id, s.region_id, v.list_id
        """,
        {"sign": sign},
    )
    conn.execute("DROP TABLE _touched_state")


def _apply_deltas(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        UPDATE proj_region_totals t SET
            precincts_reported = t.precincts_reported + d.reported,
            precincts_annulled = t.precincts_annulled + d.annulled,
            precincts_counted = t.precincts_counted + d.counted,
            precincts_pending = t.precincts_pending + d.pending,
            registered_voters_counted = t.registered_voters_counted + d.registered_counted,
            ballots_cast = t.ballots_cast + d.ballots_cast,
            invalid_ballots = t.invalid_ballots + d.invalid_ballots,
            against_all = t.against_all + d.against_all
        FROM (
            SELECT election_id, region_id, sum(reported) AS reported, sum(annulled) AS annulled,
                   sum(counted) AS counted, sum(pending) AS pending,
                   sum(registered_counted) AS registered_counted, sum(ballots_cast) AS ballots_cast,
                   sum(invalid_ballots) AS invalid_ballots, sum(against_all) AS against_all
            FROM _region_deltas GROUP BY election_id, region_id
        ) d
        WHERE t.election_id = d.election_id AND t.region_id = d.region_id
        """
    )
    conn.execute(
        """
        UPDATE proj_region_list_votes t SET votes = t.votes + d.votes
        FROM (
            SELECT election_id, region_id, list_id, sum(votes) AS votes
            FROM _list_deltas GROUP BY election_id, region_id, list_id
        ) d
        WHERE t.election_id = d.election_id AND t.region_id = d.region_id AND t.list_id = d.list_id
        """
    )
    for table in ("_touched", "_region_deltas", "_list_deltas"):
        conn.execute(f"DROP TABLE {table}")


_LATEST_PROTOCOLS_SQL = """
SELECT election_id, precinct_id, region_id, protocol_version, position, registered_voters,
       ballots_issued, ballots_cast, invalid_ballots, against_all
FROM protocol_facts WHERE position > $since
QUALIFY row_number() OVER (PARTITION BY election_id, precinct_id ORDER BY position DESC) = 1
"""


def _apply_protocols(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """The latest protocol of each precinct replaces the one in force (their votes follow by position)."""
    if since == 0:  # a rebuild starts from empty tables: nothing to replace
        conn.execute("INSERT INTO proj_precinct_results " + _LATEST_PROTOCOLS_SQL, {"since": since})
        return
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _latest_protocols AS " + _LATEST_PROTOCOLS_SQL, {"since": since}
    )
    conn.execute(
        """
        DELETE FROM proj_precinct_results r USING _latest_protocols l
        WHERE r.election_id = l.election_id AND r.precinct_id = l.precinct_id
        """
    )
    conn.execute("INSERT INTO proj_precinct_results SELECT * FROM _latest_protocols")
    conn.execute("DROP TABLE _latest_protocols")


def _apply_annulments(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    conn.execute(
        """
        INSERT INTO proj_annulments
        SELECT election_id, payload->>'$.precinct_id', position,
               payload->>'$.reason', payload->>'$.decided_by'
        FROM events WHERE event_type = ? AND position > ?
        """,
        [PRECINCT_ANNULLED, since],
    )


def _apply_batches(conn: duckdb.DuckDBPyConnection, since: int) -> None:
    """Received files, their anomaly flags and quarantined rows and files, straight from the payloads."""
    conn.execute(
        """
        INSERT INTO proj_batches
        SELECT batch_id, election_id, position, payload->>'$.file_name', payload->>'$.file_format',
               CAST(payload->>'$.size_bytes' AS BIGINT), occurred_at,
               CAST(payload->>'$.rows_total' AS INTEGER), CAST(payload->>'$.rows_applied' AS INTEGER),
               CAST(payload->>'$.rows_duplicate' AS INTEGER), CAST(payload->>'$.rows_quarantined' AS INTEGER),
               CAST(payload->>'$.quarantined_whole' AS BOOLEAN)
        FROM events WHERE event_type = $received AND position > $since
        """,
        {"received": BATCH_RECEIVED, "since": since},
    )
    conn.execute(
        """
        INSERT INTO proj_anomalies
        WITH flags AS (  -- unnest of a JSON[]: json_each over payloads of thousands of flags is quadratic
            SELECT election_id, batch_id, position, payload->>'$.file_name' AS file_name,
                   unnest(CAST(payload->'$.anomalies' AS JSON[])) AS a
            FROM events WHERE event_type = $received AND position > $since
        )
        SELECT election_id, batch_id, position, a->>'$.kind', a->>'$.precinct_id', file_name,
               CAST(a->>'$.row' AS INTEGER), a->>'$.detail'
        FROM flags
        """,
        {"received": BATCH_RECEIVED, "since": since},
    )
    conn.execute(
        """
        INSERT INTO proj_quarantine
        SELECT position, election_id, batch_id, payload->>'$.file_name', CAST(payload->>'$.row' AS INTEGER),
               payload->>'$.column', payload->>'$.rule', payload->>'$.value', payload->>'$.message',
               payload->>'$.precinct_id'
        FROM events WHERE event_type IN ($row, $file) AND position > $since
        """,
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
    """Precincts reported by each new publication's base position: those reported now (the running
    totals), less those whose first protocol came after that position (none, when it is the head).
    Protocols exist only for declared precincts (ingestion refuses others), so the declared count
    of the totals is the count of precincts with a protocol."""
    conn.execute(
        """
        INSERT INTO proj_publication_progress
        WITH pubs AS (
            SELECT publication_id, election_id, based_on_position FROM proj_publications
            WHERE position > $since
        ), later AS (
            SELECT DISTINCT f.election_id, f.precinct_id FROM protocol_facts f
            WHERE f.position > (SELECT min(based_on_position) FROM pubs)
              AND f.election_id IN (SELECT election_id FROM pubs)
        ), firsts AS (
            SELECT f.election_id, min(f.position) AS first_position
            FROM protocol_facts f JOIN later USING (election_id, precinct_id)
            GROUP BY f.election_id, f.precinct_id
        ), now AS (
            SELECT election_id, sum(precincts_reported) AS reported FROM proj_region_totals
            WHERE election_id IN (SELECT election_id FROM pubs) GROUP BY election_id
        )
        SELECT p.publication_id, p.election_id, p.based_on_position,
               coalesce(any_value(n.reported), 0) - count(f.first_position)
        FROM pubs p
        LEFT JOIN now n USING (election_id)
        LEFT JOIN firsts f ON f.election_id = p.election_id AND f.first_position > p.based_on_position
        GROUP BY p.publication_id, p.election_id, p.based_on_position
        """,
        {"since": since},
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
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _oe_touched AS SELECT DISTINCT election_id, office, district, county "
        "FROM oe_results WHERE position > ?",
        [since],
    )
    touched = first_row(conn.execute("SELECT count(*) FROM _oe_touched"))
    if touched is not None and int(str(touched[0])) > 0:
        _recount_oe_totals(conn)
    conn.execute("DROP TABLE _oe_touched")


def _recount_oe_totals(conn: duckdb.DuckDBPyConnection) -> None:
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
        GROUP BY ALL
        """
    )


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
    row = first_row(
        conn.execute(
            "SELECT sql FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database() "
            "AND schema_name = 'main'",
            [table],
        )
    )
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
