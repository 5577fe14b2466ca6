"""OpenElections precinct CSV files: a pure parser and aggregation, no warehouse.

Format: `county,precinct,office,district,party,candidate,votes` in any column order, plus optional
vote-mode columns (`early_voting`, `election_day`, `absentee`, `provisional`, ... any other column).
A contest is office + district; a choice is a candidate with party; counties are the regions.

Real files are hand-converted and carry defects, so nothing is guessed:
- pseudo-rows (registered voters, ballots cast, invalid ballots, over- and under-votes, contest totals,
  county totals) are kept apart and never counted;
- rows that cannot be counted as they stand (votes missing or not a whole number, a district missing
  where the office has districts elsewhere, the same choice twice in a precinct) are kept apart as
  problems naming line, column, rule and value;
- office spellings that look alike ("U.S Senate" / "U.S. Senate") are reported, never merged.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.errors import InputError

REQUIRED_COLUMNS = ("county", "precinct", "office", "district", "party", "candidate", "votes")

# Labels (after normalising case, dots and spaces) that name a figure of the ballot, not a choice.
_PSEUDO_LABELS = {
    "registered voters": "registered_voters",
    "registered": "registered_voters",
    "ballots cast": "ballots_cast",
    "total ballots cast": "ballots_cast",
    "ballots": "ballots_cast",
    "over votes": "over_votes",
    "overvotes": "over_votes",
    "over vote": "over_votes",
    "under votes": "under_votes",
    "undervotes": "under_votes",
    "under vote": "under_votes",
    "invalid ballots": "invalid_ballots",
    "rejected ballots": "invalid_ballots",
    "total": "contest_total",
    "totals": "contest_total",
    "total votes": "contest_total",
    "total votes cast": "contest_total",
}
_AGGREGATE_PRECINCTS = {"", "total", "totals", "county total", "county totals"}


@dataclass(frozen=True)
class Choice:
    candidate: str
    party: str


@dataclass(frozen=True)
class Contest:
    office: str
    district: str

    def label(self) -> str:
        return f"{self.office} ({self.district})" if self.district else self.office


@dataclass(frozen=True)
class VoteRow:
    """A counted row: votes of one choice in one precinct, with the vote modes when the file has them."""

    line: int
    county: str
    precinct: str
    contest: Contest
    choice: Choice
    votes: int
    modes: tuple[tuple[str, int | None], ...] = ()


@dataclass(frozen=True)
class PseudoRow:
    """A row that reports a figure of the ballot or an aggregate; kept apart, never counted."""

    line: int
    # registered_voters, ballots_cast, invalid_ballots, over_votes, under_votes, contest_total, county_total
    kind: str
    county: str
    precinct: str
    contest: Contest
    label: str
    votes: int | None


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    rule: str
    value: str
    message: str
    counted: bool  # True: a warning on a counted row; False: the row was kept apart

    def describe(self, file: str) -> str:
        state = "counted" if self.counted else "not counted"
        return (
            f"file {file}, row {self.line}, column {self.column!r}: {self.message} "
            f"[rule: {self.rule}] [value: {self.value!r}] ({state})"
        )


@dataclass(frozen=True)
class SpellingVariant:
    """Spellings that look like one office (or candidate); reported for a person to decide."""

    spellings: tuple[tuple[str, int], ...]  # (spelling, rows), most used first
    likeness: str  # "same letters" (differ only in case, dots, spaces) or "similar" (small edit distance)


@dataclass(frozen=True)
class ChoiceTotal:
    choice: Choice
    votes: int


@dataclass(frozen=True)
class ContestResult:
    contest: Contest
    ranking: tuple[ChoiceTotal, ...]  # most votes first; equal votes in file order
    winners: tuple[Choice, ...]  # more than one = a tie for first place

    @property
    def tied(self) -> bool:
        return len(self.winners) > 1

    @property
    def total_votes(self) -> int:
        return sum(c.votes for c in self.ranking)


@dataclass(frozen=True)
class OpenElectionsFile:
    file: str
    vote_modes: tuple[str, ...]
    rows: tuple[VoteRow, ...]
    pseudo_rows: tuple[PseudoRow, ...]
    problems: tuple[RowProblem, ...]
    office_variants: tuple[SpellingVariant, ...] = field(default=())

    @property
    def counties(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.county for r in self.rows))

    @property
    def contests(self) -> tuple[Contest, ...]:
        return tuple(dict.fromkeys(r.contest for r in self.rows))


def normalise_label(text: str) -> str:
    """Case, dots, hyphens and runs of spaces removed: for recognising labels, never for merging."""
    return re.sub(r"\s+", " ", re.sub(r"[.\-_]", " ", text.lower())).strip()


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _whole_number(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d+", text) else None


def parse_openelections(path: Path) -> OpenElectionsFile:
    """Read one OpenElections precinct file; a file that is not that format is an InputError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", file=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("file is not UTF-8 text", file=path.name, row=text_line(data, exc.start)) from None
    return parse_openelections_text(text, file=path.name)


def text_line(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def parse_openelections_text(text: str, *, file: str = "<text>") -> OpenElectionsFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise InputError("file is empty", file=file, rule="openelections header") from None
    except csv.Error as exc:
        raise InputError(f"header is not CSV: {exc}", file=file, row=1) from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputError(
            f"not an OpenElections precinct file: header lacks {', '.join(missing)}",
            file=file,
            row=1,
            column=missing[0],
            rule="openelections header",
            value=",".join(header),
        )
    index = {name: header.index(name) for name in REQUIRED_COLUMNS}
    modes = tuple(name for name in header if name not in REQUIRED_COLUMNS and name)

    candidates: list[VoteRow] = []
    pseudo: list[PseudoRow] = []
    problems: list[RowProblem] = []
    line = 1
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    RowProblem(
                        line,
                        "*",
                        "field count",
                        ",".join(cells),
                        f"{len(cells)} fields where the header has {len(header)}",
                        counted=False,
                    )
                )
                continue
            row = _classify(cells, index, header, modes, line, problems)
            if isinstance(row, PseudoRow):
                pseudo.append(row)
            elif row is not None:
                candidates.append(row)
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}", file=file, row=line + 1, rule="csv quoting") from None

    counted = _drop_uncountable(candidates, problems)
    return OpenElectionsFile(
        file=file,
        vote_modes=modes,
        rows=tuple(counted),
        pseudo_rows=tuple(pseudo),
        problems=tuple(sorted(problems, key=lambda p: p.line)),
        office_variants=spelling_variants(
            [r.contest.office for r in counted] + [p.contest.office for p in pseudo]
        ),
    )


def _classify(
    cells: Sequence[str],
    index: dict[str, int],
    header: Sequence[str],
    modes: Sequence[str],
    line: int,
    problems: list[RowProblem],
) -> VoteRow | PseudoRow | None:
    def cell(name: str) -> str:
        return cells[index[name]].strip()

    county, precinct, office, district = cell("county"), cell("precinct"), cell("office"), cell("district")
    party, candidate, votes_text = cell("party"), cell("candidate"), cell("votes")
    votes = _whole_number(votes_text)
    contest = Contest(office, district)

    pseudo_kind = (
        _PSEUDO_LABELS.get(normalise_label(office))
        or _PSEUDO_LABELS.get(normalise_label(candidate))
        or (_PSEUDO_LABELS.get(normalise_label(party)) if not candidate else None)
    )
    if pseudo_kind is None and normalise_label(precinct) in _AGGREGATE_PRECINCTS:
        pseudo_kind = "county_total"
    if pseudo_kind is not None:
        label = next(t for t in (candidate, party, office, precinct or "(empty precinct)") if t)
        return PseudoRow(line, pseudo_kind, county, precinct, contest, label, votes)

    if votes is None:
        problems.append(
            RowProblem(
                line,
                "votes",
                "votes are a whole number",
                votes_text,
                "votes missing" if not votes_text else "votes are not a whole number",
                counted=False,
            )
        )
        return None
    if not candidate:
        problems.append(
            RowProblem(line, "candidate", "choice named", "", "no candidate named", counted=False)
        )
        return None
    mode_values: list[tuple[str, int | None]] = []
    for name in modes:
        text = cells[header.index(name)].strip()
        value = _whole_number(text)
        if text and value is None:
            problems.append(
                RowProblem(
                    line, name, "vote mode is a whole number", text, "not a whole number", counted=True
                )
            )
        mode_values.append((name, value))
    known = [v for _, v in mode_values if v is not None]
    if mode_values and len(known) == len(mode_values) and sum(known) != votes:
        problems.append(
            RowProblem(
                line,
                "votes",
                "vote modes add up to votes",
                votes_text,
                f"vote modes sum to {sum(known)}",
                counted=True,
            )
        )
    return VoteRow(line, county, precinct, contest, Choice(candidate, party), votes, tuple(mode_values))


def _drop_uncountable(rows: list[VoteRow], problems: list[RowProblem]) -> list[VoteRow]:
    """Keep apart rows with a district missing where the office has districts, and repeated choices."""
    districted = {r.contest.office for r in rows if r.contest.district}
    seen: dict[tuple[str, str, Contest, Choice], int] = {}
    kept = []
    for row in rows:
        if not row.contest.district and row.contest.office in districted:
            elsewhere = sorted(
                {
                    r.contest.district
                    for r in rows
                    if r.contest.office == row.contest.office and r.choice == row.choice
                }
                - {""}
            )
            hint = f"; this candidate has district {', '.join(elsewhere)} in other rows" if elsewhere else ""
            problems.append(
                RowProblem(
                    row.line,
                    "district",
                    "district given where the office has districts",
                    "",
                    f"{row.contest.office} has districts elsewhere in the file{hint}",
                    counted=False,
                )
            )
            continue
        key = (row.county, row.precinct, row.contest, row.choice)
        if key in seen:
            problems.append(
                RowProblem(
                    row.line,
                    "candidate",
                    "one row per choice and precinct",
                    row.choice.candidate,
                    f"repeats row {seen[key]} for the same precinct, contest and choice",
                    counted=False,
                )
            )
            continue
        seen[key] = row.line
        kept.append(row)
    return kept


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def spelling_variants(names: Iterable[str]) -> tuple[SpellingVariant, ...]:
    """Spellings that look alike: the same letters and digits, or one or two edits apart."""
    counts: dict[str, int] = defaultdict(int)
    for name in names:
        counts[name] += 1
    by_letters: dict[str, list[str]] = defaultdict(list)
    for spelling in counts:
        by_letters[_compact(spelling)].append(spelling)

    def spelled(group: Iterable[str]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(((s, counts[s]) for s in group), key=lambda item: (-item[1], item[0])))

    variants = [SpellingVariant(spelled(g), "same letters") for g in by_letters.values() if len(g) > 1]
    keys = sorted(by_letters)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            limit = 1 if min(len(a), len(b)) < 8 else 2
            if abs(len(a) - len(b)) <= limit and _edit_distance(a, b) <= limit:
                variants.append(SpellingVariant(spelled(by_letters[a] + by_letters[b]), "similar"))
    return tuple(variants)


def candidate_variants(parsed: OpenElectionsFile) -> dict[Contest, tuple[SpellingVariant, ...]]:
    """Per contest, candidate spellings that look alike ("Donald J. Trump" / "Donald Trump")."""
    names: dict[Contest, list[str]] = defaultdict(list)
    for row in parsed.rows:
        names[row.contest].append(row.choice.candidate)
    found = {contest: spelling_variants(spellings) for contest, spellings in names.items()}
    return {contest: variants for contest, variants in found.items() if variants}


def contest_results(parsed: OpenElectionsFile) -> list[ContestResult]:
    """Plurality result of every contest (office + district, as spelled), over the counted rows."""
    totals: dict[Contest, dict[Choice, int]] = {}
    for row in parsed.rows:
        choices = totals.setdefault(row.contest, {})
        choices[row.choice] = choices.get(row.choice, 0) + row.votes
    results = []
    for contest, choices in totals.items():
        order = {choice: i for i, choice in enumerate(choices)}
        ranking = tuple(
            ChoiceTotal(choice, votes)
            for choice, votes in sorted(choices.items(), key=lambda item: (-item[1], order[item[0]]))
        )
        top = ranking[0].votes
        results.append(
            ContestResult(contest, ranking, tuple(c.choice for c in ranking if c.votes == top and top > 0))
        )
    return results


def county_totals(parsed: OpenElectionsFile) -> dict[tuple[str, Contest, Choice], int]:
    """Votes by county, contest and choice."""
    out: dict[tuple[str, Contest, Choice], int] = defaultdict(int)
    for row in parsed.rows:
        out[(row.county, row.contest, row.choice)] += row.votes
    return dict(out)


def state_totals(parsed: OpenElectionsFile) -> dict[tuple[Contest, Choice], int]:
    """Votes statewide by contest and choice."""
    out: dict[tuple[Contest, Choice], int] = defaultdict(int)
    for row in parsed.rows:
        out[(row.contest, row.choice)] += row.votes
    return dict(out)


def reported_total_mismatches(parsed: OpenElectionsFile) -> list[str]:
    """County-total pseudo-rows of a choice that disagree with the sum of that county's precinct rows."""
    computed = county_totals(parsed)
    out = []
    for pseudo in parsed.pseudo_rows:
        if pseudo.kind != "county_total" or pseudo.votes is None:
            continue
        matching = [
            votes
            for (county, contest, choice), votes in computed.items()
            if county == pseudo.county and contest == pseudo.contest and choice.candidate == pseudo.label
        ]
        if matching and sum(matching) != pseudo.votes:
            out.append(
                f"row {pseudo.line}: {pseudo.county} total for {pseudo.label} in {pseudo.contest.label()} "
                f"is {pseudo.votes}, precinct rows sum to {sum(matching)}"
            )
    return out
