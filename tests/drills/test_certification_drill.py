"""Certification is final: an amendment, a new protocol and an annulment sent after `publish --certify`
are quarantined ("election certified") and change nothing published; only `decertify`, with a reason
and a deciding body, lets results in again, and the revoked publication stays as it was."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, EXIT_QUARANTINED, InputError
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ELECTION_CERTIFIED
from pipelines.publishing.publication import CertificationRefused, revoke_certification
from pipelines.publishing.publication_check import check_folder as verify_publication
from pipelines.serving.results_api import SHORT as SHORT_CACHE
from pipelines.store.certification import certification_in_force
from pipelines.store.event_store import EventStore
from pipelines.store.projections import projection_checksums, rebuild_projections
from tests.drills.support import assert_store_sound
from tests.support.results_server import free_port, get, start_server
from tests.support.small_election import ELECTION_ID, protocol, write_annulment, write_protocols

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes

RESULT_EVENTS = ("ProtocolReported", "ProtocolAmended", "PrecinctAnnulled")
OVERRIDE = "precincts of the third file flooded; the commission certifies without them"


@dataclass(frozen=True)
class Attacks:
    """Files that would move the certified result: each is a kind of result event."""

    amendment: Path  # P002, version 2, reported before certification
    new_protocol: Path  # the third file: 20 precincts that had not reported when certified
    annulment: Path  # P004, counted in the certified table

    def all(self) -> dict[str, Path]:
        return {"amendment": self.amendment, "new protocol": self.new_protocol, "annulment": self.annulment}


@pytest.fixture(scope="module")
def attacks(election_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Attacks:
    folder = tmp_path_factory.mktemp("attacks")
    amended = protocol("P002", (250, 170, 79, 25), version=2, reason="recount after certification")
    new_protocol = folder / "late-protocols.csv"
    shutil.copyfile(election_files[3], new_protocol)
    return Attacks(
        write_protocols(folder, "amendment.csv", [amended]),
        new_protocol,
        write_annulment(folder, "annulment.csv", "P004"),
    )


@pytest.fixture(scope="module")
def certified_template(election_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of the declaration and two of the three protocol files, certified with an override."""
    warehouse = tmp_path_factory.mktemp("certified") / "warehouse"
    assert cli("ingest", *map(str, election_files[:3]), "--warehouse", str(warehouse))[0] == EXIT_OK
    code, out = cli("publish", "--certify", "--override-reason", OVERRIDE, "--warehouse", str(warehouse))
    assert code == EXIT_OK and "published certified" in out, out
    return warehouse


@pytest.fixture
def warehouse(certified_template: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the certified warehouse: each drill attacks its own."""
    copy = tmp_path / "warehouse"
    shutil.copytree(certified_template, copy)
    yield copy


def cli(*args: str) -> tuple[int, str]:
    """Run `elections ARGS` in this process; exit code and everything it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def query(warehouse: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def published_state(warehouse: Path) -> dict[str, object]:
    """Everything a certification promises not to move: the seat table in force, every publication
    (recorded and on disk, byte for byte), the totals and the results in force."""
    paths = WarehousePaths(warehouse)
    folders = {
        str(f.relative_to(paths.publications)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(paths.publications.rglob("*"))
        if f.is_file()
    }
    return {
        "seat_table": query(warehouse, "SELECT * FROM proj_seat_table ORDER BY ALL"),
        "publications": query(warehouse, "SELECT * FROM proj_publications ORDER BY ALL"),
        "folders": folders,
        "totals": query(warehouse, "SELECT * FROM proj_region_totals ORDER BY ALL"),
        "list_votes": query(warehouse, "SELECT * FROM proj_region_list_votes ORDER BY ALL"),
        "results": query(warehouse, "SELECT * FROM proj_precinct_results ORDER BY ALL"),
        "annulments": query(warehouse, "SELECT * FROM proj_annulments ORDER BY ALL"),
    }


def result_events(warehouse: Path) -> int:
    marks = ", ".join("?" for _ in RESULT_EVENTS)
    rows = query(warehouse, f"SELECT count(*) FROM events WHERE event_type IN ({marks})", list(RESULT_EVENTS))
    return int(str(rows[0][0]))


def log_head(warehouse: Path) -> tuple[object, ...]:
    return query(warehouse, "SELECT count(*), max(position), max_by(event_hash, position) FROM events")[0]


def batch_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_files(warehouse: Path, publication_id: str) -> dict[str, bytes]:
    return {
        f.name: f.read_bytes() for f in (WarehousePaths(warehouse).publications / publication_id).iterdir()
    }


def assert_verified(warehouse: Path) -> None:
    code, out = cli("verify", "--warehouse", str(warehouse))
    assert code == EXIT_OK, out
    assert_store_sound(warehouse)
    publications = WarehousePaths(warehouse).publications
    for folder in publications.iterdir():
        assert verify_publication(folder) == [], folder.name


@pytest.mark.parametrize("kind", ["amendment", "new protocol", "annulment"])
def test_results_sent_after_certification_are_quarantined_and_change_nothing_published(
    kind: str, attacks: Attacks, warehouse: Path
) -> None:
    attack = attacks.all()[kind]
    before, results_before = published_state(warehouse), result_events(warehouse)
    rows = len(attack.read_text(encoding="utf-8").splitlines()) - 1

    code, out = cli("ingest", str(attack), "--warehouse", str(warehouse))

    assert code == EXIT_QUARANTINED, out  # ran to the end, quarantined something: not a failure
    assert (
        f"quarantined        {attack.name} ({rows} rows: 0 applied, 0 duplicate, {rows} quarantined)" in out
    )
    assert "election certified" in out and f"[rule: {ELECTION_CERTIFIED}]" in out
    assert f"no provisional seat table for {ELECTION_ID}: election certified" in out
    # Nothing is lost: the file is archived and receipted, refused whole, and each row kept with the reason.
    batch = batch_of(attack)
    assert (WarehousePaths(warehouse).archive / batch[:2] / batch).is_file()
    refusals = query(
        warehouse,
        "SELECT event_type, payload->>'$.rule', payload->>'$.message' FROM events WHERE batch_id = ? "
        "AND event_type IN ('BatchQuarantined', 'RowQuarantined') ORDER BY position",
        [batch],
    )
    assert [(t, r) for t, r, _ in refusals] == [
        ("BatchQuarantined", ELECTION_CERTIFIED),
        *[("RowQuarantined", ELECTION_CERTIFIED)] * rows,
    ]
    assert all(str(m).startswith("election certified") for _, _, m in refusals)
    receipt = query(
        warehouse, "SELECT payload FROM events WHERE batch_id = ? AND event_type = 'BatchReceived'", [batch]
    )
    assert json.loads(str(receipt[0][0]))["quarantined_whole"] is True
    # ...and nothing changed: no result event, the same seat table, every publication byte-identical.
    assert result_events(warehouse) == results_before
    assert published_state(warehouse) == before
    assert_verified(warehouse)


def test_a_file_applied_before_certification_sent_again_stays_a_duplicate(
    election_files: list[Path], warehouse: Path
) -> None:
    before, head = published_state(warehouse), log_head(warehouse)

    code, out = cli("ingest", str(election_files[1]), "--warehouse", str(warehouse))

    assert code == EXIT_OK, out
    assert f"duplicate          {election_files[1].name}" in out
    assert query(warehouse, "SELECT count(*) FROM events WHERE event_type = 'BatchQuarantined'") == [(0,)]
    assert log_head(warehouse) == head and published_state(warehouse) == before


def test_publish_after_certification_publishes_nothing_and_certify_again_is_refused(warehouse: Path) -> None:
    before, head = published_state(warehouse), log_head(warehouse)

    code, out = cli("publish", "--warehouse", str(warehouse))
    assert code == EXIT_OK and out.startswith("nothing published: election certified"), out
    code, out = cli("publish", "--certify", "--override-reason", "again", "--warehouse", str(warehouse))
    assert code == EXIT_FAILURE and "already certified" in out, out

    assert log_head(warehouse) == head and published_state(warehouse) == before
    seat_status = query(warehouse, "SELECT DISTINCT status, based_on_position FROM seat_table")
    certified = query(warehouse, "SELECT based_on_position FROM proj_publications WHERE status = 'certified'")
    assert seat_status == [("certified", certified[0][0])]  # the table in force is the certified one


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--by", "Central Election Commission"], "--reason"),
        (["--reason", "   ", "--by", "Central Election Commission"], "--reason"),
        (["--reason", "court ordered a recount"], "--by"),
        (["--reason", "court ordered a recount", "--by", ""], "--by"),
    ],
)
def test_decertify_without_reason_or_decider_is_refused_and_changes_nothing(
    options: list[str], named: str, attacks: Attacks, warehouse: Path
) -> None:
    before, head = published_state(warehouse), log_head(warehouse)

    code, out = cli("decertify", "--election", ELECTION_ID, *options, "--warehouse", str(warehouse))

    assert code == EXIT_BAD_INPUT, out
    assert f"decertify needs {named}" in out and "nothing was revoked" in out
    assert log_head(warehouse) == head and published_state(warehouse) == before
    # Still certified: the amendment is still refused.
    cli("ingest", str(attacks.amendment), "--warehouse", str(warehouse))
    assert published_state(warehouse) == before


def test_after_decertify_the_same_amendment_applies_and_a_new_certification_keeps_the_old_one(
    attacks: Attacks, warehouse: Path
) -> None:
    paths = WarehousePaths(warehouse)
    cli("ingest", str(attacks.amendment), "--warehouse", str(warehouse))  # refused: still certified
    certified_before = published_state(warehouse)
    [(first_id, first_position)] = query(
        warehouse, "SELECT publication_id, position FROM proj_publications WHERE status = 'certified'"
    )
    first_folder = {
        f.name: f.read_bytes() for f in (paths.publications / str(first_id)).iterdir() if f.is_file()
    }

    code, out = cli(
        "decertify",
        "--election",
        ELECTION_ID,
        "--reason",
        "court ordered a recount of P002",
        "--by",
        "Central Election Commission",
        "--warehouse",
        str(warehouse),
    )
    assert code == EXIT_OK and f"revoked the certification of {ELECTION_ID} ({first_id}" in out, out
    [revoked] = query(
        warehouse, "SELECT position, payload FROM events WHERE event_type = 'CertificationRevoked'"
    )
    payload = json.loads(str(revoked[1]))
    assert payload["publication_id"] == first_id and payload["certified_position"] == first_position
    assert (payload["reason"], payload["decided_by"]) == (
        "court ordered a recount of P002",
        "Central Election Commission",
    )
    # Revoking twice is refused: nothing is certified any more.
    code, out = cli(
        "decertify", "--election", ELECTION_ID, "--reason", "x", "--by", "y", "--warehouse", str(warehouse)
    )
    assert code == EXIT_FAILURE and "not certified" in out, out

    # The very same file, refused while certified, now applies and moves the next publication.
    code, out = cli("ingest", str(attacks.amendment), "--warehouse", str(warehouse))
    assert f"applied            {attacks.amendment.name}" in out, out
    assert query(
        warehouse,
        "SELECT count(*) FROM events WHERE event_type = 'ProtocolAmended' AND batch_id = ?",
        [batch_of(attacks.amendment)],
    ) == [(1,)]
    after = published_state(warehouse)
    assert after["seat_table"] != certified_before["seat_table"]
    assert query(warehouse, "SELECT DISTINCT status FROM seat_table") == [("provisional",)]

    # A new certification: a new id and folder; the revoked one stays readable, verifiable, marked.
    code, out = cli("publish", "--certify", "--override-reason", OVERRIDE, "--warehouse", str(warehouse))
    assert code == EXIT_OK, out
    certified = query(
        warehouse,
        "SELECT publication_id, revoked_position FROM publications WHERE status = 'certified' "
        "ORDER BY position",
    )
    assert certified[0] == (first_id, revoked[0])
    assert len(certified) == 2 and certified[1][1] is None and str(certified[1][0]).endswith("--2")
    assert {
        f.name: f.read_bytes() for f in (paths.publications / str(first_id)).iterdir() if f.is_file()
    } == first_folder
    assert_verified(warehouse)
    with duckdb.connect(str(paths.database), read_only=True) as conn:
        now = certification_in_force(conn, ELECTION_ID)
        then = certification_in_force(conn, ELECTION_ID, as_of=int(str(revoked[0])) - 1)
        between = certification_in_force(conn, ELECTION_ID, as_of=int(str(revoked[0])))
    assert now is not None and now.publication_id == certified[1][0]
    assert then is not None and then.publication_id == first_id
    assert between is None

    # Certified again: the annulment is refused as the first certification refused it.
    cli("ingest", str(attacks.annulment), "--warehouse", str(warehouse))
    assert query(
        warehouse, "SELECT DISTINCT payload->>'$.rule' FROM events WHERE event_type = 'BatchQuarantined'"
    ) == [(ELECTION_CERTIFIED,)]
    assert query(warehouse, "SELECT count(*) FROM events WHERE event_type = 'PrecinctAnnulled'") == [(0,)]

    # Revocations are projections of the log like any other: a rebuild gives the same tables.
    with EventStore.open_writer(paths) as store:
        incremental = projection_checksums(store.conn)
        with store.transaction():
            rebuild_projections(store.conn)
        assert projection_checksums(store.conn) == incremental
    assert query(warehouse, "SELECT publication_id, decided_by FROM proj_certification_revocations") == [
        (first_id, "Central Election Commission")
    ]


def test_the_revocation_function_refuses_what_the_command_refuses(warehouse: Path) -> None:
    """Replay and other callers use `revoke_certification` directly: it checks for itself."""
    before, head = published_state(warehouse), log_head(warehouse)
    with EventStore.open_writer(WarehousePaths(warehouse)) as store:
        with pytest.raises(InputError, match="needs a reason"):
            revoke_certification(store, ELECTION_ID, reason=" \t", decided_by="Central Election Commission")
        with pytest.raises(InputError, match="person or body"):
            revoke_certification(store, ELECTION_ID, reason="recount", decided_by="")
        with pytest.raises(CertificationRefused, match="not certified"):
            revoke_certification(store, "no-such-election", reason="recount", decided_by="CEC")
        assert certification_in_force(store.conn, "no-such-election") is None
        assert certification_in_force(store.conn, ELECTION_ID, as_of=0) is None
    assert log_head(warehouse) == head and published_state(warehouse) == before


def test_after_decertify_no_read_path_presents_the_revoked_certification_as_the_result(
    warehouse: Path, tmp_path: Path
) -> None:
    """A newsroom polling the results API and an analyst reading the warehouse both see the table
    provisional again once the certification is revoked; the certified folder stays byte for byte."""
    [(certified_id, certified_position, table_sha256)] = query(
        warehouse,
        "SELECT publication_id, position, table_sha256 FROM proj_publications WHERE status = 'certified'",
    )
    certified_folder = folder_files(warehouse, str(certified_id))
    server = start_server(warehouse, port := free_port())
    try:
        before = get(port, f"/v1/elections/{ELECTION_ID}/latest").json()
        assert (before["publication_id"], before["status"], before["revoked"]) == (
            certified_id,
            "certified",
            None,
        )
        assert get(port, f"/v1/publications/{certified_id}").headers["cache-control"] == SHORT_CACHE

        code, out = cli(
            "decertify", "--election", ELECTION_ID, "--reason", "court ordered a recount",
            "--by", "Supreme Court", "--warehouse", str(warehouse),
        )  # fmt: skip
        assert code == EXIT_OK, out
        [(revoked_position,)] = query(
            warehouse, "SELECT position FROM events WHERE event_type = 'CertificationRevoked'"
        )
        # The same table, published again as provisional in the same transaction, right after it.
        [(new_id, new_position, new_status, new_sha256)] = query(
            warehouse,
            "SELECT publication_id, position, status, table_sha256 FROM proj_publications WHERE position > ?",
            [certified_position],
        )
        assert new_id == f"{str(certified_id).replace('--certified--', '--provisional--')}--r1"
        assert (new_position, new_status, new_sha256) == (
            int(str(revoked_position)) + 1,
            "provisional",
            table_sha256,
        )
        assert f"published the seat table in force as provisional again: {new_id}" in out

        # Real HTTP: every latest endpoint is the provisional table; the revoked one says so.
        deadline = time.monotonic() + 30
        while (latest := get(port, "/v1/latest/seats")).headers.get("x-publication-id") != new_id:
            assert time.monotonic() < deadline, "the API never served the revocation's publication"
            time.sleep(0.1)
        assert json.loads(latest.body)["status"] == "provisional"
        summary = get(port, f"/v1/elections/{ELECTION_ID}/latest").json()
        assert (summary["status"], summary["revokes"]["publication_id"]) == ("provisional", certified_id)
        assert summary["revokes"]["reason"] == "court ordered a recount"
        listed = {p["publication_id"]: p for p in get(port, "/v1/publications").json()["publications"]}
        revocation = listed[str(certified_id)]["revoked"]
        assert revocation["revoked_position"] == revoked_position and revocation["replaced_by"] == new_id
        assert revocation["decided_by"] == "Supreme Court"
        assert get(port, f"/v1/publications/{certified_id}").json()["revoked"] == revocation
        assert "was revoked" in get(port, "/v1/latest/page").body.decode()
        # The event stream announces it to whoever listened since the certification.
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stream.request("GET", "/v1/events", headers={"Last-Event-ID": str(certified_position)})
        answer = stream.getresponse()
        while not (line := answer.readline().decode()).startswith("data: "):
            assert line, "the event stream ended"
        stream.close()
        announced = json.loads(line[len("data: ") :])
        assert (announced["publication_id"], announced["status"]) == (new_id, "provisional")
    finally:
        server.terminate()
        server.wait(timeout=20)

    # The analysts' views and the command line: provisional; the revoked folder is untouched.
    assert query(warehouse, "SELECT DISTINCT status, publication_id FROM seat_table") == [
        ("provisional", new_id)
    ]
    code, out = cli("seats", "--warehouse", str(warehouse))
    assert code == EXIT_OK and f"provisional ({new_id})" in out, out
    assert folder_files(warehouse, str(certified_id)) == certified_folder
    assert_verified(warehouse)
    # A replay of the journal makes the same log and the same folders, the new one included.
    replayed = tmp_path / "replayed"
    code, out = cli("replay", str(replayed), "--warehouse", str(warehouse))
    assert code == EXIT_OK, out
    assert log_head(replayed) == log_head(warehouse)
    assert published_state(replayed)["folders"] == published_state(warehouse)["folders"]
    assert_verified(replayed)
