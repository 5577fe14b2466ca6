"""The NIST SP 1500-100 v2 export: valid against NIST's own schema, complete, and enough to recompute
the seats. An election with hostile names (quotes, markup, non-ASCII), "against all" on the ballot and a
list too short for its seats goes through the real ingestion path; it is published provisional and
certified, with and without precincts."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.paths import REPO_ROOT, WarehousePaths
from pipelines.gate.protocol_format import PROTOCOL_COLUMNS
from pipelines.ingestion.ingest import ingest_paths
from pipelines.orchestration.dag_tasks import ingest_pending
from pipelines.publishing.nist_cdf import election_report, report_bytes
from pipelines.publishing.nist_schema import SCHEMA_PATH, validation_errors
from pipelines.publishing.publication_files import rebuild_publication
from pipelines.publishing.publication_layout import CDF_JSON, SEATS_JSON
from pipelines.publishing.published_results import load_published_results
from pipelines.rules.rule_profiles import load_profile, parse_profile, profile_to_dict
from pipelines.rules.seat_allocation import ListVotes, allocate
from pipelines.store.event_store import EventStore
from pipelines.synthetic.sample_election import write_sample_election
from tests.support.small_election import (
    REGIONS,
    declaration,
    precinct_ids,
    protocol,
    region_of,
    write_annulment,
    write_protocols,
)

SHARED_SCHEMA = REPO_ROOT.parent / "shared/reference/nist/NIST_V2_election_results_reporting.json"
ELECTION_ID = "nist-test"
ELECTION_NAME = 'Выборы в Мәжіліс "2023" <b>&amp;</b> l\'élection'
LIST_NAMES = {
    "alpha": '"Nur" <Otan> & Co',
    "beta": "Ақ жол — 🗳",
    "gamma": "</script><script>alert('x')</script>",
    "delta": "Ünïcödé\u200b\tParty",
}
SHORT_LIST = "beta"  # declared with fewer candidates than the seats it wins: a seat stays vacant
REGION_NAMES = {"north": "Солтүстік <i>'North'</i>", "south": 'Ю"г', "east": "Шығыс & East"}
ANNULLED = "P005"
LAST = "P012"


def _row(precinct_id: str, votes: tuple[int, int, int, int], against_all: int) -> dict[str, object]:
    row = protocol(precinct_id, votes, election_id=ELECTION_ID)
    cast = int(str(row["ballots_cast"])) + against_all
    row.update(against_all=against_all, ballots_cast=cast, ballots_issued=cast)
    return row


def _rows(ids: list[str]) -> list[dict[str, object]]:
    return [_row(pid, (300 + 7 * i, 150 - 5 * i, 40 + i, 20), 15 + i) for i, pid in enumerate(ids)]


def _declaration() -> dict[str, Any]:
    data: dict[str, Any] = declaration(12, election_id=ELECTION_ID)
    data.update(name=ELECTION_NAME, rule_profile="kz-mazhilis-2023", against_all_on_ballot=True)
    for item in data["lists"]:
        item["name"] = LIST_NAMES[item["list_id"]]
        if item["list_id"] == SHORT_LIST:
            item["candidates"] = 3
    for item in data["regions"]:
        item["name"] = REGION_NAMES[item["region_id"]]
    return data


@dataclass
class Night:
    warehouse: Path
    published: dict[str, str] = field(default_factory=dict)  # label -> publication id
    elsewhere: dict[str, Path] = field(default_factory=dict)  # label -> warehouse, if not `warehouse`

    @property
    def unchanged(self) -> Path:
        """A copy taken right after the provisional precinct publication, before certification."""
        return self.warehouse.parent / "unchanged"

    def folder(self, label: str) -> Path:
        warehouse = self.elsewhere.get(label, self.warehouse)
        return WarehousePaths(warehouse).publications / self.published[label]

    def report(self, label: str) -> dict[str, Any]:
        return dict(json.loads((self.folder(label) / CDF_JSON).read_bytes()))


def _cli(*args: str) -> None:
    assert main(list(args)) == 0


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    base = tmp_path_factory.mktemp("nist")
    inbox, night = base / "inbox", Night(base / "warehouse")
    inbox.mkdir()
    decl = inbox / f"{ELECTION_ID}.election.json"
    decl.write_text(json.dumps(_declaration(), ensure_ascii=False), encoding="utf-8")
    ids = precinct_ids(12)

    def ingest(paths: list[Path], *, publish: bool) -> str | None:
        summary = ingest_paths(paths, warehouse=night.warehouse, publish_results=publish)
        assert all(f.status == "applied" for f in summary.files), summary.lines()
        return summary.publications[0].publication_id if summary.publications else None

    first = ingest([decl, write_protocols(inbox, "first.csv", _rows(ids[:8]))], publish=True)
    annulled = ingest([write_annulment(inbox, "annul.csv", ANNULLED, election_id=ELECTION_ID)], publish=True)
    assert first is not None and annulled is not None
    night.published.update(provisional=first, annulled=annulled)
    ingest([write_protocols(inbox, "second.csv", _rows(ids[8:11]))], publish=False)
    _cli("publish", "--precincts", "--warehouse", str(night.warehouse))
    night.published["provisional-precincts"] = _latest(night.warehouse)
    shutil.copytree(night.warehouse, night.unchanged, symlinks=True)  # published, nothing new since
    ingest([write_protocols(inbox, "last.csv", _rows([LAST]))], publish=False)
    plain = base / "certified-plain"
    shutil.copytree(night.warehouse, plain, symlinks=True)
    _cli("publish", "--certify", "--precincts", "--warehouse", str(night.warehouse))
    night.published["certified-precincts"] = _latest(night.warehouse)
    _cli("publish", "--certify", "--warehouse", str(plain))
    night.published["certified"] = _latest(plain)
    night.elsewhere["certified"] = plain
    return night


def _latest(warehouse: Path) -> str:
    with duckdb.connect(str(WarehousePaths(warehouse).snapshot), read_only=True) as conn:
        row = conn.execute(
            "SELECT publication_id FROM publications ORDER BY position DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


# -- reading an export back, as a consumer would, from the documented names only ----------------


def _ours(item: Mapping[str, Any], kind: str) -> str | None:
    values = [
        i["Value"]
        for i in item.get("ExternalIdentifier", [])
        if i["Type"] == "other" and i.get("OtherType") == f"elections-pipeline:{kind}"
    ]
    assert len(values) <= 1
    return values[0] if values else None


def _text(value: Mapping[str, Any]) -> str:
    (text,) = value["Text"]
    return str(text["Content"])


@dataclass(frozen=True)
class ReadBack:
    """What a consumer reads from one export: the figures that decide the seats, and the seats."""

    status: str
    rules: dict[str, Any]
    list_seats: int
    lists: tuple[ListVotes, ...]
    against_all: int
    ballots_cast: int
    invalid: int
    seats: dict[str, int]
    vacant: dict[str, int]
    votes_by_unit: dict[str, dict[str, int]]  # unit @id -> selection @id -> votes
    ballots_by_unit: dict[str, tuple[int, int]]  # unit @id -> (cast, rejected)


def read_back(report: Mapping[str, Any]) -> ReadBack:
    (election,) = report["Election"]
    (contest,) = election["Contest"]
    scope = election["ElectionScopeId"]
    parties = {p["@id"]: p for p in report["Party"]}
    lists, seats, vacant, against_all = [], {}, {}, 0
    votes_by_unit: dict[str, dict[str, int]] = {}
    for selection in contest["ContestSelection"]:
        for count in selection["VoteCounts"]:
            if count["Type"] == "total":
                votes_by_unit.setdefault(count["GpUnitId"], {})[selection["@id"]] = count["Count"]
        national = {c["Type"]: c["Count"] for c in selection["VoteCounts"] if c["GpUnitId"] == scope}
        if selection["@type"] == "ElectionResults.BallotMeasureSelection":
            assert _ours(selection, "figure") == "against_all"
            against_all = national["total"]
            continue
        (party_id,) = selection["PartyIds"]
        party = parties[party_id]
        list_id = _ours(party, "list-id")
        assert list_id is not None
        candidates = _ours(party, "list-candidates")
        lists.append(
            ListVotes(
                list_id,
                _text(party["Name"]),
                national["total"],
                selection["SequenceOrder"],
                None if candidates is None else int(candidates),
            )
        )
        seats[list_id] = national["seats"]
        vacant[list_id] = sum(
            c["Count"]
            for c in selection["VoteCounts"]
            if c["GpUnitId"] == scope and c["Type"] == "other" and c["OtherType"] == "vacant-seats"
        )
    ballots = {b["GpUnitId"]: (b["BallotsCast"], b["BallotsRejected"]) for b in election["BallotCounts"]}
    rules = _ours(contest, "rules")
    list_seats = _ours(contest, "list-seats")
    assert rules is not None and list_seats is not None
    return ReadBack(
        report["Status"],
        json.loads(rules),
        int(list_seats),
        tuple(lists),
        against_all,
        ballots[scope][0],
        ballots[scope][1],
        seats,
        vacant,
        votes_by_unit,
        ballots,
    )


ALL = ("provisional", "annulled", "provisional-precincts", "certified-precincts", "certified")


# -- the tests ---------------------------------------------------------------------------------


def test_the_vendored_schema_is_nists_file_unchanged() -> None:
    notes = (SCHEMA_PATH.parent / "SOURCES.md").read_text(encoding="utf-8")
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() in notes
    if SHARED_SCHEMA.is_file():  # the reference folder beside the repository, where it exists
        assert SCHEMA_PATH.read_bytes() == SHARED_SCHEMA.read_bytes()


@pytest.mark.parametrize("label", ALL)
def test_every_export_validates_against_nists_schema(night: Night, label: str) -> None:
    report = night.report(label)
    assert validation_errors(report) == []
    precincts = label.endswith("precincts")
    assert report["Format"] == ("precinct-level" if precincts else "summary-contest")
    assert (
        report["Status"]
        == {
            "provisional": "unofficial-partial",
            "annulled": "unofficial-partial",
            "provisional-precincts": "unofficial-partial",
            "certified-precincts": "certified",
            "certified": "certified",
        }[label]
    )
    assert _ours(report, "publication-id") == night.published[label]
    kinds = Counter(u["Type"] for u in report["GpUnit"])
    assert kinds == Counter({"country": 1, "other": len(REGIONS), **({"precinct": 12} if precincts else {})})


def test_hostile_names_arrive_exactly_as_declared(night: Night) -> None:
    raw = (night.folder("certified-precincts") / CDF_JSON).read_bytes()
    report = json.loads(raw)
    assert _text(report["Election"][0]["Name"]) == ELECTION_NAME
    assert {_ours(p, "list-id"): _text(p["Name"]) for p in report["Party"]} == LIST_NAMES
    regions = {_ours(u, "region-id"): _text(u["Name"]) for u in report["GpUnit"] if u["Type"] == "other"}
    assert regions == REGION_NAMES
    assert "Солтүстік".encode() in raw  # UTF-8 as is, not escaped


@pytest.mark.parametrize("label", ALL)
def test_an_export_read_back_gives_the_published_seat_table(night: Night, label: str) -> None:
    back = read_back(night.report(label))
    published = json.loads((night.folder(label) / SEATS_JSON).read_bytes())
    profile = parse_profile(back.rules)
    # The rules in the export are the declared profile's, and the list seats are theirs.
    assert back.rules == profile_to_dict(load_profile("kz-mazhilis-2023"))
    assert back.list_seats == profile.seats == sum(back.seats.values())
    assert back.against_all > 0  # "against all" counts in this profile's threshold base
    recomputed = allocate(
        back.lists,
        profile,
        against_all=back.against_all,
        invalid=back.invalid,
        ballots_cast=back.ballots_cast,
    )
    assert {r.list_id: r.seats for r in recomputed.rows} == back.seats
    assert {r.list_id: r.vacant_seats for r in recomputed.rows} == back.vacant
    assert {r["list_id"]: r["seats"] for r in published["seats"]} == back.seats
    assert recomputed.to_records() == published["seats"]
    assert back.vacant[SHORT_LIST] > 0  # the short list's vacancy travels too


@pytest.mark.parametrize("label", ["provisional-precincts", "certified-precincts"])
def test_precinct_level_exports_list_every_precinct_and_add_up(night: Night, label: str) -> None:
    report = night.report(label)
    back = read_back(report)
    units = {u["@id"]: u for u in report["GpUnit"]}
    precincts = {_ours(u, "precinct-id") or "": u for u in units.values() if u["Type"] == "precinct"}
    assert sorted(precincts) == precinct_ids(12)
    states = {
        pid: {(s["Type"], s.get("OtherType"), s["Status"]) for s in u["CountStatus"]}
        for pid, u in precincts.items()
    }
    assert states[ANNULLED] == {("total", None, "not-processed"), ("other", "annulled", "completed")}
    pending = {pid for pid, s in states.items() if s == {("total", None, "not-processed")}}
    assert pending == ({LAST} if label.startswith("provisional") else set())
    counted = set(precinct_ids(12)) - pending - {ANNULLED}
    assert {pid for pid in precincts if f"gpu-precinct-{pid}" in back.votes_by_unit} == counted
    for region in REGIONS:
        unit = units[f"gpu-region-{region}"]
        members = [units[c] for c in unit["ComposingGpUnitIds"]]
        assert sorted(_ours(m, "precinct-id") or "" for m in members) == [
            p for p in precinct_ids(12) if region_of(p) == region
        ]
        sums: Counter[str] = Counter()
        cast = rejected = 0
        for member in members:
            sums.update(back.votes_by_unit.get(member["@id"], {}))
            c, r = back.ballots_by_unit.get(member["@id"], (0, 0))
            cast, rejected = cast + c, rejected + r
        assert dict(sums) == back.votes_by_unit[unit["@id"]]
        assert (cast, rejected) == back.ballots_by_unit[unit["@id"]]


def test_a_precinct_export_is_rebuilt_byte_for_byte_from_the_log(night: Night) -> None:
    with EventStore.open_writer(WarehousePaths(night.warehouse)) as store:
        for label in ("provisional-precincts", "certified-precincts", "provisional"):
            rebuilt = rebuild_publication(store.conn, night.published[label])
            assert rebuilt[CDF_JSON] == (night.folder(label) / CDF_JSON).read_bytes()


def test_a_precinct_export_written_item_by_item_equals_the_document_encoded_whole(night: Night) -> None:
    with duckdb.connect(str(WarehousePaths(night.warehouse).snapshot), read_only=True) as conn:
        results = load_published_results(conn, night.published["certified-precincts"])
    whole = json.dumps(election_report(results), ensure_ascii=False, separators=(",", ":")) + "\n"
    assert report_bytes(results) == whole.encode("utf-8")
    assert (night.folder("certified-precincts") / CDF_JSON).read_bytes() == whole.encode("utf-8")


def test_publish_precincts_when_nothing_changed_says_the_folder_stays_as_it_is(
    night: Night, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "wh"
    shutil.copytree(night.unchanged, warehouse, symlinks=True)
    capsys.readouterr()
    assert main(["publish", "--precincts", "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "nothing published" in out and "--precincts applies to the next publication" in out


def _broken(report: dict[str, Any], how: str) -> dict[str, Any]:
    doc = copy.deepcopy(report)
    election = doc["Election"][0]
    contest = election["Contest"][0]
    if how == "plain-name":
        election["Name"] = "a plain string"
    elif how == "old-class-names":
        contest["BallotSelection"] = contest.pop("ContestSelection")
    elif how == "dangling-unit":
        contest["ContestSelection"][0]["VoteCounts"][0]["GpUnitId"] = "gpu-nowhere"
    elif how == "wrong-class":
        contest["ContestSelection"][0]["PartyIds"] = ["gpu-country"]
    elif how == "impossible-date":
        election["StartDate"] = "2023-02-30"
    elif how == "junk-after-time":
        doc["GeneratedDate"] += " and then some"  # the schema's pattern is not anchored; the format is
    elif how == "duplicate-id":
        doc["Party"][1]["@id"] = doc["Party"][0]["@id"]
    elif how == "status":
        doc["Status"] = "provisional"
    elif how == "count-type":
        contest["ContestSelection"][0]["VoteCounts"][0]["Type"] = "elected"
    return doc


@pytest.mark.parametrize(
    "how",
    [
        "plain-name",
        "old-class-names",
        "dangling-unit",
        "wrong-class",
        "impossible-date",
        "junk-after-time",
        "duplicate-id",
        "status",
        "count-type",
    ],
)
def test_the_check_finds_each_kind_of_defect(night: Night, how: str) -> None:
    report = night.report("certified-precincts")
    assert validation_errors(report) == []
    assert validation_errors(_broken(report, how)) != []


HOSTILE_IDS = {
    "lists": ["against-all", 'l"q', "ä/ö </script>"],
    "regions": ["<r1>", "région 2"],
    "precincts": ['P"1', "П-2", "p,3", "p<4>&amp;"],
}


def test_hostile_ids_never_collide_or_break_the_export(tmp_path: Path) -> None:
    """Declared ids are free text: one that spells another object's id ("against-all" beside the
    against-all selection), quotes, markup, non-ASCII and separators all give a valid export."""
    lists, regions, precincts = HOSTILE_IDS["lists"], HOSTILE_IDS["regions"], HOSTILE_IDS["precincts"]
    data = {
        "election_id": "nist-ids",
        "name": "Ids",
        "date": "2023-03-19",
        "rule_profile": "kz-mazhilis-2023",
        "against_all_on_ballot": True,
        "lists": [{"list_id": lid, "name": lid, "ballot_order": i} for i, lid in enumerate(lists, 1)],
        "regions": [{"region_id": r, "name": r, "utc_offset_hours": 5} for r in regions],
        "precincts": [
            {"precinct_id": p, "region_id": regions[i % 2], "registered_voters": 1000}
            for i, p in enumerate(precincts)
        ],
    }
    rows = []
    for i, pid in enumerate(precincts):
        votes = {lid: 100 + 10 * i + j * 40 for j, lid in enumerate(lists)}
        cast = sum(votes.values()) + 5 + 7
        rows.append(
            {
                "election_id": "nist-ids",
                "precinct_id": pid,
                "region": regions[i % 2],
                "registered_voters": 1000,
                "ballots_issued": cast,
                "ballots_cast": cast,
                "invalid_ballots": 5,
                "against_all": 7,
                "version": 1,
                "reason": "",
                **votes,
            }
        )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "nist-ids.election.json").write_text(json.dumps(data), encoding="utf-8")
    with (inbox / "protocols.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=[*PROTOCOL_COLUMNS, *lists])
        writer.writeheader()
        writer.writerows(rows)
    summary = ingest_paths(sorted(inbox.iterdir()), warehouse=tmp_path / "wh", publish_results=False)
    assert all(f.status == "applied" for f in summary.files), summary.lines()
    assert main(["publish", "--precincts", "--warehouse", str(tmp_path / "wh")]) == 0
    (folder,) = WarehousePaths(tmp_path / "wh").publications.iterdir()
    report = json.loads((folder / CDF_JSON).read_bytes())
    assert validation_errors(report) == []
    back = read_back(report)
    assert [x.list_id for x in back.lists] == lists
    assert back.against_all == 7 * len(precincts)
    units = [u for u in report["GpUnit"] if u["Type"] == "precinct"]
    assert sorted(_ours(u, "precinct-id") or "" for u in units) == sorted(precincts)


def test_the_demo_elections_export_validates_and_recomputes(tmp_path: Path) -> None:
    """What `make demo` publishes: the sample election through the election-night DAG's own task."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    files = write_sample_election(inbox)
    result = ingest_pending([str(f) for f in files], inbox=inbox, warehouse=warehouse)
    assert result["files"] == len(files)
    publications = sorted(WarehousePaths(warehouse).publications.iterdir())
    assert publications
    for folder in publications:
        report = json.loads((folder / CDF_JSON).read_bytes())
        assert validation_errors(report) == []
        back = read_back(report)
        recomputed = allocate(
            back.lists,
            parse_profile(back.rules),
            against_all=back.against_all,
            invalid=back.invalid,
            ballots_cast=back.ballots_cast,
        )
        published = json.loads((folder / SEATS_JSON).read_bytes())
        assert recomputed.to_records() == published["seats"]
