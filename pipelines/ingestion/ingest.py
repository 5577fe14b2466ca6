"""Ingestion: received files -> raw archive -> validation -> events -> projections -> provisional seats.

The results files of one run are validated and appended together, in one transaction (their events and
the projections they move land together or not at all), as long as they can be decided apart: one
election, no precinct named by two of them (`Ingestor.take`). The log is the same as ingesting each
alone gives: each file's receipt and refused rows, then its protocols, at the same positions.

A file already received is a duplicate and adds nothing; a protocol that differs from one already
accepted for the same precinct and version is quarantined as a conflict, never applied.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from pipelines.core.errors import InputError, PipelineError, RulesCannotDecide
from pipelines.core.paths import WarehousePaths
from pipelines.core.progress import Progress, SilentProgress, progress
from pipelines.core.timestamps import utc_now
from pipelines.domain.election import (
    ElectionDeclaration,
    PartyList,
    Region,
    parse_declaration,
    read_named_file,
)
from pipelines.domain.event_types import BatchReceived, DomainEvent, ElectionDeclared, PrecinctAnnulled
from pipelines.domain.events import (
    BATCH_QUARANTINED,
    BATCH_RECEIVED,
    ELECTION_DECLARED,
    batch_stream,
    election_stream,
)
from pipelines.gate.gx_runtime import build_data_docs
from pipelines.gate.intake import (
    CHANGED_WHILE_READ,
    DECLARATION_SUFFIX,
    PRECINCTS_SUFFIX,
    IntakeFile,
    Refusal,
    in_arrival_order,
    max_file_bytes,
    read_intake_file,
    refusal_for,
    walk,
)
from pipelines.gate.native_layout import NativeLayout, layout_options
from pipelines.gate.native_table import NativeFile, native_protocol_table, precinct_ids_of, read_native
from pipelines.gate.protocol_format import FormatRejection, sniff_kind_of
from pipelines.gate.validation import (
    FileRejection,
    FileToValidate,
    ReportedProtocol,
    ValidationOutcome,
    ValidationPolicy,
    validate_files,
)
from pipelines.ingestion.batch_events import (
    batch_receipt,
    row_quarantined,
    unread_refusal,
    whole_file_refusal,
)
from pipelines.ingestion.protocol_batch import (
    TO_APPEND,
    FileToDecide,
    decide_protocols,
    named_precincts,
    row_problem,
)
from pipelines.publishing.publication import Publication, publish, write_publication_folder
from pipelines.publishing.publication_layout import CURRENT_PUBLICATION_FORMAT
from pipelines.rules.rule_profiles import (
    RuleProfile,
    is_profile_id,
    load_profile,
    parse_profile,
    profile_data,
)
from pipelines.store.certification import Certification, certification_in_force
from pipelines.store.event_store import EventStore, FileAppend
from pipelines.store.migrations import first_row
from pipelines.store.projections import update_projections
from pipelines.store.queries import query
from pipelines.store.raw_archive import ArchivedFile, RawArchive
from pipelines.store.rules_content import embedded_rules

# Receipt meta of a rule profile file a declaration names: archived as received, never ingested alone.
PROFILE_MAX_BYTES = 1 << 20  # a profile is a page of YAML; anything larger is not one
# "left": a claimed inbox file that changed while it was read, put back for the next run.
Status = Literal["applied", "partly quarantined", "quarantined", "duplicate", "left"]
# The rule of results sent to a certified election: refused whole, each row listed, nothing applied.
ELECTION_CERTIFIED = "election_certified"
# Refusals that a later event can lift (a declaration, a revoked certification): the same file sent
# again is looked at again rather than counted as a duplicate.
_REFUSALS_THAT_MAY_LIFT = frozenset({"election_declared", ELECTION_CERTIFIED})


@dataclass
class FileOutcome:
    file_name: str
    batch_id: str
    status: Status
    election_id: str | None = None
    rows_total: int = 0
    rows_applied: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    problems: list[str] = field(default_factory=list)  # one line per quarantined file or row
    # Refused before a byte was read (a link, a special file, too large): nothing was archived.
    refused_unread: Refusal | None = None
    source: IntakeFile | None = None  # where it was read from

    def line(self) -> str:
        counts = ""
        if self.rows_total:
            counts = f"{self.rows_applied} applied, {self.rows_duplicate} duplicate, "
            counts += f"{self.rows_quarantined} quarantined"
        return f"{self.status:<18} {self.file_name}" + (
            f" ({self.rows_total} rows: {counts})" if counts else ""
        )


@dataclass
class IngestSummary:
    files: list[FileOutcome] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    def all_accepted(self) -> bool:
        """Every file applied or a duplicate: nothing, not even a row, was quarantined."""
        return all(f.status in ("applied", "duplicate", "left") for f in self.files)

    def lines(self) -> list[str]:
        out = [f.line() for f in self.files]
        for f in self.files:
            out.extend(f"  quarantined: {p}" for p in f.problems)
        out.extend(
            f"published {p.status} seat table {p.publication_id} "
            f"(log position {p.based_on_position}, sha256 {p.table_sha256[:12]})"
            for p in self.publications
        )
        out.extend(self.notes)
        accepted = self.count("applied") + self.count("partly quarantined")
        left = f", {self.count('left')} left for the next run" if self.count("left") else ""
        out.append(
            f"files: {accepted} accepted, {self.count('duplicate')} duplicate, "
            f"{self.count('quarantined')} quarantined{left}"
        )
        return out


# A run's results files wait to be validated and appended together up to these many rows (as far as
# their precinct ids can be read) or files: GX's frames of a group stay well under the memory the
# benchmark allows at a million precincts, and one commit stays a few seconds of work.
WAITING_ROWS = 150_000
WAITING_FILES = 1_000


@dataclass(frozen=True)
class ResultsFile:
    """A received results file of a declared election, archived, waiting to be ingested."""

    archived: ArchivedFile
    election: ElectionDeclaration
    received_at: datetime
    taken_at: datetime  # when the writer took it: its events' recorded_at
    precincts: frozenset[str]  # the precinct ids it names, as far as they can be read


@dataclass
class _GroupInGate:
    """Results files whose gate runs in a thread of its own while the writer commits the group before.

    `validated_ahead`: set when the gate ran before the group before it committed; once that group
    has, the precinct ids its gate accepted (a group whose rows name one of them is gated again).
    `accepted`: the precinct ids of the rows this group's gate accepted."""

    files: Sequence[ResultsFile]
    certified: Certification | None
    outcomes: Future[list[ValidationOutcome]]
    validated_ahead: frozenset[str] | None = None
    accepted: frozenset[str] = frozenset()


def name_one_precinct(files: Iterable[ResultsFile], others: Iterable[ResultsFile]) -> bool:
    """Whether a precinct id sniffed in `files` is also sniffed in `others`."""
    named = frozenset().union(*(f.precincts for f in files))
    return any(not named.isdisjoint(f.precincts) for f in others)


def collect_files(paths: Iterable[Path]) -> list[IntakeFile]:
    """Files to ingest, declarations first, then by arrival (modification time) and name.

    A named file is taken as named (a link or special file is refused when read); folders are walked
    recursively without following links, skipping what is not data (`pipelines.gate.intake.is_data_name`),
    hidden folders and a top-level `processed/` and `refused/`. Nothing is read or followed here.
    """
    found: list[IntakeFile] = []
    for path in paths:
        try:
            seen = os.lstat(path)
        except FileNotFoundError:
            raise InputError("no such file or folder", file=str(path)) from None
        if stat.S_ISDIR(seen.st_mode):
            found.extend(walk(path))
        else:
            found.append(IntakeFile.named(path))

    return in_arrival_order(dict.fromkeys(found))


def sniff_election_id(data: bytes) -> str | None:
    """The election a protocol file names in its first data row, if it can be read at all."""
    try:
        text = data[:65536].decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        first = next(reader)
        return first[header.index("election_id")].strip() or None
    except (UnicodeDecodeError, StopIteration, ValueError, IndexError, csv.Error):
        return None


def sniff_precinct_ids(data: bytes) -> list[str]:
    """The precinct ids a protocol file names, as far as it can be read (validation says the rest)."""
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            convert_options=pa_csv.ConvertOptions(
                include_columns=["precinct_id"], column_types={"precinct_id": pa.string()}
            ),
        )
        return [str(p).strip() for p in table.column("precinct_id").to_pylist() if p is not None]
    except (pa.ArrowException, KeyError):
        pass  # quotes across lines, ragged rows...: the tolerant reader below
    try:
        text = data.decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        column = header.index("precinct_id")
        return [row[column].strip() for row in reader if len(row) > column]
    except (UnicodeDecodeError, StopIteration, ValueError, csv.Error):
        return []


class Ingestor:
    """Ingests files into one open warehouse; keeps per-run caches of declared elections."""

    def __init__(
        self,
        store: EventStore,
        paths: WarehousePaths,
        *,
        policy: ValidationPolicy | None = None,
        leave_changed: bool = False,
        layout: NativeLayout | None = None,
    ) -> None:
        self.store = store
        # Results files are a commission's own CSV read through this layout (docs/layouts.md).
        self.layout = layout
        # The inbox puts a file that changed while read back for the next run; elsewhere it is refused.
        self.leave_changed = leave_changed
        self.paths = paths
        self.archive = RawArchive(paths.archive)
        self.policy = policy or ValidationPolicy()
        self.read_limit: int | None = None  # intake's size limit; a replay reads what was accepted
        self._elections: dict[str, ElectionDeclaration] = {}
        self._waiting: list[ResultsFile] = []
        # The precincts the waiting files name, together: a file joins them only if it names none
        # (one set lookup per precinct, not one intersection per waiting file).
        self._waiting_named: set[str] = set()
        # Native files read through the layout (by the fit check, or when their precincts were
        # sniffed), by the SHA-256 of their bytes, under which the archive stores them: the sniff and
        # the gate's translation take them from here instead of reading the bytes again.
        self.natives: dict[str, NativeFile] = {}
        self._in_gate: _GroupInGate | None = None
        self.validated_files = 0

    # -- state lookups -------------------------------------------------------------------------

    def declared(self, election_id: str) -> ElectionDeclaration | None:
        """The declared election without its precincts: a file needs only the ones it names
        (`named_precincts`), and reading a million back per run would cost more than the file."""
        if election_id in self._elections:
            return self._elections[election_id]
        found = self.store.typed_events(types=[ELECTION_DECLARED], election_id=election_id)
        if not found:
            return None
        declared = found[0]
        assert isinstance(declared, ElectionDeclared)
        declaration = ElectionDeclaration(
            election_id=election_id,
            name=declared.name,
            date=declared.date,
            rule_profile=declared.rule_profile,
            lists=tuple(PartyList(**p) for p in declared.lists),
            regions=tuple(Region(**r) for r in declared.regions),
            precincts=(),
            against_all_on_ballot=declared.against_all_on_ballot,
            synthetic=declared.synthetic,
            source_note=declared.source_note,
        )
        self._elections[election_id] = declaration
        return declaration

    def _annulled(self, election_id: str) -> set[str]:
        rows = self.store.conn.execute(
            "SELECT precinct_id FROM proj_annulments WHERE election_id = ?", [election_id]
        ).fetchall()
        return {str(r[0]) for r in rows}

    def _previous_receipt(self, batch_id: str) -> dict[str, Any] | None:
        return last_event_payload(self.store, batch_stream(batch_id), BATCH_RECEIVED)

    def _previous_refusal(self, batch_id: str) -> dict[str, Any] | None:
        """The last BatchQuarantined of a file: its `rule` and `message`."""
        return last_event_payload(self.store, batch_stream(batch_id), BATCH_QUARANTINED)

    # -- one file ------------------------------------------------------------------------------

    def journal_options(self, election_hint: str | None) -> dict[str, Any]:
        """What shaped this file's ingest besides its bytes, journaled with its receipt for replay."""
        options = {"format": "protocol", "election": election_hint, "policy": self.policy.to_options()}
        return options if self.layout is None else {**options, **layout_options(self.layout)}

    def file_to_validate(
        self, file: ResultsFile, judged_by: ElectionDeclaration, reported: Mapping[str, ReportedProtocol]
    ) -> FileToValidate:
        """A results file for the gate: a native file as the protocol table its layout reads."""
        archived = file.archived
        table = None
        if self.layout is not None:
            native = self.natives.pop(archived.sha256, None)
            table = native_protocol_table(archived.path, self.layout, judged_by, native)
        return FileToValidate(archived.path, archived.original_name, judged_by, reported, table)

    def precinct_ids(self, data: bytes, sha256: str) -> frozenset[str]:
        """The precinct ids a results file names, as far as they can be read."""
        if self.layout is None:
            return frozenset(sniff_precinct_ids(data))
        native = self.natives.get(sha256) or read_native(data, self.layout)
        if isinstance(native, FormatRejection):
            return frozenset()
        self.natives[sha256] = native
        return frozenset(precinct_ids_of(native))

    def ingest_file(
        self,
        source: IntakeFile | Path,
        *,
        election_hint: str | None = None,
        received_at: datetime,
        recorded_at: datetime | None = None,
    ) -> FileOutcome:
        """Ingest one file on its own, in its own commit(s) (files taken before are finished first)."""
        outcomes = self.take(
            source, election_hint=election_hint, received_at=received_at, recorded_at=recorded_at
        )
        outcomes.extend(self.finish())
        return outcomes[-1]

    def take(
        self,
        source: IntakeFile | Path,
        *,
        election_hint: str | None = None,
        received_at: datetime,
        recorded_at: datetime | None = None,
    ) -> list[FileOutcome]:
        """Take one file, read only after intake's look (`pipelines.gate.intake`), and return the
        outcomes this finished, in the order the files were taken: results files of one election
        wait (`ResultsFile`) to be validated and appended together, in one commit, by `finish` or
        by the first file that cannot join them. Its events are recorded at the moment the writer
        takes it (or at `recorded_at`, which a replay passes back), journaled with its receipt
        before any commit."""
        if isinstance(source, Path):
            source = IntakeFile.named(source)
        data = read_intake_file(source, limit=self.read_limit)
        taken_at = recorded_at or utc_now()
        if isinstance(data, Refusal):
            if data.rule == CHANGED_WHILE_READ and self.leave_changed:
                return [FileOutcome(data.name, data.batch_id, "left", election_hint)]
            finished = self.finish()
            return [*finished, self.refuse_unread(data, election_hint, received_at, taken_at=taken_at)]
        archived = self.archive.store(
            data,
            source.name,
            received_at,
            recorded_at=taken_at,
            options=self.journal_options(election_hint),
        )
        waiting = self._joins_waiting(archived, data, source, election_hint, received_at, taken_at)
        if waiting is not None:
            finished = self._hand_over() if not self._may_join(waiting) else []
            self._waiting.append(waiting)
            self._waiting_named.update(waiting.precincts)
            return finished
        finished = self.finish()
        with self.store.recording_at(taken_at):
            finished.append(self._ingest_archived(archived, data, source, election_hint, received_at))
        return finished

    def finish(self) -> list[FileOutcome]:
        """Validate and append the waiting results files, together, after the group in the gate;
        their outcomes in order."""
        finished = self._hand_over()
        in_gate, self._in_gate = self._in_gate, None
        return [*finished, *(self._commit_group(in_gate) if in_gate else [])]

    def _hand_over(self) -> list[FileOutcome]:
        """The waiting files go into the gate, and the group in the gate before them is committed
        meanwhile (GX is Python, the commit mostly DuckDB, which lets the GIL go). Their gate runs
        ahead only when the files name none of that group's precincts: its gate looks up the
        protocols in force of the precincts it names, which that group's commit could change."""
        waiting, self._waiting = self._waiting, []
        self._waiting_named = set()
        before, self._in_gate = self._in_gate, None
        if not waiting:
            return self._commit_group(before) if before else []
        if before is None:
            self._in_gate = self._start_gate(waiting)
            return []
        if name_one_precinct(before.files, waiting):
            finished = self._commit_group(before)
            self._in_gate = self._start_gate(waiting)
            return finished
        ahead = self._start_gate(waiting)
        self._in_gate = ahead
        finished = self._commit_group(before)
        ahead.validated_ahead = before.accepted
        return finished

    def _joins_waiting(
        self,
        archived: ArchivedFile,
        data: bytes,
        source: IntakeFile,
        election_hint: str | None,
        received_at: datetime,
        taken_at: datetime,
    ) -> ResultsFile | None:
        """The file as a results file that may wait for others, or None when it must be ingested on
        its own: a declaration, a file received before, a results file of an election that is not
        declared or is certified, an annulment file (its events write precincts' streams)."""
        name = source.name
        taken_before = [*self._waiting, *(self._in_gate.files if self._in_gate else ())]
        if name.endswith(DECLARATION_SUFFIX) or any(
            w.archived.sha256 == archived.sha256 for w in taken_before
        ):
            return None
        if self._previous_receipt(archived.sha256) is not None:
            return None
        election_id = election_hint or sniff_election_id(data)
        election = self.declared(election_id) if election_id else None
        if election is None or sniff_kind_of(data) != "protocol":
            return None
        # Files waiting for this election were looked at already: nothing certifies while this writer runs.
        looked_at = bool(self._waiting) and self._waiting[0].election.election_id == election.election_id
        if not looked_at and certification_in_force(self.store.conn, election.election_id) is not None:
            return None
        return ResultsFile(
            archived, election, received_at, taken_at, self.precinct_ids(data, archived.sha256)
        )

    def _may_join(self, file: ResultsFile) -> bool:
        """Whether `file` may be validated and appended with the files waiting: the same election,
        no precinct named twice (each row is decided against the log alone), within the rows cap."""
        if not self._waiting:
            return True
        if self._waiting[0].election.election_id != file.election.election_id:
            return False
        rows = sum(len(w.precincts) for w in self._waiting)
        if rows + len(file.precincts) > WAITING_ROWS or len(self._waiting) >= WAITING_FILES:
            return False
        return self._waiting_named.isdisjoint(file.precincts)

    def _ingest_archived(
        self,
        archived: ArchivedFile,
        data: bytes,
        source: IntakeFile,
        election_hint: str | None,
        received_at: datetime,
    ) -> FileOutcome:
        name = source.name
        previous = self._previous_receipt(archived.sha256)
        is_declaration = name.endswith(DECLARATION_SUFFIX)
        refused_for: str | None = None
        refusal_event: dict[str, Any] | None = None
        if previous is not None:
            refusal_event = self._previous_refusal(archived.sha256) if previous["quarantined_whole"] else None
            refused_for = None if refusal_event is None else str(refusal_event["rule"])
            # A file refused only because its election was not declared yet, or was certified, is
            # worth another look: the election may have been declared, the certification revoked. So
            # is a refused declaration, whose profile or precincts beside it may have been put right.
            retry = refused_for in _REFUSALS_THAT_MAY_LIFT or (is_declaration and refused_for is not None)
            if not retry:
                return FileOutcome(name, archived.sha256, "duplicate", previous.get("election_id"))
        if is_declaration:
            refusal = None if refusal_event is None else str(refusal_event["message"])
            return self._ingest_declaration(archived, data, received_at, source.references, refusal)
        election_id = election_hint or sniff_election_id(data)
        election = self.declared(election_id) if election_id else None
        if election is None:
            if previous is not None:  # still undeclared: the same refusal again adds nothing
                return FileOutcome(name, archived.sha256, "duplicate", election_id)
            reason = (
                f"election {election_id!r} is not declared: send its {DECLARATION_SUFFIX} file first"
                if election_id
                else "the file names no election (no readable election_id column)"
            )
            return self._refuse_whole(
                archived, election_id or "unknown", "election_declared", reason, received_at
            )
        if refused_for == ELECTION_CERTIFIED and (
            certification_in_force(self.store.conn, election.election_id) is not None
        ):  # still certified: the same refusal again adds nothing
            return FileOutcome(name, archived.sha256, "duplicate", election_id)
        taken_at = self.store.recording_time()
        precincts = self.precinct_ids(data, archived.sha256)
        return self._ingest_results([ResultsFile(archived, election, received_at, taken_at, precincts)])[0]

    def refuse_unread(
        self, refusal: Refusal, election_id: str | None, received_at: datetime, *, taken_at: datetime
    ) -> FileOutcome:
        """Quarantine a path refused before reading, whatever its format: one BatchQuarantined naming
        what was seen of it (its content is neither read nor archived). The same path seen again adds
        nothing."""
        # Nothing archived, so the refusal itself is journaled: a replay records it the same way.
        options = unread_refusal_options(refusal, election_id, received_at)
        self.archive.record_action(REFUSE_UNREAD, taken_at, options)
        with self.store.recording_at(taken_at):
            record_unread_refusal(self.store, refusal, election_id, received_at)
        return FileOutcome(
            refusal.name,
            refusal.batch_id,
            "quarantined",
            election_id,
            problems=[f"{refusal.name}: {refusal.message} [rule: {refusal.rule}]"],
            refused_unread=refusal,
        )

    def _refuse_whole(
        self,
        archived: ArchivedFile,
        election_id: str,
        rule: str,
        message: str,
        received_at: datetime,
        file_format: str = "unknown",
        *,
        rows_total: int = 0,
        row_problems: Sequence[dict[str, Any]] = (),
    ) -> FileOutcome:
        """Quarantine a file whole; the rows that made it so (whole-file policy) are kept with it."""
        self._commit(
            whole_file_refusal(
                archived,
                election_id,
                file_format,
                rule,
                message,
                received_at,
                rows_total=rows_total,
                row_problems=row_problems,
            )
        )
        return _refusal_outcome(archived, election_id, rule, message, rows_total, row_problems)

    def noting_layout(self, events: Sequence[DomainEvent]) -> list[DomainEvent]:
        """The events, with the layout in the receipt of a results file read through one."""
        if self.layout is None:
            return list(events)
        content, sha256 = dict(self.layout.content), self.layout.sha256
        return [
            dataclasses.replace(e, layout=content, layout_sha256=sha256)
            if isinstance(e, BatchReceived) and e.file_format != "election-declaration"
            else e
            for e in events
        ]

    def _commit(self, events: Sequence[DomainEvent]) -> None:
        events = self.noting_layout(events)
        with self.store.transaction():
            self.store.append(events)
            update_projections(self.store.conn)

    def _declared_rules(
        self, reference: str, folder: Path, declaration: str, declaration_sha: str, received_at: datetime
    ) -> tuple[RuleProfile, str | None]:
        """The profile a declaration names and, when it is a file, the sha256 it was archived under.

        A shipped id reads schemas/rules/; a path is read inside the declaration's folder and kept in
        the raw archive as received (a sidecar, like the precincts CSV) before it is parsed, so that
        even a refused profile is kept and a replay finds it where the declaration names it."""
        if is_profile_id(reference):
            return load_profile(reference), None
        data = read_named_file(
            folder, reference, declaration=declaration, column="rule_profile", limit=PROFILE_MAX_BYTES
        )
        relative = PurePosixPath(reference).as_posix()
        archived = self.archive.store(
            data,
            relative,
            received_at,
            recorded_at=self.store.recording_time(),
            options={"sidecar_of": declaration_sha, "path": relative},
        )
        return parse_profile(profile_data(data, file=relative), file=relative), archived.sha256

    def _ingest_declaration(
        self,
        archived: ArchivedFile,
        data: bytes,
        received_at: datetime,
        folder: Path,
        previous_refusal: str | None = None,
    ) -> FileOutcome:
        name = archived.original_name
        raw: Any = None
        try:
            try:
                raw = json.loads(data.decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise InputError("declaration is not UTF-8 text", file=name, rule="encoding") from None
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"not valid JSON: {exc.msg}", file=name, row=exc.lineno, rule="json"
                ) from None
            _refuse_linked_sidecar(raw, folder, name)
            declaration = parse_declaration(raw, file=name, base_dir=folder)
            profile, profile_sha = self._declared_rules(
                declaration.rule_profile, folder, name, archived.sha256, received_at
            )
        except InputError as exc:
            election_id = raw.get("election_id") if isinstance(raw, dict) else None
            if previous_refusal == str(exc):  # sent again, refused again for the same reason
                return FileOutcome(name, archived.sha256, "duplicate", str(election_id or "unknown"))
            return self._refuse_whole(
                archived,
                str(election_id or "unknown"),
                exc.rule or "declaration",
                str(exc),
                received_at,
                "election-declaration",
            )
        sidecar_sha: str | None = None
        if isinstance(raw, dict) and "precincts_csv" in raw:
            # The precinct list beside the declaration is part of what was received: archive it too.
            sidecar = read_intake_file(folder / str(raw["precincts_csv"]))
            if isinstance(sidecar, Refusal):
                return self._refuse_whole(
                    archived,
                    declaration.election_id,
                    sidecar.rule,
                    f"precinct list {sidecar.name}: {sidecar.message}",
                    received_at,
                    "election-declaration",
                )
            sidecar_sha = self.archive.store(
                sidecar,
                Path(str(raw["precincts_csv"])).name,
                received_at,
                recorded_at=self.store.recording_time(),
                options={"sidecar_of": archived.sha256, "path": str(raw["precincts_csv"])},
            ).sha256
        taken = first_row(
            self.store.conn.execute(
                "SELECT count(*) FROM events WHERE stream_id = ?", [election_stream(declaration.election_id)]
            )
        )
        if taken is not None and int(taken[0]) > 0:  # declared here, or an OpenElections election
            return self._refuse_whole(
                archived,
                declaration.election_id,
                "already_declared",
                f"election {declaration.election_id!r} is already declared with different content; "
                "a declaration cannot be changed once results may depend on it",
                received_at,
                "election-declaration",
            )
        described = declaration.to_json_dict(include_precincts=False)
        described["lists"], described["regions"] = tuple(described["lists"]), tuple(described["regions"])
        events = [
            batch_receipt(archived, declaration.election_id, "election-declaration", received_at),
            ElectionDeclared(
                occurred_at=received_at,
                batch_id=archived.sha256,
                **described,
                file_name=name,
                **embedded_rules(profile),
                rule_profile_file_sha256=profile_sha,
                precincts_csv_sha256=sidecar_sha,
                precincts=declaration.precinct_table(),
            ),
        ]
        self._commit(events)
        self._elections[declaration.election_id] = declaration
        return FileOutcome(name, archived.sha256, "applied", declaration.election_id)

    def _ingest_results(self, files: Sequence[ResultsFile]) -> list[FileOutcome]:
        """Validate results files of one election together and append what they bring in one commit,
        each file's events in the order it alone would append them (`EventStore.append_files`)."""
        return self._commit_group(self._start_gate(files))

    def _start_gate(self, files: Sequence[ResultsFile]) -> _GroupInGate:
        """Look up what the gate needs (in this thread: the connection is the writer's) and start
        validating the files together in a thread of their own."""
        election = files[0].election
        eid = election.election_id
        conn = self.store.conn
        certified = certification_in_force(conn, eid)
        named = list(set().union(*(f.precincts for f in files)))
        declared, reported = named_precincts(conn, eid, named)
        judged_by = election.with_precincts(declared)
        self.validated_files += len(files)
        gate = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate")
        outcomes = gate.submit(
            validate_files,
            [self.file_to_validate(f, judged_by, reported) for f in files],
            policy=self.policy,
            data_docs_dir=self.paths.data_docs,
        )
        gate.shutdown(wait=False)  # its one task runs on; the thread ends with it
        return _GroupInGate(files, certified, outcomes)

    def _commit_group(self, group: _GroupInGate) -> list[FileOutcome]:
        """Wait for the group's gate, decide its rows and append what they bring, in one commit."""
        if len(group.files) == 1:
            return self._ingest_together(group, SilentProgress())
        # The files were counted as they were taken; the gate and the commit are the long part.
        with progress(f"gate and commit of {len(group.files)} files", 3, unit="step") as steps:
            return self._ingest_together(group, steps)

    def _ingest_together(self, group: _GroupInGate, steps: Progress) -> list[FileOutcome]:
        files, certified = group.files, group.certified
        election = files[0].election
        eid = election.election_id
        conn = self.store.conn
        outcomes = group.outcomes.result()
        steps.advance()
        accepted = [o.accepted["precinct_id"] for o in outcomes if o.kind == "protocol"]
        group.accepted = frozenset().union(*(map(str, a) for a in accepted))
        judged = group.accepted | {r.precinct_id for o in outcomes for r in o.rejections if r.precinct_id}
        if group.validated_ahead is not None and not judged.isdisjoint(group.validated_ahead):
            # Sniffing missed a precinct the group before named: its gate saw the log before that
            # group's commit. Gated again now.
            return self._commit_group(self._start_gate(files))
        if len(accepted) > 1 and pd.concat(accepted, ignore_index=True).duplicated().any():
            # Sniffing missed a precinct two files name: decide them one after the other.
            return [outcome for f in files for outcome in self._ingest_results([f])]
        if len(files) == 1 and (certified is not None or outcomes[0].kind == "annulment"):
            with self.store.recording_at(files[0].taken_at):
                return [self._ingest_alone(files[0], outcomes[0], certified)]
        parts: list[FileAppend] = []
        results: list[FileOutcome] = []
        quarantines = [
            _validation_problems(f.archived.original_name, o) for f, o in zip(files, outcomes, strict=True)
        ]
        # positions in `files` of the files whose protocols are decided
        to_decide = [n for n, o in enumerate(outcomes) if o.file_rejection is None]
        decided = (
            decide_protocols(
                conn,
                [FileToDecide(files[n].archived.original_name, outcomes[n].accepted) for n in to_decide],
                election_id=eid,
                list_ids=election.list_ids,
            )
            if to_decide
            else []
        )
        decisions = dict(zip(to_decide, decided, strict=True))
        steps.advance()
        withheld: list[int] = []
        for number, (file, outcome) in enumerate(zip(files, outcomes, strict=True)):
            if outcome.file_rejection is not None:
                events, result = self._whole_refusal(
                    file, outcome.file_rejection, outcome, quarantines[number]
                )
                parts.append(FileAppend(events, file.received_at, file.taken_at, file.archived.sha256))
                results.append(result)
                continue
            decision = decisions[number]
            quarantine = quarantines[number] + decision.problems
            applied = decision.applied
            if self.policy.mode == "file" and quarantine:
                # Whole-file policy: one bad row refuses the file; its rows are still listed with reasons.
                applied = 0
            if not applied:
                withheld.append(to_decide.index(number))
            events, result = _results_events(file, outcome, quarantine, applied, decision.duplicates)
            parts.append(FileAppend(events, file.received_at, file.taken_at, file.archived.sha256))
            results.append(result)
        if withheld:
            conn.execute("DELETE FROM _decided WHERE list_contains($files, file_no)", {"files": withheld})
        with self.store.transaction():
            self.store.append_files(
                [dataclasses.replace(p, events=self.noting_layout(p.events)) for p in parts],
                TO_APPEND if decisions else None,
                list_ids=election.list_ids,
                election_id=eid,
            )
            update_projections(conn)
        steps.advance()
        return results

    def _whole_refusal(
        self,
        file: ResultsFile,
        rejection: FileRejection,
        outcome: ValidationOutcome,
        quarantine: Sequence[dict[str, Any]],
    ) -> tuple[list[DomainEvent], FileOutcome]:
        """The events and outcome of a results file the gate refused whole."""
        archived = file.archived
        events: list[DomainEvent] = [
            *whole_file_refusal(
                archived,
                file.election.election_id,
                outcome.kind,
                rejection.rule,
                rejection.message,
                file.received_at,
                rows_total=outcome.rows_read,
                row_problems=quarantine,
            )
        ]
        return events, _refusal_outcome(
            archived,
            file.election.election_id,
            rejection.rule,
            rejection.message,
            outcome.rows_read,
            quarantine,
        )

    def _ingest_alone(
        self, file: ResultsFile, outcome: ValidationOutcome, certified: Certification | None
    ) -> FileOutcome:
        """A results file sent to a certified election (refused whole), or a file of annulments."""
        archived, received_at = file.archived, file.received_at
        eid = file.election.election_id
        quarantine = _validation_problems(archived.original_name, outcome)
        if certified is not None:
            return self._refuse_certified(archived, certified, outcome, quarantine, received_at)
        if outcome.file_rejection is not None:
            rejection = outcome.file_rejection
            return self._refuse_whole(
                archived,
                eid,
                rejection.rule,
                rejection.message,
                received_at,
                outcome.kind,
                rows_total=outcome.rows_read,
                row_problems=quarantine,
            )
        annulments: list[DomainEvent] = []
        annulled = self._annulled(eid)
        duplicates = 0
        for rec in outcome.accepted.to_dict("records"):
            event = _decide_annulment(archived, eid, received_at, annulled, rec)
            annulments.extend([event] if event is not None else [])
            duplicates += event is None
        if self.policy.mode == "file" and quarantine:
            annulments = []
        events, result = _results_events(file, outcome, quarantine, len(annulments), duplicates)
        self._commit([*events, *annulments])
        return result

    def _refuse_certified(
        self,
        archived: ArchivedFile,
        certification: Certification,
        outcome: ValidationOutcome,
        invalid: Sequence[dict[str, Any]],
        received_at: datetime,
    ) -> FileOutcome:
        """Certified means final: the file is refused whole, archived and receipted, and each of its
        rows is listed as not applied (with its own problems too, where validation found some)."""
        refused = [
            *_certified_rows(archived.original_name, certification, outcome),
            *invalid,
        ]
        refused.sort(key=lambda q: int(q["row"]))  # stable: a row's certification line comes first
        message = certification.describe()
        if outcome.file_rejection is not None:
            message += f"; the file was also refused on its own: {outcome.file_rejection.message}"
        return self._refuse_whole(
            archived,
            certification.election_id,
            ELECTION_CERTIFIED,
            message,
            received_at,
            outcome.kind,
            rows_total=outcome.rows_read,
            row_problems=refused,
        )


def _validation_problems(file_name: str, outcome: ValidationOutcome) -> list[dict[str, Any]]:
    return [
        row_problem(file_name, r.row, r.precinct_id, r.rule, r.message, r.column, r.value)
        for r in outcome.rejections
    ]


def _refusal_outcome(
    archived: ArchivedFile,
    election_id: str,
    rule: str,
    message: str,
    rows_total: int,
    row_problems: Sequence[dict[str, Any]],
) -> FileOutcome:
    return FileOutcome(
        archived.original_name,
        archived.sha256,
        "quarantined",
        election_id,
        rows_total=rows_total,
        rows_quarantined=len({q["row"] for q in row_problems}),
        problems=[f"{archived.original_name}: {message} [rule: {rule}]"]
        + [_problem_line(q) for q in row_problems],
    )


def _results_events(
    file: ResultsFile,
    outcome: ValidationOutcome,
    quarantine: Sequence[dict[str, Any]],
    applied: int,
    duplicates: int,
) -> tuple[list[DomainEvent], FileOutcome]:
    """A results file's receipt and refused rows (before what it applies), and its outcome."""
    archived, eid = file.archived, file.election.election_id
    anomalies = [
        {"kind": a.kind, "precinct_id": a.precinct_id, "detail": a.detail, "row": a.row}
        for a in outcome.anomalies
    ]
    bad_rows = len({q["row"] for q in quarantine})  # a row can break several rules
    receipt = batch_receipt(
        archived,
        eid,
        f"{outcome.kind}-v1",
        file.received_at,
        total=outcome.rows_read,
        applied=applied,
        duplicate=duplicates,
        quarantined=bad_rows,
        anomalies=anomalies,
    )
    events: list[DomainEvent] = [receipt]
    events.extend(row_quarantined(archived, eid, q, file.received_at) for q in quarantine)
    status: Status = "applied"
    if quarantine:
        status = "quarantined" if not applied and not duplicates else "partly quarantined"
    elif not applied:
        status = "duplicate"
    return events, FileOutcome(
        archived.original_name,
        archived.sha256,
        status,
        eid,
        outcome.rows_read,
        applied,
        duplicates,
        bad_rows,
        [_problem_line(q) for q in quarantine],
    )


def _certified_rows(
    file_name: str, certification: Certification, outcome: ValidationOutcome
) -> list[dict[str, Any]]:
    """One `election_certified` problem for every row of the file, valid or not."""
    rows: dict[int, tuple[str | None, str]] = {}  # row -> (precinct, what was not applied)
    for rec in outcome.accepted.to_dict("records"):
        pid = str(rec["precinct_id"])
        what = (
            f"the annulment of precinct {pid}"
            if outcome.kind == "annulment"
            else f"protocol version {int(rec['version'])} of precinct {pid}"
        )
        rows[int(rec["row"])] = (pid, what)
    for rejection in outcome.rejections:
        rows.setdefault(rejection.row, (rejection.precinct_id, "this row"))
    return [
        row_problem(
            file_name,
            row,
            pid,
            ELECTION_CERTIFIED,
            f"election certified: {what} was not applied; {certification.election_id} was certified "
            f"in publication {certification.publication_id}",
            None,
            None,
        )
        for row, (pid, what) in sorted(rows.items())
    ]


def _refuse_linked_sidecar(raw: Any, folder: Path, file: str) -> None:
    """The precinct list a declaration names gets the intake look before the parser opens it."""
    if not isinstance(raw, dict) or not isinstance(raw.get("precincts_csv"), str):
        return
    sidecar = folder / raw["precincts_csv"]
    try:
        seen = os.lstat(sidecar)
    except OSError:
        return  # missing: the parser names it
    refused = refusal_for(sidecar, seen, max_file_bytes())
    if refused is not None:
        raise InputError(f"precinct list {refused.name}: {refused.message}", file=file, rule=refused.rule)


REFUSE_UNREAD = "refuse-unread"  # the journal's name for a path refused before it was read


def unread_refusal_options(
    refusal: Refusal, election_id: str | None, received_at: datetime
) -> dict[str, Any]:
    """A refusal of an unread path as journal options: what `record_unread_refusal` needs again."""
    return {**dataclasses.asdict(refusal), "election": election_id, "received_at": received_at.isoformat()}


def replay_unread_refusal(store: EventStore, options: Mapping[str, Any], at: datetime) -> None:
    """Record a journaled refusal of an unread path again (the action `refuse-unread`)."""
    fields = {f.name: options[f.name] for f in dataclasses.fields(Refusal)}
    election = options.get("election")
    received_at = datetime.fromisoformat(str(options["received_at"]))
    record_unread_refusal(store, Refusal(**fields), None if election is None else str(election), received_at)


def last_event_payload(store: EventStore, stream_id: str, event_type: str) -> dict[str, Any] | None:
    """The payload of the last event of this type in the stream, or None."""
    row = first_row(
        store.conn.execute(query("last_event_of_stream"), {"stream": stream_id, "event_type": event_type})
    )
    return None if row is None else dict(json.loads(str(row[0])))


def record_unread_refusal(
    store: EventStore, refusal: Refusal, election_id: str | None, received_at: datetime
) -> None:
    """One BatchQuarantined for a path refused unread, unless the same path was refused already."""
    if last_event_payload(store, batch_stream(refusal.batch_id), BATCH_QUARANTINED) is None:
        with store.transaction():
            store.append([unread_refusal(refusal, election_id or "unknown", received_at)])
            update_projections(store.conn)


def _decide_annulment(
    archived: ArchivedFile, election_id: str, received_at: datetime, annulled: set[str], rec: dict[str, Any]
) -> PrecinctAnnulled | None:
    """An annulment event, or None when the precinct is annulled already (`annulled` grows)."""
    pid = str(rec["precinct_id"])
    if pid in annulled:
        return None
    annulled.add(pid)
    return PrecinctAnnulled(
        election_id=election_id,
        occurred_at=received_at,
        batch_id=archived.sha256,
        precinct_id=pid,
        reason=str(rec["reason"]),
        decided_by=str(rec["decided_by"]),
        file_name=archived.original_name,
        row=int(rec["row"]),
    )


def _problem_line(q: dict[str, Any]) -> str:
    where = f"{q['file_name']} row {q['row']}" + (f" column {q['column']!r}" if q["column"] else "")
    value = f" [value: {q['value']!r}]" if q["value"] is not None else ""
    return f"{where}: {q['message']} [rule: {q['rule']}]{value}"


def changed_elections(ingestor: Ingestor, outcomes: Sequence[FileOutcome]) -> list[str]:
    """Declared elections these files belong to, duplicates included: a run killed after its last
    commit but before publishing leaves results unpublished, and its rerun sees only duplicates.
    Publishing is a no-op where the results in force are already published."""
    touched = {f.election_id for f in outcomes if f.election_id}
    return sorted(e for e in touched if e is not None and ingestor.declared(e) is not None)


def publish_run_end(
    store: EventStore,
    election_ids: Iterable[str],
    summary: IngestSummary,
    *,
    at: datetime,
    publication_format: int = CURRENT_PUBLICATION_FORMAT,
) -> None:
    """Publish a provisional table for each election whose results moved, as of the run's end `at`
    (the publications' occurred_at and recorded_at); explain when the rules cannot allocate yet."""
    with store.recording_at(at):
        publish_changed(store, election_ids, summary, occurred_at=at, publication_format=publication_format)


def publish_changed(
    store: EventStore,
    election_ids: Iterable[str],
    summary: IngestSummary,
    *,
    occurred_at: datetime,
    publication_format: int = CURRENT_PUBLICATION_FORMAT,
) -> None:
    """Publish a provisional table for each election whose results moved; explain when rules cannot,
    or when the election is certified (nothing is published after its certification)."""
    for election_id in sorted(set(election_ids)):
        certified = certification_in_force(store.conn, election_id)
        if certified is not None:
            summary.notes.append(f"no provisional seat table for {election_id}: {certified.describe()}")
            write_publication_folder(store, certified.publication_id)  # lost to a crash after certify
            continue
        try:
            publication = publish(
                store, election_id, occurred_at=occurred_at, publication_format=publication_format
            )
        except RulesCannotDecide as exc:
            summary.notes.append(f"no seat table for {election_id} yet: {exc}")
            continue
        if publication is not None:
            summary.publications.append(publication)


def ingest_paths(
    paths: Sequence[Path],
    *,
    warehouse: Path,
    election_id: str | None = None,
    policy: ValidationPolicy | None = None,
    received_at: datetime | None = None,
    publish_results: bool = True,
    ended_at: datetime | None = None,
    wait_seconds: float = 300.0,
    layout: NativeLayout | None = None,
    natives: Mapping[str, NativeFile] | None = None,
) -> IngestSummary:
    """Ingest files or folders into a warehouse and publish what changed. Quarantine is normal;
    only a failure of the pipeline itself raises. `ended_at` (default: now) is the time of the run's
    end and of its publications; with `layout`, results files are native files read through it
    (`natives`: files read through it already, by the SHA-256 of their bytes)."""
    files = collect_files(paths)
    return ingest_sources(
        lambda: files,
        warehouse=warehouse,
        election_id=election_id,
        policy=policy,
        received_at=received_at,
        publish_results=publish_results,
        ended_at=ended_at,
        wait_seconds=wait_seconds,
        layout=layout,
        natives=natives,
    )


def ingest_sources(
    select: Callable[[], Sequence[IntakeFile]],
    *,
    warehouse: Path,
    election_id: str | None = None,
    policy: ValidationPolicy | None = None,
    received_at: datetime | None = None,
    publish_results: bool = True,
    ended_at: datetime | None = None,
    wait_seconds: float = 300.0,
    leave_changed: bool = False,
    layout: NativeLayout | None = None,
    natives: Mapping[str, NativeFile] | None = None,
) -> IngestSummary:
    """Ingest the files `select` names once the writer lock is held (the inbox claims its files
    there, so no other run can take them meanwhile), and publish what changed."""
    wpaths = WarehousePaths(warehouse)
    summary = IngestSummary()
    with EventStore.open_writer(wpaths, wait_seconds=wait_seconds) as store:
        files = select()
        ingestor = Ingestor(store, wpaths, policy=policy, leave_changed=leave_changed, layout=layout)
        ingestor.natives.update(natives or {})
        taken: list[FileOutcome] = []
        with progress("ingest", len(files), unit="file") as bar:
            for source in files:
                finished = ingestor.take(
                    source, election_hint=election_id, received_at=received_at or utc_now()
                )
                taken.extend(finished)
                if finished:  # a file waiting for others is counted when they are all committed
                    bar.advance(len(finished))
            if finished := ingestor.finish():
                taken.extend(finished)
                bar.advance(len(finished))
        for source, outcome in zip(files, taken, strict=True):
            outcome.source = source
        summary.files.extend(taken)
        run_end = ended_at or utc_now()
        if files:  # journaled before it publishes, so that a replay publishes at the same place
            ingestor.archive.mark_run_end(
                run_end,
                publish=publish_results,
                publication_format=CURRENT_PUBLICATION_FORMAT if publish_results else None,
            )
        if publish_results:
            publish_run_end(store, changed_elections(ingestor, summary.files), summary, at=run_end)
        if ingestor.validated_files:  # for people reading why rows were refused: once, after the results
            build_data_docs(wpaths.data_docs)
    return summary


__all__ = [
    "DECLARATION_SUFFIX",
    "PRECINCTS_SUFFIX",
    "FileOutcome",
    "IngestSummary",
    "PipelineError",
    "collect_files",
    "ingest_paths",
    "ingest_sources",
]
