"""Running totals (proj_region_totals, proj_region_list_votes, proj_publication_progress) against
oracles computed here from the protocol rows of the election night, after deltas and after a rebuild;
an existing warehouse upgraded by migration 004 gets the totals a rebuild gives."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.publishing.published_results import (
    area_totals_as_of,
    area_totals_of_publications,
    election_lists,
    load_published_results,
)
from pipelines.publishing.seat_table import national_totals
from pipelines.store.event_store import EventStore
from pipelines.store.projections import projection_checksums, rebuild_projections
from tests.support.election_night import (
    AMENDED_PRECINCT,
    ANNULLED_PRECINCT,
    PENDING_PRECINCTS,
    ElectionNight,
    amendment,
    copy_of,
    election_night,
    first_batch,
    second_batch,
)
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    REGIONS,
    precinct_ids,
    protocol,
    region_of,
    write_annulment,
    write_protocols,
)

REGISTERED = 1000  # every declared precinct of the small election


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> ElectionNight:
    return election_night(tmp_path_factory.mktemp("night"))


def expected_regions(
    in_force: dict[str, dict[str, object]], annulled: set[str]
) -> dict[str, tuple[int, ...]]:
    """Per region, the figures of publication_files.TOTAL_FIELDS plus counted, from protocol rows."""
    out: dict[str, tuple[int, ...]] = {}
    for region in REGIONS:
        declared = [p for p in precinct_ids() if region_of(p) == region]
        reported = [p for p in declared if p in in_force]
        counted = [p for p in reported if p not in annulled]
        out[region] = (
            len(declared),
            len(reported),
            len([p for p in declared if p in annulled]),
            len(counted),
            len([p for p in declared if p not in in_force and p not in annulled]),
            REGISTERED * len(declared),
            REGISTERED * len(counted),
            sum(int(str(in_force[p]["ballots_cast"])) for p in counted),
            sum(int(str(in_force[p]["invalid_ballots"])) for p in counted),
            sum(int(str(in_force[p]["against_all"])) for p in counted),
        )
    return out


def expected_votes(in_force: dict[str, dict[str, object]], annulled: set[str]) -> dict[tuple[str, str], int]:
    votes: Counter[tuple[str, str]] = Counter({(r, lid): 0 for r in REGIONS for lid in LISTS})
    for pid, row in in_force.items():
        if pid not in annulled:
            for lid in LISTS:
                votes[(region_of(pid), lid)] += int(str(row[lid]))
    return dict(votes)


def night_in_force() -> dict[str, dict[str, object]]:
    rows = {str(r["precinct_id"]): r for r in [*first_batch(), *second_batch()]}
    amended = amendment()
    rows[str(amended["precinct_id"])] = amended
    return rows


def stored_regions(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, ...]]:
    rows = conn.execute(
        "SELECT region_id, precincts_expected, precincts_reported, precincts_annulled, precincts_counted, "
        "precincts_pending, registered_voters, registered_voters_counted, ballots_cast, invalid_ballots, "
        "against_all FROM proj_region_totals WHERE election_id = ?",
        [ELECTION_ID],
    ).fetchall()
    return {str(r[0]): tuple(int(x) for x in r[1:]) for r in rows}


def stored_votes(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        "SELECT region_id, list_id, votes FROM proj_region_list_votes WHERE election_id = ?", [ELECTION_ID]
    ).fetchall()
    assert len(rows) == len({(r[0], r[1]) for r in rows})  # one row per region and list
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


def test_deltas_and_a_rebuild_give_the_totals_counted_from_the_protocols(
    night: ElectionNight, tmp_path: Path
) -> None:
    annulled = {ANNULLED_PRECINCT}
    paths = WarehousePaths(copy_of(night, tmp_path / "wh"))
    with EventStore.open_writer(paths) as store:
        incremental = projection_checksums(store.conn)
        assert stored_regions(store.conn) == expected_regions(night_in_force(), annulled)
        assert stored_votes(store.conn) == expected_votes(night_in_force(), annulled)
        with store.transaction():
            rebuild_projections(store.conn)
        assert stored_regions(store.conn) == expected_regions(night_in_force(), annulled)
        assert stored_votes(store.conn) == expected_votes(night_in_force(), annulled)
        assert projection_checksums(store.conn) == incremental


def test_annulling_a_precinct_that_never_reported_moves_it_from_pending_to_annulled(
    night: ElectionNight, tmp_path: Path
) -> None:
    warehouse = copy_of(night, tmp_path / "wh")
    pending = PENDING_PRECINCTS[0]
    (tmp_path / "in").mkdir()
    summary = ingest_paths(
        [write_annulment(tmp_path / "in", "annul-pending.csv", pending)], warehouse=warehouse
    )
    assert summary.files[0].rows_applied == 1
    annulled = {ANNULLED_PRECINCT, pending}
    with EventStore.open_writer(WarehousePaths(warehouse)) as store:
        assert stored_regions(store.conn) == expected_regions(night_in_force(), annulled)
        assert stored_votes(store.conn) == expected_votes(night_in_force(), annulled)
        incremental = projection_checksums(store.conn)
        with store.transaction():
            rebuild_projections(store.conn)
        assert projection_checksums(store.conn) == incremental
        # The running totals (now) and the log counted afresh (as of the head) agree.
        head = store.head()[0]
        now = national_totals(store.conn, ELECTION_ID)
        assert now == national_totals(store.conn, ELECTION_ID, as_of=head)


def test_a_publication_of_the_current_results_shows_the_same_areas_as_one_counted_from_the_log(
    night: ElectionNight, tmp_path: Path
) -> None:
    latest, earlier = night.publications[-1], night.publications[-2]
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        current = load_published_results(conn, latest)  # from the running totals
        older = load_published_results(conn, earlier)  # from the log: the annulment came after it
    regions = expected_regions(night_in_force(), {ANNULLED_PRECINCT})
    for area in current.regions:
        assert area.region_id is not None
        figures = regions[area.region_id]
        assert [area.figures[f] for f in ("precincts_expected", "precincts_reported")] == list(figures[:2])
        assert area.figures["precincts_pending"] == figures[4]
        assert area.figures["ballots_cast"] == figures[7]
    # The annulment is the only difference between the two: its precinct moves from counted to annulled.
    gone = night_in_force()[ANNULLED_PRECINCT]
    assert older.national.figures["precincts_annulled"] == current.national.figures["precincts_annulled"] - 1
    assert (
        older.national.figures["ballots_cast"] - current.national.figures["ballots_cast"]
        == gone["ballots_cast"]
    )
    for lid in LISTS:
        assert older.national.votes[lid] - current.national.votes[lid] == gone[lid]


def test_each_publication_records_the_precincts_reported_by_its_base(night: ElectionNight) -> None:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        firsts = conn.execute(
            "SELECT precinct_id, min(position) FROM protocol_facts WHERE election_id = ? GROUP BY ALL",
            [ELECTION_ID],
        ).fetchall()
        progress = conn.execute(
            "SELECT g.publication_id, g.based_on_position, g.precincts_reported "
            "FROM proj_publication_progress g ORDER BY g.based_on_position"
        ).fetchall()
    assert [p[0] for p in progress] == night.publications
    for _pub, based_on, reported in progress:
        assert reported == sum(1 for _pid, first in firsts if first <= based_on)
    first_run = len(first_batch())
    assert [p[2] for p in progress] == [first_run] + [first_run + len(second_batch())] * 3


def test_an_existing_warehouse_upgrades_to_the_totals_a_rebuild_gives(
    night: ElectionNight, tmp_path: Path
) -> None:
    paths = WarehousePaths(copy_of(night, tmp_path / "wh"))
    with duckdb.connect(str(paths.database)) as conn:  # the warehouse as migration 003 left it
        conn.execute("CREATE TABLE _votes AS SELECT * FROM proj_precinct_votes")
        conn.execute("DROP VIEW proj_precinct_votes")
        conn.execute("ALTER TABLE _votes RENAME TO proj_precinct_votes")
        for table in ("proj_region_totals", "proj_region_list_votes", "proj_publication_progress"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM schema_migrations WHERE version = 4")
    with EventStore.open_writer(paths) as store:
        kinds = dict(
            store.conn.execute(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_name IN ('proj_precinct_votes', 'proj_region_totals')"
            ).fetchall()
        )
        assert kinds == {"proj_precinct_votes": "VIEW", "proj_region_totals": "BASE TABLE"}
        upgraded = projection_checksums(store.conn)
        with store.transaction():
            rebuild_projections(store.conn)
        assert projection_checksums(store.conn) == upgraded
        assert stored_regions(store.conn) == expected_regions(night_in_force(), {ANNULLED_PRECINCT})


def test_proj_precinct_votes_reads_the_protocols_in_force(night: ElectionNight) -> None:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        rows = conn.execute("SELECT precinct_id, list_id, votes FROM proj_precinct_votes").fetchall()
    by_precinct: dict[str, dict[str, int]] = defaultdict(dict)
    for pid, lid, votes in rows:
        by_precinct[str(pid)][str(lid)] = int(votes)
    in_force = night_in_force()  # annulled precincts keep their protocol here, as before
    assert by_precinct == {pid: {lid: int(str(row[lid])) for lid in LISTS} for pid, row in in_force.items()}


def test_the_areas_at_every_log_position_counted_in_one_pass_are_those_of_each_position_alone(
    night: ElectionNight, tmp_path: Path
) -> None:
    """`area_totals_as_of` counts every position at once (how verify renders a night's publications
    again); the oracle replays the stored protocols and annulments position by position, and every
    publication reads the same regions through it as through its own count (the as-of macro, or the
    running totals for the current one). The night amends a precinct, annuls a reported one and
    here a pending one, and amends one again."""
    warehouse = copy_of(night, tmp_path / "wh")
    (tmp_path / "in").mkdir()
    amended_again = protocol(AMENDED_PRECINCT, (310, 240, 60, 20), version=3, reason="second recount")
    for source in (
        write_annulment(tmp_path / "in", "annul-pending.csv", PENDING_PRECINCTS[0]),
        write_protocols(tmp_path / "in", "amend-again.csv", [amended_again]),
    ):
        assert ingest_paths([source], warehouse=warehouse).files[0].rows_applied == 1
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        head = int(conn.execute("SELECT max(position) FROM events").fetchall()[0][0])
        counted = area_totals_as_of(conn, ELECTION_ID, range(head + 2), election_lists(conn, ELECTION_ID))
        facts = conn.execute(
            "SELECT position, precinct_id, ballots_cast, invalid_ballots, against_all FROM protocol_facts "
            "ORDER BY position"
        ).fetchall()
        votes: dict[int, dict[str, int]] = defaultdict(dict)
        for position, lid, count in conn.execute("SELECT * FROM protocol_votes").fetchall():
            votes[int(position)][str(lid)] = int(count)
        annulments = conn.execute(
            "SELECT position, payload->>'$.precinct_id' FROM events WHERE event_type = 'PrecinctAnnulled'"
        ).fetchall()
        publications = [
            str(r[0]) for r in conn.execute("SELECT publication_id FROM proj_publications").fetchall()
        ]
        bases = area_totals_of_publications(conn)
        for publication_id in publications:
            alone = load_published_results(conn, publication_id)
            assert load_published_results(conn, publication_id, counted=bases) == alone
    assert len(annulments) == 2 and len({f[1] for f in facts}) < len(facts)  # the night has both
    assert len(publications) == 6
    for as_of in range(head + 2):
        in_force: dict[str, dict[str, object]] = {}
        for position, pid, cast, invalid, against in facts:  # later versions replace earlier ones
            if position <= as_of:
                figures = {"ballots_cast": cast, "invalid_ballots": invalid, "against_all": against}
                in_force[str(pid)] = {**figures, **votes[position]}
        annulled = {str(pid) for position, pid in annulments if position <= as_of}
        regions, region_votes = expected_regions(in_force, annulled), expected_votes(in_force, annulled)
        areas = {str(a.region_id): a for a in counted[as_of]}
        assert sorted(areas) == sorted(REGIONS)
        for region, area in areas.items():
            expected, reported, cancelled, _, pending, registered, *rest = regions[region]
            assert tuple(area.figures.values()) == (expected, reported, cancelled, pending, registered, *rest)
            assert area.votes == {lid: region_votes[(region, lid)] for lid in LISTS}, (as_of, region)
