"""A publication in the NIST SP 1500-100 (version 2) Election Results Common Data Format, JSON form.

The document validates against NIST's JSON Schema (`schemas/nist/`, checked by
`pipelines.publishing.nist_schema`).
Where the format has no exact slot for one of our figures, the closest honest one is used and named
here (docs/warehouse.md has the full table):

- ballots cast -> `BallotCounts.BallotsCast`; invalid ballots -> `BallotCounts.BallotsRejected` (the
  format has no "invalid" count; rejected ballots count for no selection, as invalid ones do);
- registered voters -> `ReportingUnit.VotersRegistered`, ballots cast also -> `VotersParticipated`;
- seats won by a list -> a `VoteCounts` of `Type` "seats" at the national unit (the format's own count
  type for party contests); vacant seats among them -> a `VoteCounts` of `Type` "other", `OtherType`
  "vacant-seats";
- the number of list seats -> an ExternalIdentifier "elections-pipeline:list-seats" of the contest
  (`NumberElected` exists only for candidate contests);
- "against all" -> a `BallotMeasureSelection` of the party contest (a ballot choice that is no party);
- the rules the seats were computed with -> ExternalIdentifiers "elections-pipeline:rule-profile" and
  "elections-pipeline:rules" (the canonical JSON of the rules) of the contest.

Our ids travel as ExternalIdentifiers of `Type` "other" and `OtherType` "elections-pipeline:<kind>".
The report covers the nation and its regions; a publication made with `--precincts` (its event says so)
adds every declared precinct, so the default export stays small at a million precincts. Not included:
candidates, offices, ballot styles, single-member district contests.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any, Final

from pipelines.domain.events import canonical_json
from pipelines.publishing.precinct_figures import PrecinctFigures
from pipelines.publishing.published_results import AreaTotals, ListInfo, PublishedResults

VENDOR_APPLICATION_ID: Final = "elections-pipeline"
ISSUER: Final = "elections-pipeline (event-sourced results)"
ISSUER_ABBREVIATION: Final = "EP"
ID_SCHEME: Final = "elections-pipeline"
# Declared names come in whatever language the declaration used: BCP 47 "und" (undetermined) says so.
NAME_LANGUAGE: Final = "und"
LABEL_LANGUAGE: Final = "en"
COUNTRY_UNIT: Final = "gpu-country"
AGAINST_ALL_SELECTION: Final = "selection-against-all"
_HEX_COLOR: Final = re.compile(r"^#?([0-9a-fA-F]{6})$")


def _type(name: str) -> str:
    return f"ElectionResults.{name}"


def _text(content: str, language: str = NAME_LANGUAGE) -> dict[str, Any]:
    return {
        "@type": _type("InternationalizedText"),
        "Text": [{"@type": _type("LanguageString"), "Content": content, "Language": language}],
    }


def _identifier(kind: str, value: object) -> dict[str, Any]:
    return {
        "@type": _type("ExternalIdentifier"),
        "Type": "other",
        "OtherType": f"{ID_SCHEME}:{kind}",
        "Value": str(value),
    }


def _region_unit(region_id: str) -> str:
    return f"gpu-region-{region_id}"


def _precinct_unit(precinct_id: str) -> str:
    return f"gpu-precinct-{precinct_id}"


def _area_unit(area: AreaTotals) -> str:
    return COUNTRY_UNIT if area.region_id is None else _region_unit(area.region_id)


def _party_id(list_id: str) -> str:
    return f"party-{list_id}"


def election_day(results: PublishedResults) -> tuple[str, str]:
    """The election's date for StartDate/EndDate, and a note when the declaration gave none that is a
    calendar date (YYYY-MM-DD): then the publication's day stands in, so that the export stays valid."""
    declared = results.election_date
    try:
        if len(declared) == 10 and date.fromisoformat(declared).isoformat() == declared:
            return declared, ""
    except ValueError:
        pass
    shown = json.dumps(declared, ensure_ascii=False)
    return (
        results.published_at.strftime("%Y-%m-%d"),
        f" The declaration gives no calendar date ({shown}): "
        "StartDate and EndDate are the publication's day.",
    )


def results_status(results: PublishedResults) -> str:
    if results.status == "certified":
        return "certified"
    return (
        "unofficial-complete" if results.national.figures["precincts_pending"] == 0 else "unofficial-partial"
    )


def _count_status(status: str, *, other: str | None = None) -> dict[str, Any]:
    status_entry: dict[str, Any] = {"@type": _type("CountStatus"), "Status": status, "Type": "total"}
    if other is not None:
        status_entry.update(Type="other", OtherType=other)
    return status_entry


def _progress(figures: Mapping[str, int]) -> str:
    if figures["precincts_pending"] == 0:
        return "completed"
    return "in-process" if figures["precincts_reported"] + figures["precincts_annulled"] else "not-processed"


def _area_unit_record(area: AreaTotals, children: Sequence[str]) -> dict[str, Any]:
    f = area.figures
    unit: dict[str, Any] = {"@type": _type("ReportingUnit"), "@id": _area_unit(area)}
    if area.region_id is None:
        unit.update(Type="country", Name=_text("Nation", LABEL_LANGUAGE))
    else:
        unit.update(
            Type="other",
            OtherType="election-region",
            Name=_text(area.name),
            ExternalIdentifier=[_identifier("region-id", area.region_id)],
        )
    unit.update(
        SubUnitsReported=f["precincts_reported"],
        TotalSubUnits=f["precincts_expected"],
        VotersRegistered=f["registered_voters"],
        VotersParticipated=f["ballots_cast"],
        CountStatus=[_count_status(_progress(f))],
    )
    if children:
        unit["ComposingGpUnitIds"] = list(children)
    return unit


def _precinct_unit_record(precinct: PrecinctFigures) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "@type": _type("ReportingUnit"),
        "@id": _precinct_unit(precinct.precinct_id),
        "Type": "precinct",
        "ExternalIdentifier": [_identifier("precinct-id", precinct.precinct_id)],
        "VotersRegistered": precinct.registered_voters,
    }
    if precinct.state == "reported":
        unit["VotersParticipated"] = precinct.ballots_cast
        unit["CountStatus"] = [_count_status("completed")]
    elif precinct.state == "annulled":
        unit["CountStatus"] = [_count_status("not-processed"), _count_status("completed", other="annulled")]
    else:
        unit["CountStatus"] = [_count_status("not-processed")]
    return unit


def _ballot_counts(unit_id: str, ballots_cast: int, invalid: int) -> dict[str, Any]:
    return {
        "@type": _type("BallotCounts"),
        "GpUnitId": unit_id,
        "Type": "total",
        "BallotsCast": ballots_cast,
        "BallotsRejected": invalid,
    }


def _vote_count(unit_id: str, count: int, kind: str = "total", other: str | None = None) -> dict[str, Any]:
    vote_count: dict[str, Any] = {
        "@type": _type("VoteCounts"),
        "GpUnitId": unit_id,
        "Type": kind,
        "Count": count,
    }
    if other is not None:
        vote_count["OtherType"] = other
    return vote_count


def _counted(precincts: Sequence[PrecinctFigures]) -> list[PrecinctFigures]:
    return [p for p in precincts if p.state == "reported"]


_Make = Callable[["PrecinctFigures"], dict[str, Any]]
_Count = Callable[["PrecinctFigures"], int]


class _Inline:
    """Per-precinct items built as objects in the document."""

    def many(self, precincts: Sequence[PrecinctFigures], make: _Make) -> list[Any]:
        return [make(p) for p in precincts]

    def vote_counts(self, precincts: Sequence[PrecinctFigures], count: _Count) -> list[Any]:
        return [_vote_count(_precinct_unit(p.precinct_id), count(p)) for p in precincts]


class _Deferred:
    """Per-precinct items left out of the document as one marker string per run of items, encoded one
    item at a time when the document is written: a million precincts never exist as objects at once."""

    def __init__(self) -> None:
        self.nonce = uuid.uuid4().hex  # random, so that no declared name can be taken for a marker
        self.runs: list[tuple[Sequence[PrecinctFigures], Callable[[PrecinctFigures], str]]] = []
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.unit_json = cache(lambda precinct_id: self.encode(_precinct_unit(precinct_id)))

    def _run(self, precincts: Sequence[PrecinctFigures], make: Callable[[PrecinctFigures], str]) -> list[Any]:
        if not precincts:
            return []
        self.runs.append((precincts, make))
        return [f"{self.nonce}-{len(self.runs) - 1}"]

    def many(self, precincts: Sequence[PrecinctFigures], make: _Make) -> list[Any]:
        return self._run(precincts, lambda p: self.encode(make(p)))

    def vote_counts(self, precincts: Sequence[PrecinctFigures], count: _Count) -> list[Any]:
        # The bulk of a precinct export (one per list and precinct): spelled out as _vote_count
        # encodes it, ten times faster than encoding an object; a test holds the two equal.
        return self._run(
            precincts,
            lambda p: (
                f'{{"@type":"ElectionResults.VoteCounts","GpUnitId":{self.unit_json(p.precinct_id)},'
                f'"Type":"total","Count":{int(count(p))}}}'
            ),
        )

    def write(self, document: dict[str, Any]) -> bytes:
        parts = re.split(f'"{self.nonce}-([0-9]+)"', self.encode(document))
        chunks = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                chunks.append(part.encode("utf-8"))
            else:
                precincts, make = self.runs[int(part)]
                chunks.append(",".join(make(p) for p in precincts).encode("utf-8"))
        return b"".join(chunks) + b"\n"


_INLINE: Final = _Inline()


def _party(info: ListInfo) -> dict[str, Any]:
    party: dict[str, Any] = {
        "@type": _type("Party"),
        "@id": _party_id(info.list_id),
        "Name": _text(info.name),
        "ExternalIdentifier": [_identifier("list-id", info.list_id)],
    }
    if info.candidates is not None:
        party["ExternalIdentifier"].append(_identifier("list-candidates", info.candidates))
    color = _HEX_COLOR.match(info.color or "")
    if color:
        party["Color"] = color.group(1).lower()
    return party


def _selections(
    results: PublishedResults, areas: Sequence[AreaTotals], items: _Inline | _Deferred
) -> list[dict[str, Any]]:
    precincts = _counted(results.precincts or [])
    seats = {str(r["list_id"]): r for r in results.allocation}
    selections: list[dict[str, Any]] = []
    for info in results.lists:
        counts = [_vote_count(_area_unit(a), a.votes[info.list_id]) for a in areas]
        counts += items.vote_counts(precincts, _votes_of(info.list_id))
        row = seats.get(info.list_id)
        if row is not None:
            counts.append(_vote_count(COUNTRY_UNIT, int(row["seats"]), "seats"))
            if int(row.get("vacant_seats") or 0):
                counts.append(_vote_count(COUNTRY_UNIT, int(row["vacant_seats"]), "other", "vacant-seats"))
        selections.append(
            {
                "@type": _type("PartySelection"),
                "@id": f"selection-list-{info.list_id}",
                "PartyIds": [_party_id(info.list_id)],
                "SequenceOrder": info.ballot_order,
                "VoteCounts": counts,
            }
        )
    if results.shows_against_all:
        counts = [_vote_count(_area_unit(a), a.figures["against_all"]) for a in areas]
        counts += items.vote_counts(precincts, _against_all_of)
        selections.append(
            {
                "@type": _type("BallotMeasureSelection"),
                "@id": AGAINST_ALL_SELECTION,
                "Selection": _text("Against all", LABEL_LANGUAGE),
                "ExternalIdentifier": [_identifier("figure", "against_all")],
                "SequenceOrder": max((i.ballot_order for i in results.lists), default=0) + 1,
                "VoteCounts": counts,
            }
        )
    return selections


def _votes_of(list_id: str) -> _Count:
    return lambda p: p.votes[list_id]


def _against_all_of(p: PrecinctFigures) -> int:
    return p.against_all


def _precinct_ballots(p: PrecinctFigures) -> dict[str, Any]:
    return _ballot_counts(_precinct_unit(p.precinct_id), p.ballots_cast, p.invalid_ballots)


def _reporting_units(results: PublishedResults, items: _Inline | _Deferred) -> list[dict[str, Any]]:
    precincts = results.precincts or []
    by_region: dict[str, list[str]] = {}
    for p in precincts:
        by_region.setdefault(p.region_id, []).append(_precinct_unit(p.precinct_id))
    units = [_area_unit_record(results.national, [_area_unit(r) for r in results.regions])]
    units += [_area_unit_record(r, by_region.get(str(r.region_id), [])) for r in results.regions]
    units += items.many(precincts, _precinct_unit_record)
    return units


def election_report(results: PublishedResults, items: _Inline | _Deferred = _INLINE) -> dict[str, Any]:
    """The ElectionReport document of one publication (deterministic: no wall-clock time)."""
    areas = [results.national, *results.regions]
    national = results.national.figures
    ballot_counts = [
        _ballot_counts(_area_unit(a), a.figures["ballots_cast"], a.figures["invalid_ballots"]) for a in areas
    ]
    ballot_counts += items.many(_counted(results.precincts or []), _precinct_ballots)
    contest = {
        "@type": _type("PartyContest"),
        "@id": f"contest-{results.election_id}",
        "Name": f"{results.election_name}: party lists",
        "ElectionDistrictId": COUNTRY_UNIT,
        "ExternalIdentifier": [
            _identifier("list-seats", results.total_seats),
            _identifier("rule-profile", results.rule_profile),
            _identifier("rules", canonical_json(results.rules)),
            _identifier("table-sha256", results.table_sha256),
        ],
        "VoteVariation": "proportional",
        "SubUnitsReported": national["precincts_reported"],
        "TotalSubUnits": national["precincts_expected"],
        "CountStatus": [_count_status(_progress(national))],
        "ContestSelection": _selections(results, areas, items),
    }
    day, day_note = election_day(results)
    election = {
        "@type": _type("Election"),
        "ElectionScopeId": COUNTRY_UNIT,
        "Name": _text(results.election_name),
        "StartDate": day,
        "EndDate": day,
        "Type": "general",
        "ExternalIdentifier": [_identifier("election-id", results.election_id)],
        "BallotCounts": ballot_counts,
        "CountStatus": [_count_status(_progress(national))],
        "Contest": [contest],
    }
    report: dict[str, Any] = {
        "@type": _type("ElectionReport"),
        "Format": "summary-contest" if results.precincts is None else "precinct-level",
        "GeneratedDate": results.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Issuer": ISSUER,
        "IssuerAbbreviation": ISSUER_ABBREVIATION,
        "VendorApplicationId": VENDOR_APPLICATION_ID,
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": results_status(results),
        "IsTest": results.synthetic,
    }
    if results.synthetic:
        report["TestType"] = "synthetic data"
    report.update(
        Notes=(
            f"Publication {results.publication_id} ({results.status}), based on event log position "
            f"{results.based_on_position}, rule profile {results.rule_profile}, seat table sha256 "
            f"{results.table_sha256}.{day_note}"
        ),
        ExternalIdentifier=[
            _identifier("publication-id", results.publication_id),
            _identifier("publication-status", results.status),
            _identifier("log-position", results.position),
            _identifier("based-on-position", results.based_on_position),
        ],
        GpUnit=_reporting_units(results, items),
        Party=[_party(info) for info in results.lists],
        Election=[election],
    )
    return report


def report_bytes(results: PublishedResults) -> bytes:
    """The export as UTF-8 JSON: indented when it covers nation and regions; compact when it lists every
    precinct, where indentation would cost a slower encoder and a third more bytes."""
    if results.precincts is None:
        return (json.dumps(election_report(results), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    deferred = _Deferred()
    return deferred.write(election_report(results, deferred))
