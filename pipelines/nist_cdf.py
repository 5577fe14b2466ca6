"""A publication in the NIST SP 1500-100 (version 2) Election Results Common Data Format, JSON form.

A faithful subset: ElectionReport with GpUnit (the country and its regions as ReportingUnits, with
registered voters, participation and sub-units reported), Party (one per list, with its colour),
and one Election holding one PartyContest whose PartySelections carry VoteCounts of type `total` per
reporting unit; SummaryCounts give ballots cast and rejected (invalid) per unit. Not included: the
seats won (the format has no seat count for a party contest; they are in seats.json), precinct-level
units, candidates, ballot styles, offices and the Xmldsig signature.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.publication_files import AreaTotals, PublishedResults

VENDOR_APPLICATION_ID = "elections-pipeline"
ISSUER = "elections-pipeline (event-sourced results)"
ISSUER_ABBREVIATION = "EP"
_HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")


def _text(content: str) -> dict[str, Any]:
    return {
        "@type": "ElectionResults.InternationalizedText",
        "Text": [{"@type": "ElectionResults.LanguageString", "Content": content, "Language": "en"}],
    }


def _unit_id(area: AreaTotals) -> str:
    return "gpu-country" if area.region_id is None else f"gpu-region-{area.region_id}"


def _party_id(list_id: str) -> str:
    return f"party-{list_id}"


def results_status(results: PublishedResults) -> str:
    if results.status == "certified":
        return "certified"
    return (
        "unofficial-complete" if results.national.figures["precincts_pending"] == 0 else "unofficial-partial"
    )


def _reporting_unit(area: AreaTotals, children: list[str]) -> dict[str, Any]:
    f = area.figures
    unit: dict[str, Any] = {
        "@type": "ElectionResults.ReportingUnit",
        "@id": _unit_id(area),
        "Name": area.name,
        "Type": "country" if area.region_id is None else "other",
        "SubUnitsReported": f["precincts_reported"],
        "TotalSubUnits": f["precincts_expected"],
        "VotersRegistered": f["registered_voters"],
        "VotersParticipated": f["ballots_cast"],
        "SummaryCounts": [
            {
                "@type": "ElectionResults.SummaryCounts",
                "GpUnitId": _unit_id(area),
                "Type": "total",
                "BallotsCast": f["ballots_cast"],
                "BallotsRejected": f["invalid_ballots"],
            }
        ],
    }
    if area.region_id is not None:
        unit["OtherType"] = "region"
    if children:
        unit["ComposingGpUnitIds"] = children
    return unit


def election_report(results: PublishedResults) -> dict[str, Any]:
    """The ElectionReport document of one publication (deterministic: no wall-clock time)."""
    areas = [results.national, *results.regions]
    parties = []
    for info in results.lists:
        party: dict[str, Any] = {
            "@type": "ElectionResults.Party",
            "@id": _party_id(info.list_id),
            "Name": _text(info.name),
            "Abbreviation": info.list_id,
        }
        color = _HEX_COLOR.match(info.color or "")
        if color:
            party["Color"] = color.group(1).lower()
        parties.append(party)
    selections = [
        {
            "@type": "ElectionResults.PartySelection",
            "@id": f"selection-{info.list_id}",
            "PartyIds": [_party_id(info.list_id)],
            "SequenceOrder": info.ballot_order,
            "VoteCounts": [
                {
                    "@type": "ElectionResults.VoteCounts",
                    "GpUnitId": _unit_id(area),
                    "Type": "total",
                    "Count": area.votes[info.list_id],
                }
                for area in areas
            ],
        }
        for info in results.lists
    ]
    contest = {
        "@type": "ElectionResults.PartyContest",
        "@id": f"contest-{results.election_id}",
        "Name": f"{results.election_name}: party lists",
        "ElectoralDistrictId": _unit_id(results.national),
        "VoteVariation": "proportional",
        "SubUnitsReported": results.national.figures["precincts_reported"],
        "TotalSubUnits": results.national.figures["precincts_expected"],
        "BallotSelection": selections,
    }
    election = {
        "@type": "ElectionResults.Election",
        "ElectionScopeId": _unit_id(results.national),
        "Name": _text(results.election_name),
        "StartDate": results.election_date,
        "EndDate": results.election_date,
        "Type": "general",
        "Contest": [contest],
    }
    return {
        "@type": "ElectionResults.ElectionReport",
        "Format": "summary-contest",
        "GeneratedDate": results.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Issuer": ISSUER,
        "IssuerAbbreviation": ISSUER_ABBREVIATION,
        "VendorApplicationId": VENDOR_APPLICATION_ID,
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": results_status(results),
        "IsTest": results.synthetic,
        "Notes": (
            f"Publication {results.publication_id}, based on event log position {results.based_on_position}, "
            f"rule profile {results.rule_profile}, seat table sha256 {results.table_sha256}."
        ),
        "GpUnit": [
            _reporting_unit(results.national, [_unit_id(r) for r in results.regions]),
            *(_reporting_unit(r, []) for r in results.regions),
        ],
        "Party": parties,
        "Election": [election],
    }
