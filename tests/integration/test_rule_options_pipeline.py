"""A list's kind and a threshold on registered voters go from the declaration in the log to the seats.

The declaration declares `beta` a coalition and names a profile beside it that measures thresholds on
registered voters (10% for a party, 20% for a coalition). Ingested through the real path, the
publication's seats, its recomputation from the folder alone (verify-publication) and the seat table
as of a log position all apply them; nothing is read from the declaration file after ingestion.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.publishing.publication_check import check_folder
from pipelines.publishing.publication_layout import ALLOCATION_JSON, SEATS_JSON
from pipelines.publishing.seat_table import allocate_totals, national_totals
from pipelines.store.election_rules import rules_in_force
from tests.support.small_election import ELECTION_ID, declaration, precinct_ids, protocol, write_protocols

PROFILE = """profile_id: toy-registered
seats: 10
method: hare
threshold_percent: "10"
threshold_base: registered_voters
kind_thresholds:
  coalition: "20"
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("kinds")
    inbox = base / "inbox"
    inbox.mkdir()
    data = declaration()
    lists = data["lists"]
    assert isinstance(lists, list)
    lists[1]["kind"] = "coalition"
    data["rule_profile"] = "rules.yaml"
    (inbox / "rules.yaml").write_text(PROFILE, encoding="utf-8")
    declared = inbox / f"{ELECTION_ID}.election.json"
    declared.write_text(json.dumps(data), encoding="utf-8")
    # 12 precincts of 1,000 registered voters; per precinct alpha 400, beta 170, gamma 130, delta 20
    rows = [protocol(pid, (400, 170, 130, 20)) for pid in precinct_ids()]
    summary = ingest_paths([declared, write_protocols(inbox, "all.csv", rows)], warehouse=base / "warehouse")
    assert [p.status for p in summary.publications] == ["provisional"], summary.lines()
    declared.unlink()  # the rules and kinds come from the log from now on
    (inbox / "rules.yaml").unlink()
    return base / "warehouse"


def _folder(warehouse: Path) -> Path:
    (folder,) = sorted(WarehousePaths(warehouse).publications.iterdir())
    return folder


def test_the_publication_applies_the_declared_kind_and_the_electorate(warehouse: Path) -> None:
    folder = _folder(warehouse)
    allocation = json.loads((folder / ALLOCATION_JSON).read_text(encoding="utf-8"))
    # beta, a coalition, has 2,040 of 12,000 registered voters (17%): below its 20%; gamma, a party,
    # 1,560 (13%) passes. Of ballots cast (9,000) beta would have had 22.7%.
    table = json.loads((folder / SEATS_JSON).read_text(encoding="utf-8"))["seats"]
    assert {r["list_id"]: r["seats"] for r in table} == {"alpha": 8, "beta": 0, "gamma": 2, "delta": 0}
    inputs = allocation["inputs"]
    assert inputs["registered_voters"] == 12_000
    assert [item.get("kind") for item in inputs["lists"]] == [None, "coalition", None, None]
    assert check_folder(folder) == []


def test_the_seat_table_as_of_a_position_reads_them_from_the_log(warehouse: Path) -> None:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        head = int(conn.execute("SELECT max(position) FROM events").fetchall()[0][0])
        totals = national_totals(conn, ELECTION_ID, as_of=head)
        profile = rules_in_force(conn, ELECTION_ID, head).profile
    assert totals.registered_voters == 12_000
    assert [x.kind for x in totals.list_votes] == ["party", "coalition", "party", "party"]
    assert {r.list_id: r.seats for r in allocate_totals(totals, profile).rows} == {
        "alpha": 8, "beta": 0, "gamma": 2, "delta": 0,
    }  # fmt: skip


def test_the_results_page_lists_the_passing_party_above_the_coalition_that_failed(warehouse: Path) -> None:
    page = (_folder(warehouse) / "results.html").read_text(encoding="utf-8")
    line = page.index('class="threshold-line"')
    assert "(another for lists declared of another kind)" in page[line : line + 300]
    assert page.index('data-list-id="gamma"') < line < page.index('data-list-id="beta"')
