"""The results API over real HTTP: `elections serve` in its own process, polled through an election
night ingested meanwhile (latest endpoints, ETag/304, Server-Sent Events, 200 concurrent clients),
then its figures against the published files and the protocols, and hostile requests."""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from pipelines.audit.forensics_publication import screen_publication
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.publishing.publication_layout import FORENSICS_PAGE, MANIFEST, NATIONAL_JSON, SEATS_JSON
from tests.support.election_night import (
    AMENDED_PRECINCT,
    ANNULLED_PRECINCT,
    PENDING_PRECINCTS,
    amendment,
    first_batch,
    second_batch,
    write_night_declaration,
)
from tests.support.results_server import Response, free_port, get, raw_request, start_server
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    precinct_ids,
    protocol,
    write_annulment,
    write_protocols,
)

# One server and one night for the whole module: keep its tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("results-api")

CLIENTS = 200
POLL_PAUSE = 0.05  # seconds between one client's polls
MAX_POLLS = 4000  # a client's bound, whatever happens
QUARANTINED_PRECINCT = "P011"


class EventReader(threading.Thread):
    """Follows /v1/events and records each publication id with the time it arrived."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.request("GET", "/v1/events")
        self.answer = self.conn.getresponse()
        self.first_line = self.answer.readline()  # the greeting: the stream's starting point is fixed
        self.received: list[tuple[str, int, float]] = []  # (publication id, event id, arrival)
        self.lock = threading.Condition()

    def run(self) -> None:
        event_id, data = 0, ""
        try:
            while line := self.answer.readline():
                text = line.decode().rstrip("\n")
                if text.startswith("id: "):
                    event_id = int(text[4:])
                elif text.startswith("data: "):
                    data = text[6:]
                elif not text and data:
                    with self.lock:
                        self.received.append((json.loads(data)["publication_id"], event_id, time.monotonic()))
                        self.lock.notify_all()
                    data = ""
        except (OSError, ValueError, AttributeError):  # AttributeError: closed under http.client's feet
            return

    def wait_for(self, count: int, timeout: float) -> list[str]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.received) >= count, timeout)
            return [pid for pid, _, _ in self.received]

    def close(self) -> None:
        # Shut the socket down first: closing the connection under a reader blocked in readline waits for
        # the stream's next line (up to its keep-alive, ~14 s) before it returns.
        if self.conn.sock is not None:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


@dataclass
class PollerRecord:
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # publication ids of the 200 answers, in order


def poll_latest_seats(
    port: int, stop: threading.Event, final: list[str], record: PollerRecord, ready: threading.Semaphore
) -> None:
    """One newsroom client: polls the latest seat table with its last ETag until told to stop and it
    has seen the final publication (or its bound is reached)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    etag: str | None = None
    try:
        for _ in range(MAX_POLLS):
            conn.request("GET", "/v1/latest/seats", headers={"If-None-Match": etag} if etag else {})
            answer = conn.getresponse()
            body = answer.read()
            record.statuses[answer.status] += 1
            if answer.status == 200:
                publication_id = answer.getheader("X-Publication-Id") or ""
                if json.loads(body)["publication_id"] != publication_id:
                    record.problems.append(
                        f"body of {json.loads(body)['publication_id']} as {publication_id}"
                    )
                etag = answer.getheader("ETag")
                record.seen.append(publication_id)
                if len(record.seen) == 1:
                    ready.release()
            elif answer.status == 304:
                if body:
                    record.problems.append("a 304 with a body")
            else:
                record.problems.append(f"status {answer.status}: {body[:200]!r}")
            if stop.is_set() and record.seen and record.seen[-1] == final[0]:
                return
            time.sleep(POLL_PAUSE)
    except (OSError, http.client.HTTPException) as exc:
        record.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


@dataclass
class Night:
    port: int
    warehouse: Path
    inbox: Path
    empty: Response  # the latest seat table before anything was published
    published: list[str]  # publication ids, in the order the ingests published them
    latest_after_ingest: list[str]  # X-Publication-Id of the latest seat table right after each ingest
    events_by_next_ingest: list[list[str]]  # the event stream's ids before each next ingest started
    pollers: list[PollerRecord]

    @property
    def publications(self) -> Path:
        return WarehousePaths(self.warehouse).publications


def ingest_step(night_inbox: Path, warehouse: Path, files: list[Path]) -> str:
    summary = ingest_paths(files, warehouse=warehouse)
    assert [p.status for p in summary.publications] == ["provisional"], summary.lines()
    return summary.publications[0].publication_id


def bad_row() -> dict[str, object]:
    row = protocol(QUARANTINED_PRECINCT)
    row["alpha"] = int(str(row["alpha"])) + 5  # no longer adds up to ballots cast
    return row


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    base = tmp_path_factory.mktemp("results-api")
    warehouse, inbox = base / "warehouse", base / "inbox"
    warehouse.mkdir()
    port = free_port()
    server = start_server(warehouse, port)
    events = EventReader(port)
    events.start()
    try:
        empty = get(port, "/v1/latest/seats")
        steps = [
            [write_night_declaration(inbox), write_protocols(inbox, "first.csv", first_batch())],
            [write_protocols(inbox, "second.csv", [*second_batch(), bad_row()])],
            [
                write_protocols(inbox, "amend.csv", [amendment()]),
                write_annulment(inbox, "annul.csv", ANNULLED_PRECINCT),
            ],
        ]
        published: list[str] = []
        latest_after: list[str] = []
        events_seen: list[list[str]] = []
        records = [PollerRecord() for _ in range(CLIENTS)]
        for number, files in enumerate(steps):
            if number != 1:
                published.append(ingest_step(inbox, warehouse, files))
            else:  # the second ingest runs while 200 clients poll the latest seat table
                stop, final, ready = threading.Event(), [""], threading.Semaphore(0)
                clients = [
                    threading.Thread(
                        target=poll_latest_seats, args=(port, stop, final, r, ready), daemon=True
                    )
                    for r in records
                ]
                for client in clients:
                    client.start()
                for _ in clients:  # every client has its first answer before the ingest starts
                    assert ready.acquire(timeout=60), [r.problems for r in records if r.problems][:3]
                published.append(ingest_step(inbox, warehouse, files))
                final[0] = published[-1]
                stop.set()
                for client in clients:
                    client.join(timeout=120)
            latest_after.append(get(port, "/v1/latest/seats").headers.get("x-publication-id", ""))
            events_seen.append(events.wait_for(len(published), timeout=15.0))
        yield Night(port, warehouse, inbox, empty, published, latest_after, events_seen, records)
    finally:
        events.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- the night, followed live --------------------------------------------------------------------


def test_before_anything_is_published_the_latest_is_a_json_404(night: Night) -> None:
    assert night.empty.status == 404
    assert night.empty.headers["content-type"] == "application/json"
    assert night.empty.json()["status"] == 404


def test_each_publication_is_the_latest_as_soon_as_its_ingest_returns(night: Night) -> None:
    assert len(set(night.published)) == 3
    assert night.latest_after_ingest == night.published


def test_the_event_stream_pushes_each_publication_before_the_next_one(night: Night) -> None:
    assert night.events_by_next_ingest == [night.published[: i + 1] for i in range(len(night.published))]


def test_200_concurrent_clients_are_served_without_error_while_ingestion_runs(night: Night) -> None:
    assert len(night.pollers) == CLIENTS
    problems = [p for record in night.pollers for p in record.problems]
    assert problems == []
    statuses = sum((r.statuses for r in night.pollers), Counter())
    assert set(statuses) <= {200, 304}
    assert statuses[304] > 0
    before, during = night.published[0], night.published[1]
    for record in night.pollers:
        # every client saw the publication change: first the one before, then the new one, once each
        assert record.seen == [before, during], record.seen


# -- caching --------------------------------------------------------------------------------------


def immutable_paths(night: Night) -> list[str]:
    base = f"/v1/publications/{night.published[1]}"
    views = ["", "/manifest", "/seats", "/totals/national", "/totals/regions", "/totals/precincts"]
    views += ["/turnout", "/progress", "/quarantine", "/certainty", "/nist", "/page", "/files/seats.csv"]
    return [base + view for view in views]


def latest_paths() -> list[str]:
    views = [
        "/seats",
        "/totals/national",
        "/turnout",
        "/progress",
        "/quarantine",
        "/certainty",
        "/nist",
        "/page",
    ]
    paths = [f"/v1/latest{view}" for view in views]
    paths += [f"/v1/elections/{ELECTION_ID}/latest{view}" for view in views]
    listings = ["/v1/elections", f"/v1/elections/{ELECTION_ID}", "/v1/publications"]
    return [*paths, "/v1/latest/files/seats.parquet", *listings]


def test_if_none_match_gets_304_without_a_body_every_time(night: Night) -> None:
    for path in [*immutable_paths(night), *latest_paths()]:
        first = get(night.port, path)
        assert first.status == 200, (path, first.body[:200])
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/"), etag
        for tags in (etag, f'"stale", {etag}', f"W/{etag}", "*"):
            again = get(night.port, path, {"If-None-Match": tags})
            assert (again.status, again.body, again.headers["etag"]) == (304, b"", etag), (path, tags)
        other = get(night.port, path, {"If-None-Match": '"0-stale"'})
        assert (other.status, other.body) == (200, first.body), path


def test_publications_are_immutable_and_latest_endpoints_short_lived(night: Night) -> None:
    for path in immutable_paths(night):
        assert get(night.port, path).headers["cache-control"] == "public, max-age=31536000, immutable"
    for path in latest_paths():
        cache_control = get(night.port, path).headers["cache-control"]
        assert "max-age=5" in cache_control and "must-revalidate" in cache_control, path


def test_etags_are_the_log_position_and_the_manifest_hash(night: Night) -> None:
    for publication_id in night.published:
        folder = night.publications / publication_id
        manifest = json.loads((folder / MANIFEST).read_text())
        answer = get(night.port, f"/v1/publications/{publication_id}/seats")
        assert answer.body == (folder / SEATS_JSON).read_bytes()
        assert answer.headers["etag"] == f'"{manifest["position"]}-{manifest["files"][SEATS_JSON]["sha256"]}"'
    latest = get(night.port, "/v1/latest/seats")
    final = get(night.port, f"/v1/publications/{night.published[-1]}/seats")
    assert (latest.body, latest.headers["etag"]) == (final.body, final.headers["etag"])
    assert latest.headers["content-location"] == f"/v1/publications/{night.published[-1]}/seats"


# -- figures ---------------------------------------------------------------------------------------


def rows_in_force() -> dict[str, dict[str, object]]:
    rows = {str(r["precinct_id"]): r for r in [*first_batch(), *second_batch()]}
    rows[AMENDED_PRECINCT] = amendment()
    del rows[ANNULLED_PRECINCT]
    return rows


def test_totals_turnout_and_progress_agree_with_the_protocols(night: Night) -> None:
    final = f"/v1/publications/{night.published[-1]}"
    national = get(night.port, f"{final}/totals/national")
    assert national.body == (night.publications / night.published[-1] / NATIONAL_JSON).read_bytes()
    rows = rows_in_force().values()
    cast = sum(int(str(r["ballots_cast"])) for r in rows)
    counted = 1000 * len(rows)
    turnout = get(night.port, f"{final}/turnout").json()["national"]
    assert (turnout["ballots_cast"], turnout["registered_voters_counted"]) == (cast, counted)
    assert Fraction(turnout["turnout"]["fraction"]) == Fraction(cast, counted)
    progress = get(night.port, f"{final}/progress").json()
    assert progress["national"]["precincts_expected"] == len(precinct_ids())
    assert progress["national"]["precincts_annulled"] == 1
    assert progress["national"]["precincts_pending"] == 2
    assert sum(r["precincts_expected"] for r in progress["regions"]) == len(precinct_ids())


def test_precinct_figures_are_those_in_force_at_each_publication(night: Night) -> None:
    final = get(night.port, f"/v1/publications/{night.published[-1]}/totals/precincts").json()
    states = {p["precinct_id"]: p["state"] for p in final["precincts"]}
    assert states[ANNULLED_PRECINCT] == "annulled"
    assert states[QUARANTINED_PRECINCT] == states["P012"] == "pending"
    for precinct_id, row in rows_in_force().items():
        served = next(p for p in final["precincts"] if p["precinct_id"] == precinct_id)
        assert served["state"] == "reported"
        assert served["votes"] == {lid: int(str(row[lid])) for lid in LISTS}
    first = get(night.port, f"/v1/publications/{night.published[0]}/totals/precincts").json()
    amended_then = next(p for p in first["precincts"] if p["precinct_id"] == AMENDED_PRECINCT)
    original = next(r for r in first_batch() if r["precinct_id"] == AMENDED_PRECINCT)
    assert amended_then["votes"] == {lid: int(str(original[lid])) for lid in LISTS}
    assert sum(p["state"] == "reported" for p in first["precincts"]) == len(first_batch())


def test_quarantined_counts_are_as_of_each_publication(night: Night) -> None:
    counts = [get(night.port, f"/v1/publications/{p}/quarantine").json() for p in night.published]
    assert counts[0]["entries"] == 0
    assert counts[1]["entries"] == counts[2]["entries"] == 1
    assert sum(r["entries"] for r in counts[1]["by_rule"]) == 1


def test_the_certainty_each_publication_states_is_served_as_published(night: Night) -> None:
    """The bounds and the quarantine's materiality come from the folder, as its page shows them."""
    stated = [get(night.port, f"/v1/publications/{p}/certainty") for p in night.published]
    for publication_id, answer in zip(night.published, stated, strict=True):
        folder = night.publications / publication_id
        assert answer.body == (folder / "certainty.json").read_bytes()
        page = (folder / "results.html").read_text(encoding="utf-8")
        document = answer.json()
        bounds = document["bounds"]
        assert f"decided: {bounds['decided_seats']} of {bounds['total_seats']} seats" in page
        assert ('class="quarantine-warning"' in page) == document["quarantine"]["material"]
    quarantine = [a.json()["quarantine"] for a in stated]
    assert quarantine[0]["verdict"] == "nothing_quarantined"
    assert quarantine[1]["entries"] == quarantine[2]["entries"] == 1 and quarantine[2]["precincts"] == 1
    assert [a.json()["bounds"]["precincts_outstanding"] for a in stated][-1] == len(PENDING_PRECINCTS)
    links = get(night.port, f"/v1/publications/{night.published[-1]}").json()["links"]
    assert links["certainty"].endswith("/certainty")


def test_listings_name_every_publication_in_log_order(night: Night) -> None:
    listed = get(night.port, "/v1/publications").json()["publications"]
    assert [p["publication_id"] for p in listed] == night.published
    elections = get(night.port, "/v1/elections").json()["elections"]
    assert [(e["election_id"], e["publications"]) for e in elections] == [(ELECTION_ID, 3)]
    assert elections[0]["latest"]["publication_id"] == night.published[-1]


def test_the_page_nist_export_and_docs_are_served(night: Night) -> None:
    folder = night.publications / night.published[-1]
    page = get(night.port, "/v1/latest/page")
    assert page.headers["content-type"].startswith("text/html")
    assert page.body == (folder / "results.html").read_bytes()
    assert "default-src 'none'" in page.headers["content-security-policy"]
    nist = get(night.port, "/v1/latest/nist")
    assert nist.body == (folder / "results.nist-cdf.json").read_bytes()
    assert b"swagger" in get(night.port, "/docs").body.lower()
    schema = get(night.port, "/openapi.json").json()
    assert "/v1/latest/seats" in schema["paths"] and "/v1/events" in schema["paths"]


def test_a_publication_s_forensic_report_is_served_once_screened_and_where_its_page_links(
    night: Night, tmp_path: Path
) -> None:
    paths = WarehousePaths(night.warehouse)
    publication = night.published[-1]
    base = f"http://127.0.0.1:{night.port}"
    absent = get(night.port, f"/v1/publications/{publication}/forensics")
    assert absent.status == 404 and absent.headers["cache-control"] == "no-store"
    assert f"{publication} is not screened yet" in absent.json()["detail"]
    assert screen_publication(paths, publication).written
    report = paths.forensics / publication
    page = get(night.port, f"/v1/publications/{publication}/forensics")
    assert page.status == 200 and page.body == (report / FORENSICS_PAGE).read_bytes()
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"].endswith("immutable")
    body_sha = hashlib.sha256(page.body).hexdigest()
    assert (
        page.headers["etag"]
        == f'"{get(night.port, f"/v1/publications/{publication}").json()["position"]}-{body_sha}"'
    )
    chart = get(night.port, f"/v1/publications/{publication}/forensics/comet.svg")
    assert (chart.status, chart.headers["content-type"]) == (200, "image/svg+xml")
    assert chart.body == (report / "comet.svg").read_bytes()
    # The results page's one relative link, resolved against the page's URLs as a browser does.
    results = (night.publications / publication / "results.html").read_text(encoding="utf-8")
    (href,) = re.findall(r'<a id="forensics-report" href="([^"]+)"', results)
    for page_url in (
        f"/v1/publications/{publication}/files/results.html",
        f"/v1/publications/{publication}/page",
    ):
        resolved = urlsplit(urljoin(base + page_url, html.unescape(href)))
        assert (resolved.netloc, resolved.query) == (f"127.0.0.1:{night.port}", "")
        linked = get(night.port, resolved.path)
        assert (linked.status, linked.body) == (200, page.body), resolved.path
    assert get(night.port, f"/v1/publications/{publication}/forensics/nothing.svg").status == 404
    assert get(night.port, f"/v1/publications/{publication}/forensics/..%2F..%2Fwriter.lock").status == 404
    # A report folder holding a symlink (not what screening writes) is not followed.
    secret = tmp_path / "secret.txt"
    secret.write_text("not for publication")
    trap = paths.forensics / night.published[0]
    trap.mkdir(parents=True)
    os.symlink(secret, trap / FORENSICS_PAGE)
    leaked = get(night.port, f"/v1/publications/{night.published[0]}/forensics")
    assert leaked.status == 404 and b"not for publication" not in leaked.body


def test_head_answers_like_get_without_a_body(night: Night) -> None:
    full = get(night.port, "/v1/latest/seats")
    head = get(night.port, "/v1/latest/seats", method="HEAD")
    assert (head.status, head.body, head.headers["etag"]) == (200, b"", full.headers["etag"])


# -- hostile requests ------------------------------------------------------------------------------

HOSTILE = [
    ("GET", "/v1/publications/..%2F..%2F..%2Fetc%2Fpasswd/seats", {}, 404),
    ("GET", "/v1/publications/%2E%2E/seats", {}, 400),
    ("GET", "/v1/publications/..", {}, 400),
    ("GET", "/v1/publications/a%00b/seats", {}, 400),
    ("GET", "/v1/publications/a%5Cb/manifest", {}, 400),
    ("GET", "/v1/publications/no-such-publication/seats", {}, 404),
    ("GET", "/v1/elections/no-such-election/latest/seats", {}, 404),
    ("GET", "/v1/latest/files/..%2Fmanifest.json", {}, 404),
    ("GET", "/v1/latest/files/elections.duckdb", {}, 404),
    ("GET", "/v1/latest/files/.", {}, 404),
    ("GET", "/v1/nothing-here", {}, 404),
    ("GET", "/v1/latest/seats?" + "q=" + "x" * 10_000, {}, 414),
    ("GET", "/v1/" + "a" * 5_000, {}, 414),
    ("GET", "/v1/latest/seats", {"X-Padding": "y" * 9_000}, 431),
    ("GET", "/v1/latest/seats", {f"X-H{i}": "1" for i in range(100)}, 431),
    ("GET", "/v1/events", {"Last-Event-ID": "../../etc"}, 400),
    ("POST", "/v1/latest/seats", {}, 405),
    ("PUT", "/v1/publications/x/seats", {}, 405),
    ("DELETE", "/v1/publications", {}, 405),
    ("OPTIONS", "/v1/latest/seats", {}, 405),
    ("TRACE", "/v1", {}, 405),
]


@pytest.mark.parametrize(("method", "path", "headers", "status"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_requests_get_a_json_4xx(
    night: Night, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    answer = get(night.port, path, headers, method=method)
    assert answer.status == status, answer.body[:300]
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["status"] == status
    assert b"Traceback" not in answer.body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /v1/publications/\xff\xfe/seats HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /v1/latest/seats HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 200_000 + b"\r\n\r\n", 431),
        (b"GET /v1/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
    ],
    ids=["garbage", "non-ascii path", "huge header", "huge request line"],
)
def test_requests_the_parser_refuses_get_a_json_4xx(night: Night, request_bytes: bytes, status: int) -> None:
    answer = raw_request(night.port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["status"] == status


def test_nothing_outside_a_listed_publication_folder_is_served(night: Night, tmp_path: Path) -> None:
    """A second server over a warehouse whose publications folder holds traps: a symlinked folder,
    a folder whose manifest lists a symlink to a file outside, a tampered file."""
    warehouse = tmp_path / "warehouse"
    publications = WarehousePaths(warehouse).publications
    publications.mkdir(parents=True)
    real = night.published[0]
    shutil.copytree(night.publications / real, publications / real)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for publication")
    os.symlink(night.publications / night.published[1], publications / night.published[1])
    trap = publications / "trap--provisional--000000001"
    trap.mkdir()
    os.symlink(secret, trap / "secret.txt")
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    manifest = {
        "publication_id": trap.name,
        "election_id": "trap",
        "status": "provisional",
        "position": 1,
        "based_on_position": 1,
        "published_at": "2021-01-10T00:00:00.000000Z",
        "table_sha256": "0" * 64,
        "files": {"secret.txt": {"sha256": digest, "bytes": 19}, "../secret.txt": {"sha256": digest}},
    }
    (trap / MANIFEST).write_text(json.dumps(manifest))
    tampered = publications / real / SEATS_JSON
    tampered.chmod(0o644)
    tampered.write_bytes(tampered.read_bytes() + b" ")
    large = publications / night.published[2]
    shutil.copytree(night.publications / night.published[2], large)
    large.chmod(0o755)
    big = bytes(range(256)) * (9 * 4096)  # 9 MiB: above what is kept in memory, so it is streamed
    (large / "big.bin").write_bytes(big)
    large_manifest = json.loads((large / MANIFEST).read_text())
    large_manifest["files"]["big.bin"] = {"sha256": hashlib.sha256(big).hexdigest(), "bytes": len(big)}
    (large / MANIFEST).chmod(0o644)
    (large / MANIFEST).write_text(json.dumps(large_manifest))
    port = free_port()
    server = start_server(warehouse, port)
    try:
        streamed = get(port, f"/v1/publications/{large.name}/files/big.bin")
        assert (streamed.status, streamed.body) == (200, big)
        assert streamed.headers["etag"] == f'"{large_manifest["position"]}-{hashlib.sha256(big).hexdigest()}"'
        again = get(
            port, f"/v1/publications/{large.name}/files/big.bin", {"If-None-Match": streamed.headers["etag"]}
        )
        assert (again.status, again.body) == (304, b"")
        with (large / "big.bin").open("r+b") as changed:  # the same size, altered in place
            changed.write(b"X")
        altered = get(port, f"/v1/publications/{large.name}/files/big.bin")
        assert altered.status == 500 and big[1:1000] not in altered.body
        assert get(port, f"/v1/publications/{night.published[1]}/seats").status == 404
        leaked = get(port, f"/v1/publications/{trap.name}/files/secret.txt")
        assert leaked.status >= 400 and b"not for publication" not in leaked.body
        assert get(port, f"/v1/publications/{trap.name}/files/..%2Fsecret.txt").status == 404
        damaged = get(port, f"/v1/publications/{real}/seats")
        assert damaged.status == 500 and damaged.json()["status"] == 500
        assert get(port, f"/v1/publications/{real}/totals/national").status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
