"""The historical Mazhilis party-list elections 2004-2023: official national totals, the regions of
each era, and a synthetic precinct breakdown that adds up to the official totals exactly.

Reads `schemas/history/` (official figures and source notes); everything below the national level is
synthetic, labelled so in the declaration (`synthetic=True` and its `source_note`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.errors import InputError
from pipelines.core.paths import HISTORY_DIR
from pipelines.domain.election import ElectionDeclaration, PartyList, Precinct, Region
from pipelines.synthetic.precinct_synthesis import NationalTotals, PrecinctTable, RegionShape, synthesise
from pipelines.synthetic.protocol_writer import ProtocolRow, protocol_csv, table_rows

ELECTIONS_CSV = "kz_mazhilis_elections.csv"
RESULTS_CSV = "kz_mazhilis_results.csv"
REGIONS_CSV = "kz_regions.csv"
DEFAULT_SEED = 2021

# Polling-station counts no source gave (2004, 2007): the middle of the range of the known years.
_ASSUMED_POLLING_STATIONS = 9_800
# 2004 published no registered-voter count we could read; assume this national turnout (percent).
_ASSUMED_TURNOUT_PCT_2004 = 57
# 2012: "about 77,000 implied" invalid ballots (reference confidence note); ballots cast follow from it.
_ASSUMED_INVALID_2012 = 77_000

# Approximate electorate of each region in thousands (census-based, rounded): only the *relative*
# sizes matter, they shape where the synthetic precincts and voters go. Overrides track growth and the
# splits of 2018 (Shymkent) and 2022 (Abai, Zhetysu, Ulytau).
_ELECTORATE_THOUSANDS = {
    "Akmola Region": 540,
    "Aktobe Region": 560,
    "Almaty Region": 1350,
    "Atyrau Region": 380,
    "East Kazakhstan Region": 980,
    "Zhambyl Region": 690,
    "West Kazakhstan Region": 450,
    "Karaganda Region": 950,
    "Kostanay Region": 620,
    "Kyzylorda Region": 470,
    "Mangystau Region": 400,
    "Pavlodar Region": 540,
    "North Kazakhstan Region": 420,
    "South Kazakhstan Region": 1500,
    "Turkistan Region": 1150,
    "Abai Region": 430,
    "Zhetysu Region": 480,
    "Ulytau Region": 150,
    "Astana (city)": 800,
    "Nur-Sultan (city)": 780,
    "Almaty (city)": 1350,
    "Shymkent (city)": 620,
}
_ELECTORATE_OVERRIDES = {
    ("kz-mazhilis-2004", "Astana (city)"): 330,
    ("kz-mazhilis-2007", "Astana (city)"): 420,
    ("kz-mazhilis-2012", "Astana (city)"): 540,
    ("kz-mazhilis-2016", "Astana (city)"): 650,
    ("kz-mazhilis-2004", "Almaty (city)"): 850,
    ("kz-mazhilis-2007", "Almaty (city)"): 950,
    ("kz-mazhilis-2012", "Almaty (city)"): 1050,
    ("kz-mazhilis-2016", "Almaty (city)"): 1150,
    ("kz-mazhilis-2023", "Almaty Region"): 900,
    ("kz-mazhilis-2023", "East Kazakhstan Region"): 540,
    ("kz-mazhilis-2023", "Karaganda Region"): 800,
}
# Until 1 March 2024 Kazakhstan had two time zones: UTC+5 in the west, UTC+6 elsewhere. Kyzylorda
# moved from UTC+6 to UTC+5 on 21 December 2018.
_WEST_UTC5 = {"Aktobe Region", "Atyrau Region", "West Kazakhstan Region", "Mangystau Region"}
_KYZYLORDA_UTC5_FROM = "2018-12-21"
# Eras whose regional turnout no source gave borrow the shape of 2012 (the same 16 regions).
_TURNOUT_STAND_IN = "kz-mazhilis-2012"


@dataclass(frozen=True)
class HistoricalList:
    list_id: str  # the party lineage, stable across renames
    name: str
    votes: int
    official_pct: str
    official_list_seats: int


@dataclass(frozen=True)
class HistoricalRegion:
    region_id: str
    name: str
    utc_offset_hours: int
    reported_turnout_pct: float | None
    is_city: bool


@dataclass(frozen=True)
class HistoricalElection:
    """One Mazhilis election as published; `None` = not found in any source."""

    election_id: str
    date: str
    list_seats: int
    threshold_pct: int
    threshold_base: str
    against_all_on_ballot: bool
    registered_voters: int | None
    ballots_cast: int | None
    invalid_ballots: int | None
    against_all: int | None
    valid_list_votes: int
    polling_stations: int | None
    confidence_note: str
    lists: tuple[HistoricalList, ...]
    regions: tuple[HistoricalRegion, ...]

    @property
    def name(self) -> str:
        return f"Mazhilis of Kazakhstan {self.date[:4]}, party lists"

    @property
    def seats(self) -> int:
        return self.list_seats

    @property
    def source_note(self) -> str:
        return f"official national totals: {self.confidence_note}"


@dataclass(frozen=True)
class DerivedTotals:
    """The totals the breakdown reproduces, with notes on every figure that had to be derived."""

    totals: NationalTotals
    polling_stations: int
    derivations: tuple[str, ...]


@dataclass(frozen=True)
class HistoryBreakdown:
    election: HistoricalElection
    declaration: ElectionDeclaration
    table: PrecinctTable

    def protocols(self) -> list[ProtocolRow]:
        return table_rows(self.election.election_id, self.table)


def region_slug(name: str) -> str:
    """`Almaty Region` -> `almaty`, `Almaty (city)` -> `almaty_city`."""
    base = name.removesuffix(" Region").replace("(city)", "city")
    return re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_")


def _read_csv(directory: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    path = directory / name
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(enumerate(csv.DictReader(handle), start=2))
    except OSError as exc:
        raise InputError(f"cannot read history file: {exc.strerror}", file=str(path)) from None


def _int(row: dict[str, str], column: str, file: str, line: int, *, optional: bool = False) -> int | None:
    text = (row.get(column) or "").strip()
    if not text and optional:
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(
            "must be a whole number", file=file, row=line, column=column, rule="integer", value=text
        ) from None


def _required_int(row: dict[str, str], column: str, file: str, line: int) -> int:
    value = _int(row, column, file, line)
    assert value is not None  # _int only returns None when optional
    return value


def _utc_offset(name: str, date: str) -> int:
    if name in _WEST_UTC5 or (name == "Kyzylorda Region" and date >= _KYZYLORDA_UTC5_FROM):
        return 5
    return 6


def load_elections(directory: Path = HISTORY_DIR) -> dict[str, HistoricalElection]:
    """All shipped elections by id, in date order, with their lists and regions."""
    lists: dict[str, list[HistoricalList]] = {}
    for line, row in _read_csv(directory, RESULTS_CSV):
        lists.setdefault(row["election_id"], []).append(
            HistoricalList(
                list_id=row["party_lineage"],
                name=row["party_name"],
                votes=_required_int(row, "votes", RESULTS_CSV, line),
                official_pct=row["official_pct"],
                official_list_seats=_required_int(row, "official_list_seats", RESULTS_CSV, line),
            )
        )
    region_rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in _read_csv(directory, REGIONS_CSV):
        region_rows.setdefault(row["election_id"], []).append((line, row))

    elections: dict[str, HistoricalElection] = {}
    for line, row in _read_csv(directory, ELECTIONS_CSV):
        election_id = row["election_id"]

        def opt(column: str, line: int = line, row: dict[str, str] = row) -> int | None:
            return _int(row, column, ELECTIONS_CSV, line, optional=True)

        regions = []
        for region_line, region in region_rows.get(election_id, []):
            turnout_text = region["reported_turnout_pct"].strip()
            try:
                turnout = float(turnout_text) if turnout_text else None
            except ValueError:
                raise InputError(
                    "must be a percentage",
                    file=REGIONS_CSV,
                    row=region_line,
                    column="reported_turnout_pct",
                    value=turnout_text,
                ) from None
            regions.append(
                HistoricalRegion(
                    region_id=region_slug(region["region"]),
                    name=region["region"],
                    utc_offset_hours=_utc_offset(region["region"], row["date"]),
                    reported_turnout_pct=turnout,
                    is_city=region["region"].endswith("(city)"),
                )
            )
        if not regions or election_id not in lists:
            raise InputError(
                "election has no regions or no lists", file=ELECTIONS_CSV, row=line, value=election_id
            )
        elections[election_id] = HistoricalElection(
            election_id=election_id,
            date=row["date"],
            list_seats=_required_int(row, "list_seats", ELECTIONS_CSV, line),
            threshold_pct=_required_int(row, "threshold_pct", ELECTIONS_CSV, line),
            threshold_base=row["threshold_base"],
            against_all_on_ballot=row["against_all_on_ballot"].strip().lower() == "true",
            registered_voters=opt("registered_voters"),
            ballots_cast=opt("ballots_cast"),
            invalid_ballots=opt("invalid_ballots"),
            against_all=opt("against_all"),
            valid_list_votes=_required_int(row, "valid_list_votes", ELECTIONS_CSV, line),
            polling_stations=opt("polling_stations"),
            confidence_note=row["confidence_note"],
            lists=tuple(lists[election_id]),
            regions=tuple(regions),
        )
    return dict(sorted(elections.items(), key=lambda item: item[1].date))


def list_elections() -> list[HistoricalElection]:
    return list(load_elections().values())


def get_election(election_id: str) -> HistoricalElection:
    elections = load_elections()
    if election_id not in elections:
        raise InputError(
            f"no historical election {election_id!r}; shipped: {', '.join(elections)}",
            column="election_id",
            value=election_id,
        )
    return elections[election_id]


def derive_totals(election: HistoricalElection) -> DerivedTotals:
    """National totals for the breakdown; missing figures are derived and each derivation noted."""
    notes: list[str] = []
    list_votes = tuple(entry.votes for entry in election.lists)
    valid = sum(list_votes)
    if valid != election.valid_list_votes:
        raise InputError(
            f"list votes of {election.election_id} sum to {valid}, not the published valid list votes",
            file=RESULTS_CSV,
            column="votes",
            rule="lists add up to valid_list_votes",
            value=election.valid_list_votes,
        )
    against_all = election.against_all or 0
    cast = election.ballots_cast
    invalid = election.invalid_ballots
    if cast is None:
        invalid = _ASSUMED_INVALID_2012 if invalid is None else invalid
        cast = valid + against_all + invalid
        notes.append(
            f"ballots cast ({cast}) derived as valid list votes + {invalid} invalid ballots "
            "(the invalid count is an estimate; not published in the sources we read)"
        )
    elif invalid is None:
        invalid = cast - valid - against_all
        notes.append(f"invalid ballots ({invalid}) derived as ballots cast minus valid votes")
    registered = election.registered_voters
    if registered is None:
        registered = -(-cast * 100 // _ASSUMED_TURNOUT_PCT_2004)
        notes.append(
            f"registered voters ({registered}) derived assuming a national turnout of "
            f"{_ASSUMED_TURNOUT_PCT_2004}% (no registered-voter count in the sources we read)"
        )
    stations = election.polling_stations
    if stations is None:
        stations = _ASSUMED_POLLING_STATIONS
        notes.append(f"polling-station count ({stations}) assumed; not found in the sources")
    totals = NationalTotals(
        registered_voters=registered,
        ballots_cast=cast,
        invalid_ballots=invalid,
        against_all=against_all,
        list_votes=list_votes,
    )
    try:
        totals.check()
    except ValueError as exc:
        raise InputError(
            f"official totals of {election.election_id} are inconsistent: {exc}", file=ELECTIONS_CSV
        ) from None
    return DerivedTotals(totals=totals, polling_stations=stations, derivations=tuple(notes))


def _region_shapes(election: HistoricalElection, national_turnout: float) -> list[RegionShape]:
    stand_in: dict[str, float] = {}
    if any(r.reported_turnout_pct is None for r in election.regions):
        donor = load_elections().get(_TURNOUT_STAND_IN)
        if donor is not None:
            stand_in = {r.name: r.reported_turnout_pct for r in donor.regions if r.reported_turnout_pct}
    shapes = []
    for region in election.regions:
        pct = region.reported_turnout_pct or stand_in.get(region.name)
        weight = _ELECTORATE_OVERRIDES.get(
            (election.election_id, region.name), _ELECTORATE_THOUSANDS.get(region.name, 500)
        )
        shapes.append(
            RegionShape(
                region_id=region.region_id,
                electorate_weight=weight,
                turnout=pct / 100 if pct else national_turnout,
                is_city=region.is_city,
            )
        )
    return shapes


def build_history(election_id: str, *, seed: int = DEFAULT_SEED) -> HistoryBreakdown:
    """The declaration and synthetic precinct table of one historical election."""
    election = get_election(election_id)
    derived = derive_totals(election)
    totals = derived.totals
    shapes = _region_shapes(election, totals.ballots_cast / totals.registered_voters)
    salt = int(election.date.replace("-", ""))
    table = synthesise(shapes, totals, derived.polling_stations, seed=seed, salt=salt)
    note = (
        f"SYNTHETIC precinct breakdown (seed {seed}): {derived.polling_stations} invented polling "
        "stations whose sums equal the official national totals exactly; no source publishes results "
        f"by polling station. Regional turnout shaped by kz_regions.csv. {election.source_note}."
    )
    if derived.derivations:
        note += " Derived here: " + "; ".join(derived.derivations) + "."
    declaration = synthetic_declaration(
        election,
        table,
        election_id=election.election_id,
        name=election.name,
        source_note=note,
        against_all_on_ballot=election.against_all_on_ballot,
    )
    return HistoryBreakdown(election=election, declaration=declaration, table=table)


def synthetic_declaration(
    election: HistoricalElection,
    table: PrecinctTable,
    *,
    election_id: str,
    name: str,
    source_note: str,
    against_all_on_ballot: bool = False,
) -> ElectionDeclaration:
    """A declaration of synthetic precincts on a shipped election's lists, regions and rules."""
    return ElectionDeclaration(
        election_id=election_id,
        name=name,
        date=election.date,
        rule_profile=election.election_id,
        lists=tuple(
            PartyList(list_id=entry.list_id, name=entry.name, ballot_order=order)
            for order, entry in enumerate(election.lists, start=1)
        ),
        regions=tuple(Region(r.region_id, r.name, r.utc_offset_hours) for r in election.regions),
        precincts=tuple(
            Precinct(pid, table.region_id(i), int(voters))
            for i, (pid, voters) in enumerate(
                zip(table.precinct_ids, table.registered_voters.tolist(), strict=True)
            )
        ),
        against_all_on_ballot=against_all_on_ballot,
        synthetic=True,
        source_note=source_note,
    )


def declaration_json(declaration: ElectionDeclaration) -> bytes:
    return (json.dumps(declaration.to_json_dict(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def declaration_file_name(election_id: str) -> str:
    return f"{election_id}.election.json"


def protocol_file_name(election_id: str, region_id: str) -> str:
    return f"{election_id}.protocols.{region_id}.csv"


def write_history_files(
    election_id: str, out_dir: Path, *, seed: int = DEFAULT_SEED, by_region: bool = True
) -> list[Path]:
    """Write the declaration and the protocols, one file per region or (`by_region=False`) one file
    for the whole country; returns the paths, declaration first."""
    breakdown = build_history(election_id, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    declaration_path = out_dir / declaration_file_name(election_id)
    declaration_path.write_bytes(declaration_json(breakdown.declaration))
    paths = [declaration_path]
    list_ids = breakdown.declaration.list_ids
    protocols = breakdown.protocols()
    if not by_region:
        path = out_dir / protocol_file_name(election_id, "national")
        path.write_bytes(protocol_csv(protocols, list_ids))
        return [declaration_path, path]
    grouped: dict[str, list[ProtocolRow]] = {}
    for row in protocols:
        grouped.setdefault(row.region, []).append(row)
    for region in breakdown.declaration.regions:
        path = out_dir / protocol_file_name(election_id, region.region_id)
        path.write_bytes(protocol_csv(grouped.get(region.region_id, []), list_ids))
        paths.append(path)
    return paths


def national_totals_of(rows: Sequence[ProtocolRow], list_ids: Sequence[str]) -> dict[str, int]:
    """Sum protocols: registered, issued, cast, invalid, against all, then votes by list id."""
    sums = {
        "registered_voters": 0,
        "ballots_issued": 0,
        "ballots_cast": 0,
        "invalid_ballots": 0,
        "against_all": 0,
    }
    votes = [0] * len(list_ids)
    for row in rows:
        sums["registered_voters"] += row.registered_voters
        sums["ballots_issued"] += row.ballots_issued
        sums["ballots_cast"] += row.ballots_cast
        sums["invalid_ballots"] += row.invalid_ballots
        sums["against_all"] += row.against_all
        for i, count in enumerate(row.votes):
            votes[i] += count
    return {**sums, **dict(zip(list_ids, votes, strict=True))}
