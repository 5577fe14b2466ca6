"""OpenElections precinct files into the warehouse, through the raw archive and the event log.

Per file, in one transaction: `BatchReceived`; `ContestsDeclared` when the election, or a county or
contest of it, is new (the election is declared from the file itself); one `RowQuarantined` per row
that cannot be counted; one `ContestResultsReported` whose counted rows and pseudo-rows are stored in
`oe_results` and `oe_pseudo_rows` under its position (so its hash covers them). The same bytes again
are a duplicate; a row already reported by another file with the same figures adds nothing, with
other figures it is quarantined as a conflict, never applied.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.core.errors import InputError
from pipelines.core.paths import WarehousePaths
from pipelines.core.timestamps import utc_now
from pipelines.domain.event_types import ContestResultsReported, ContestsDeclared, DomainEvent
from pipelines.domain.events import BATCH_RECEIVED, ELECTION_DECLARED, batch_stream, canonical_json
from pipelines.gate.intake import IntakeFile, Refusal, read_intake_file
from pipelines.gate.openelections import (
    OpenElectionsFile,
    PseudoRow,
    SpellingVariant,
    VoteRow,
    parse_openelections_text,
    reported_total_mismatches,
    spelling_variants,
    text_line,
)
from pipelines.ingestion.batch_events import batch_receipt, row_quarantined, whole_file_refusal
from pipelines.ingestion.ingest import FileOutcome, Ingestor, IngestSummary, Status, collect_files
from pipelines.store.event_store import EventStore
from pipelines.store.migrations import first_row
from pipelines.store.projections import update_projections
from pipelines.store.queries import query
from pipelines.store.raw_archive import ArchivedFile, RawArchive

FILE_FORMAT = "openelections"
NAMED_MODES = ("early_voting", "election_day", "absentee", "provisional")
# OpenElections file names: YYYYMMDD__st__[special__]type__[county__]level.csv
_OE_NAME = re.compile(r"^(\d{4})(\d{2})(\d{2})__([a-z]{2})__")


def name_facts(file_name: str) -> tuple[str | None, str | None]:
    """State (upper case) and date (ISO) from an OpenElections file name, when it follows the convention."""
    match = _OE_NAME.match(file_name.lower())
    if match is None:
        return None, None
    year, month, day, state = match.groups()
    return state.upper(), f"{year}-{month}-{day}"


def _result_frame(election_id: str, rows: Sequence[VoteRow]) -> pd.DataFrame:
    modes = [dict(r.modes) for r in rows]
    others = [{k: v for k, v in m.items() if k not in NAMED_MODES} for m in modes]
    frame = pd.DataFrame(
        {
            "line": pd.Series([r.line for r in rows], dtype="int32"),
            "election_id": pd.Series([election_id] * len(rows), dtype="string"),
            "county": pd.Series([r.county for r in rows], dtype="string"),
            "precinct": pd.Series([r.precinct for r in rows], dtype="string"),
            "office": pd.Series([r.contest.office for r in rows], dtype="string"),
            "district": pd.Series([r.contest.district for r in rows], dtype="string"),
            "party": pd.Series([r.choice.party for r in rows], dtype="string"),
            "candidate": pd.Series([r.choice.candidate for r in rows], dtype="string"),
            "votes": pd.Series([r.votes for r in rows], dtype="int64"),
        }
    )
    for name in NAMED_MODES:
        frame[name] = pd.Series([m.get(name) for m in modes], dtype="Int64")
    frame["other_modes"] = pd.Series([canonical_json(o) if o else None for o in others], dtype="string")
    return frame


def _pseudo_frame(election_id: str, rows: Sequence[PseudoRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line": pd.Series([r.line for r in rows], dtype="int32"),
            "election_id": pd.Series([election_id] * len(rows), dtype="string"),
            "kind": pd.Series([r.kind for r in rows], dtype="string"),
            "county": pd.Series([r.county for r in rows], dtype="string"),
            "precinct": pd.Series([r.precinct for r in rows], dtype="string"),
            "office": pd.Series([r.contest.office for r in rows], dtype="string"),
            "district": pd.Series([r.contest.district for r in rows], dtype="string"),
            "label": pd.Series([r.label for r in rows], dtype="string"),
            "votes": pd.Series([r.votes for r in rows], dtype="Int64"),
        }
    )


def _quarantined(
    file_name: str, line: int, column: str, rule: str, value: str, message: str
) -> dict[str, Any]:
    """A RowQuarantined payload, shaped like the protocol path's so that proj_quarantine reads both."""
    return {
        "file_name": file_name,
        "row": line,
        "column": column,
        "rule": rule,
        "value": value,
        "message": message,
        "precinct_id": None,
    }


def _problem_line(q: dict[str, Any]) -> str:
    return (
        f"{q['file_name']} row {q['row']} column {q['column']!r}: {q['message']} "
        f"[rule: {q['rule']}] [value: {q['value']!r}]"
    )


@dataclass
class _Decided:
    """A parsed file checked against what the warehouse already holds for its election."""

    rows: pd.DataFrame  # new counted rows
    pseudo: pd.DataFrame  # new pseudo-rows
    duplicates: int
    quarantine: list[dict[str, Any]]


class OpenElectionsIngestor:
    """Ingests OpenElections files into one open warehouse."""

    def __init__(self, store: EventStore, paths: WarehousePaths) -> None:
        self.store = store
        self.archive = RawArchive(paths.archive)
        # Refusals before reading are the same for every format: one place decides them.
        self.refusals = Ingestor(store, paths)

    def ingest_file(
        self,
        source: IntakeFile | Path,
        *,
        election_id: str,
        received_at: datetime,
        recorded_at: datetime | None = None,
    ) -> tuple[FileOutcome, list[str]]:
        """Ingest one file; return its outcome and the lines a person should read about it. Its
        events are recorded at the moment the writer takes it (or at `recorded_at`, from a replay)."""
        data = read_intake_file(source, limit=self.refusals.read_limit)
        taken_at = recorded_at or utc_now()
        if isinstance(data, Refusal):
            return self.refusals.refuse_unread(data, election_id, received_at, taken_at=taken_at), []
        archived = self.archive.store(
            data,
            source.name,
            received_at,
            recorded_at=taken_at,
            options={"format": FILE_FORMAT, "election": election_id},
        )
        with self.store.recording_at(taken_at):
            return self._ingest_archived(archived, data, election_id, received_at)

    def _ingest_archived(
        self, archived: ArchivedFile, data: bytes, election_id: str, received_at: datetime
    ) -> tuple[FileOutcome, list[str]]:
        name = archived.original_name
        if self._received_before(archived.sha256):
            return FileOutcome(name, archived.sha256, "duplicate", election_id), []
        if self._is_protocol_election(election_id):
            return self._refuse_whole(
                archived,
                election_id,
                "election_format",
                f"election {election_id!r} was declared for protocol files; "
                "OpenElections files need an election of their own",
                received_at,
            ), []
        try:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(
                    "file is not UTF-8 text", file=name, row=text_line(data, exc.start), rule="encoding"
                ) from None
            parsed = parse_openelections_text(text, file=name)
        except InputError as exc:
            return self._refuse_whole(
                archived, election_id, exc.rule or "openelections", str(exc), received_at
            ), []
        decided = self._decide(parsed, election_id)
        quarantine = [
            _quarantined(name, p.line, p.column, p.rule, p.value, p.message)
            for p in parsed.problems
            if not p.counted
        ] + decided.quarantine
        quarantine.sort(key=lambda q: int(q["row"]))
        variants = self._office_variants(election_id, decided)
        anomalies = _flags(parsed)
        total = len(parsed.rows) + len(parsed.pseudo_rows) + sum(1 for p in parsed.problems if not p.counted)
        applied = len(decided.rows)
        events: list[DomainEvent] = [
            batch_receipt(
                archived,
                election_id,
                FILE_FORMAT,
                received_at,
                total=total,
                applied=applied,
                duplicate=decided.duplicates,
                quarantined=len(quarantine),
                anomalies=anomalies,
            )
        ]
        declaration = self._declaration(parsed, election_id, decided.rows, received_at, archived.sha256)
        if declaration is not None:
            events.append(declaration)
        events.extend(row_quarantined(archived, election_id, q, received_at) for q in quarantine)
        if applied or len(decided.pseudo):
            events.append(
                ContestResultsReported(
                    election_id=election_id,
                    occurred_at=received_at,
                    batch_id=archived.sha256,
                    file_name=name,
                    rows=applied,
                    pseudo_rows=len(decided.pseudo),
                    vote_modes=tuple(parsed.vote_modes),
                    office_variants=tuple(
                        {"likeness": v.likeness, "spellings": [list(s) for s in v.spellings]}
                        for v in variants
                    ),
                    oe_results=decided.rows,
                    oe_pseudo_rows=decided.pseudo,
                )
            )
        self._commit(events)
        status: Status = "applied"
        if quarantine:
            status = "quarantined" if not applied and not decided.duplicates else "partly quarantined"
        elif not applied and not len(decided.pseudo):
            status = "duplicate"
        outcome = FileOutcome(
            name,
            archived.sha256,
            status,
            election_id,
            total,
            applied,
            decided.duplicates,
            len(quarantine),
            [_problem_line(q) for q in quarantine],
        )
        return outcome, _report_lines(parsed, decided, variants, anomalies)

    # -- reading the warehouse -------------------------------------------------------------------

    def _received_before(self, batch_id: str) -> bool:
        """The same bytes already received as an OpenElections file (a protocol refusal is no reason)."""
        row = first_row(
            self.store.conn.execute(
                query("openelections_file_received"), [batch_stream(batch_id), BATCH_RECEIVED, FILE_FORMAT]
            )
        )
        return row is not None and int(row[0]) > 0

    def _is_protocol_election(self, election_id: str) -> bool:
        row = first_row(
            self.store.conn.execute(
                "SELECT count(*) FROM events WHERE event_type = ? AND election_id = ?",
                [ELECTION_DECLARED, election_id],
            )
        )
        return row is not None and int(row[0]) > 0

    def _decide(self, parsed: OpenElectionsFile, election_id: str) -> _Decided:
        conn = self.store.conn
        rows = _result_frame(election_id, parsed.rows)
        pseudo = _pseudo_frame(election_id, parsed.pseudo_rows)
        conn.register("oe_incoming", rows)
        try:
            known = conn.execute(query("openelections_rows_known"), [election_id]).fetchall()
        finally:
            conn.unregister("oe_incoming")
        conn.register("oe_incoming_pseudo", pseudo)
        try:
            seen_pseudo = {
                int(r[0])
                for r in conn.execute(query("openelections_pseudo_rows_known"), [election_id]).fetchall()
            }
        finally:
            conn.unregister("oe_incoming_pseudo")
        duplicates = {int(line) for line, is_same, *_ in known if is_same}
        by_line = {r.line: r for r in parsed.rows}
        quarantine = []
        for line, is_same, prior_votes, prior_line, prior_file in known:
            if is_same:
                continue
            row = by_line[int(line)]
            quarantine.append(
                _quarantined(
                    parsed.file,
                    row.line,
                    "votes",
                    "conflict",
                    str(row.votes),
                    f"{row.choice.candidate} in {row.contest.label()}, {row.county} precinct {row.precinct} "
                    f"was already reported with other figures ({prior_votes} votes, {prior_file} row "
                    f"{prior_line})",
                )
            )
        left_out = duplicates | {int(q["row"]) for q in quarantine}
        return _Decided(
            rows=rows[~rows["line"].isin(left_out)].reset_index(drop=True),
            pseudo=pseudo[~pseudo["line"].isin(seen_pseudo)].reset_index(drop=True),
            duplicates=len(duplicates),
            quarantine=quarantine,
        )

    def _declaration(
        self,
        parsed: OpenElectionsFile,
        election_id: str,
        rows: pd.DataFrame,
        received_at: datetime,
        batch_id: str,
    ) -> ContestsDeclared | None:
        """ContestsDeclared: the election when new, else only the counties and contests not seen."""
        conn = self.store.conn
        is_new = first_row(
            conn.execute("SELECT count(*) FROM proj_oe_elections WHERE election_id = ?", [election_id])
        ) == (0,)
        counties_known = {
            str(r[0])
            for r in conn.execute(
                "SELECT county FROM proj_oe_counties WHERE election_id = ?", [election_id]
            ).fetchall()
        }
        contests_known = {
            (str(o), str(d))
            for o, d in conn.execute(
                "SELECT office, district FROM proj_oe_contests WHERE election_id = ?", [election_id]
            ).fetchall()
        }
        counties = [c for c in dict.fromkeys(rows["county"].tolist()) if c not in counties_known]
        contests = [
            {"office": o, "district": d}
            for o, d in dict.fromkeys(zip(rows["office"].tolist(), rows["district"].tolist(), strict=True))
            if (o, d) not in contests_known
        ]
        if not is_new and not counties and not contests:
            return None
        state, date = name_facts(parsed.file)
        return ContestsDeclared(
            election_id=election_id,
            occurred_at=received_at,
            batch_id=batch_id,
            file_name=parsed.file,
            source=FILE_FORMAT,
            state=state,
            date=date,
            counties=tuple(counties),
            contests=tuple(contests),
        )

    def _office_variants(self, election_id: str, decided: _Decided) -> tuple[SpellingVariant, ...]:
        """Office spellings that look alike over the whole election once this file is in."""
        counts: Counter[str] = Counter()
        for office, n in self.store.conn.execute(
            query("openelections_office_counts"), {"e": election_id}
        ).fetchall():
            counts[str(office)] += int(n)
        counts.update(decided.rows["office"].tolist())
        counts.update(decided.pseudo["office"].tolist())
        return spelling_variants(counts.elements())

    # -- writing ---------------------------------------------------------------------------------

    def _refuse_whole(
        self, archived: ArchivedFile, election_id: str, rule: str, message: str, received_at: datetime
    ) -> FileOutcome:
        self._commit(whole_file_refusal(archived, election_id, FILE_FORMAT, rule, message, received_at))
        return FileOutcome(
            archived.original_name,
            archived.sha256,
            "quarantined",
            election_id,
            problems=[f"{archived.original_name}: {message} [rule: {rule}]"],
        )

    def _commit(self, events: Sequence[DomainEvent]) -> None:
        """Append the file's events (the results' rows go with their event) and move the projections."""
        with self.store.transaction():
            self.store.append(events)
            update_projections(self.store.conn)


def _flags(parsed: OpenElectionsFile) -> list[dict[str, Any]]:
    """Anomaly flags of the receipt: warnings on counted rows, county totals that disagree."""
    flags: list[dict[str, Any]] = [
        {"kind": p.rule, "precinct_id": None, "row": p.line, "detail": p.describe(parsed.file)}
        for p in parsed.problems
        if p.counted
    ]
    for mismatch in reported_total_mismatches(parsed):
        line = re.match(r"row (\d+):", mismatch)
        flags.append(
            {
                "kind": "reported total differs",
                "precinct_id": None,
                "row": int(line.group(1)) if line else None,
                "detail": f"{parsed.file} {mismatch}",
            }
        )
    return flags


def _report_lines(
    parsed: OpenElectionsFile,
    decided: _Decided,
    variants: Sequence[SpellingVariant],
    anomalies: Sequence[dict[str, Any]],
) -> list[str]:
    out = []
    if parsed.pseudo_rows:
        kinds = Counter(p.kind for p in parsed.pseudo_rows)
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        out.append(f"  kept apart, not counted: {len(parsed.pseudo_rows)} pseudo-rows ({listed})")
    for v in variants:
        spelled = " / ".join(f"{s!r} ({n} rows)" for s, n in v.spellings)
        out.append(f"  office spellings that look alike ({v.likeness}), reported, not merged: {spelled}")
    out.extend(f"  flagged: {a['detail']}" for a in anomalies)
    return out


def ingest_openelections(
    paths: Sequence[Path],
    *,
    warehouse: Path,
    election_id: str,
    received_at: datetime | None = None,
    wait_seconds: float = 300.0,
) -> IngestSummary:
    """Ingest OpenElections files or folders into one election of a warehouse, one transaction per file."""
    if not election_id or not election_id.strip() or election_id != election_id.strip():
        raise InputError("--election must name the election the files belong to", value=election_id)
    files = collect_files(paths)
    wpaths = WarehousePaths(warehouse)
    summary = IngestSummary()
    with EventStore.open_writer(wpaths, wait_seconds=wait_seconds) as store:
        ingestor = OpenElectionsIngestor(store, wpaths)
        for source in files:
            outcome, lines = ingestor.ingest_file(
                source, election_id=election_id, received_at=received_at or utc_now()
            )
            summary.files.append(outcome)
            if lines:
                summary.notes.append(f"{outcome.file_name}:")
                summary.notes.extend(lines)
        if files:  # an OpenElections run publishes nothing; the mark keeps the journal's runs apart
            ingestor.archive.mark_run_end(utc_now(), publish=False)
    return summary
