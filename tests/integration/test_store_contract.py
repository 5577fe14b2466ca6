"""One contract for every path that appends to the log, written once and run against each of them
(in the style of eventsourcing's persistence tests): declarations, protocols, amendments, annulments,
refused rows and files, refusals of unread paths, native files read through a layout, OpenElections
files, publications, certification, its revocation and rules amendments.

Each path, through its own entry point on a real warehouse, must append

- in order: positions follow the head with no gap, each stream's version counts on by one;
- chained: the first new event follows the old head's hash, and the whole log verifies;
- through the codec: every new payload reads as its typed event and writes back to the same bytes;
- under the version check: the streams it wrote moved on, so an append that expected them where they
  were is refused (ConcurrencyConflict) and adds nothing;
- all or nothing: a commit that may not pass the head (as a replay sets it) leaves no row in any log table;
- idempotently: the same input again adds nothing (or is refused, for a command that may happen once).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.core.errors import InputError
from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import canonical_json
from pipelines.gate.native_layout import load_layout
from pipelines.ingestion.ingest import Ingestor, ingest_paths
from pipelines.ingestion.openelections_ingest import OpenElectionsIngestor
from pipelines.ingestion.operator_actions import perform
from pipelines.publishing.publication import CertificationRefused
from pipelines.rules.rule_profiles import load_profile, profile_to_dict
from pipelines.store.event_codec import deserialize, serialize
from pipelines.store.event_store import (
    LOG_TABLES,
    BeyondRecordedHead,
    ConcurrencyConflict,
    EventStore,
    verify_connection,
)
from tests.support.small_election import (
    ELECTION_ID,
    precinct_ids,
    protocol,
    write_annulment,
    write_declaration,
    write_protocols,
)

AT = datetime(2021, 1, 10, 21, 0)
OE_FILE = """county,precinct,office,district,candidate,party,votes
Adams,North 1,Governor,,Ann Smith,DEM,120
Adams,North 1,Governor,,Over Votes,,3
Adams,South 2,Governor,,Bob Jones,REP,80
"""

Step = Callable[[EventStore, WarehousePaths, Path], object]


def _ingest(path: Path) -> Step:
    def step(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
        return Ingestor(store, paths).ingest_file(folder / path, received_at=AT)

    return step


def _protocols(name: str, rows: list[dict[str, object]]) -> Step:
    def step(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
        return Ingestor(store, paths).ingest_file(write_protocols(folder, name, rows), received_at=AT)

    return step


def _native(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
    """Protocols read through a native layout (the shipped protocol-v1 one), a bad row among them."""
    path = write_protocols(folder, "native.csv", [ROWS[10], {**ROWS[11], "ballots_cast": 1}])
    ingestor = Ingestor(store, paths, layout=load_layout("protocol-v1"))
    return ingestor.ingest_file(path, election_hint=ELECTION_ID, received_at=AT)


def _openelections(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
    path = folder / "20201103__xx__general__precinct.csv"
    path.write_text(OE_FILE, encoding="utf-8")
    return OpenElectionsIngestor(store, paths).ingest_file(path, election_id="oe-contract", received_at=AT)


def _declaration(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
    path = write_declaration(folder, 12, election_id="second-election")
    return Ingestor(store, paths).ingest_file(path, received_at=AT)


def _annulment(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
    return Ingestor(store, paths).ingest_file(write_annulment(folder, "annul.csv", "P003"), received_at=AT)


def _unread(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
    link = folder / "link.csv"
    if not link.is_symlink():
        link.symlink_to(folder / "elsewhere.csv")
    return Ingestor(store, paths).ingest_file(link, received_at=AT)


def _action(name: str, **options: object) -> Step:
    def step(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
        return perform(store, paths, name, dict(options, election=ELECTION_ID), at=AT)

    return step


def _nothing(store: EventStore, paths: WarehousePaths, folder: Path) -> object:
    return None


@dataclass(frozen=True)
class AppendPath:
    name: str
    act: Step
    prepare: Step = _nothing
    again_refused: type[Exception] | None = None  # a command that may happen once refuses a second time

    def __str__(self) -> str:
        return self.name


ROWS = [protocol(pid, (300 + 7 * i, 120 + i, 80 - i, 20 + i % 4)) for i, pid in enumerate(precinct_ids(12))]
CERTIFY = _action("certify", override_reason="two polling stations flooded", operator="op")
PATHS = [
    AppendPath("declaration", _declaration),
    AppendPath("protocols", _protocols("more.csv", ROWS[6:10])),
    AppendPath(
        "amendment", _protocols("amend.csv", [protocol("P002", (250, 170, 79, 25), version=2, reason="r")])
    ),
    AppendPath("quarantine", _protocols("bad.csv", [ROWS[6], {**ROWS[7], "ballots_cast": 1}, ROWS[0]])),
    AppendPath("native-layout", _native),
    AppendPath("annulment", _annulment),
    AppendPath("unread-refusal", _unread),
    AppendPath("openelections", _openelections),
    AppendPath("publication", _action("publish")),
    AppendPath("certification", CERTIFY, again_refused=CertificationRefused),
    AppendPath(
        "revocation", _action("decertify", reason="court order", by="Court"), CERTIFY, CertificationRefused
    ),
    AppendPath(
        "rules-amendment",
        _action(
            "amend-rules",
            rules=profile_to_dict(load_profile("kz-mazhilis-2023")),
            reason="new law",
            by="Parliament",
        ),
        again_refused=InputError,
    ),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> WarehousePaths:
    """A declared election with six precincts reported and not yet published."""
    base = tmp_path_factory.mktemp("contract")
    inbox = base / "inbox"
    files = [write_declaration(inbox, 12), write_protocols(inbox, "first.csv", ROWS[:6])]
    ingest_paths(files, warehouse=base / "warehouse", publish_results=False)
    return WarehousePaths(base / "warehouse")


@pytest.fixture(params=PATHS, ids=str)
def path(request: pytest.FixtureRequest) -> AppendPath:
    assert isinstance(request.param, AppendPath)
    return request.param


@pytest.fixture
def opened(
    template: WarehousePaths, path: AppendPath, tmp_path: Path
) -> Iterator[tuple[EventStore, WarehousePaths, Path]]:
    """A copy of the template, opened by its writer, with the path's precondition in place."""
    paths = WarehousePaths(tmp_path / "warehouse")
    shutil.copytree(template.root, paths.root)
    folder = tmp_path / "inbox"
    folder.mkdir()
    with EventStore.open_writer(paths) as store:
        path.prepare(store, paths, folder)
        yield store, paths, folder


def log_counts(store: EventStore) -> dict[str, int]:
    return {t: int(store.conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in LOG_TABLES}


def versions_before(store: EventStore) -> dict[str, int]:
    rows = store.conn.execute(
        "SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id"
    ).fetchall()
    return {str(s): int(v) for s, v in rows}


def test_a_path_appends_in_order_chained_through_the_codec_under_the_version_check(
    path: AppendPath, opened: tuple[EventStore, WarehousePaths, Path]
) -> None:
    store, paths, folder = opened
    head, head_hash = store.head()
    streams = versions_before(store)
    path.act(store, paths, folder)
    new = store.events(after=head)
    assert new, f"{path} appended nothing"
    # In order: positions follow the head, versions count on per stream.
    assert [e.position for e in new] == list(range(head + 1, head + 1 + len(new)))
    for event in new:
        streams[event.stream_id] = streams.get(event.stream_id, 0) + 1
        assert event.stream_version == streams[event.stream_id], event
    # Chained: from the old head, and the whole log verifies.
    assert new[0].prev_hash == head_hash
    report = verify_connection(store.conn, paths)
    assert report.intact, report.problem
    # Through the codec: each payload is what its typed event writes.
    for event in new:
        assert canonical_json(serialize(deserialize(event)).payload) == canonical_json(event.payload), event
    # Under the version check: an append expecting the streams where they were is refused.
    before = {e.stream_id: e.stream_version - 1 for e in reversed(new)}
    counts = log_counts(store)
    with pytest.raises(ConcurrencyConflict), store.transaction():
        store.append([deserialize(new[0])], expected_versions=before)
    assert log_counts(store) == counts


def test_a_path_commits_all_or_nothing(
    path: AppendPath, opened: tuple[EventStore, WarehousePaths, Path]
) -> None:
    store, paths, folder = opened
    counts, head = log_counts(store), store.head()
    with pytest.raises(BeyondRecordedHead), store.committing_up_to(head[0]):
        path.act(store, paths, folder)
    assert log_counts(store) == counts and store.head() == head


def test_the_same_input_again_appends_nothing(
    path: AppendPath, opened: tuple[EventStore, WarehousePaths, Path]
) -> None:
    store, paths, folder = opened
    path.act(store, paths, folder)
    counts, head = log_counts(store), store.head()
    if path.again_refused is None:
        path.act(store, paths, folder)
    else:
        with pytest.raises(path.again_refused):
            path.act(store, paths, folder)
    assert log_counts(store) == counts and store.head() == head
