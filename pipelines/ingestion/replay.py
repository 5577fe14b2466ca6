"""Replaying what a warehouse was given: rebuild it into a new folder from its raw archive's journal
(`receipts.jsonl`), optionally only what had arrived by a given moment.

The journal lists every input in the order the writer took it: each received file with the options
that shaped its ingest (format, election hint, validation policy) and the time its events were
recorded, the end of each ingest run (where it published), and every operator action (publish,
certify, ... by name, with its options and time). A replay feeds each entry through the same code
the original went through, with the same times, so it appends the same events: the same positions,
payloads and hashes, and so the same publications, byte for byte, and the same journal.

Journals written before times and options were journaled (receipts without `recorded_at`) replay
with the current time as `recorded_at` and default options: the same projections, another chain.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pipelines.core.errors import PipelineError
from pipelines.core.paths import WarehousePaths
from pipelines.core.progress import progress
from pipelines.gate.native_layout import layout_from_options
from pipelines.gate.validation import ValidationPolicy
from pipelines.ingestion.ingest import (
    DECLARATION_SUFFIX,
    PRECINCTS_SUFFIX,
    REFUSE_UNREAD,
    FileOutcome,
    Ingestor,
    IngestSummary,
    changed_elections,
    publish_run_end,
)
from pipelines.ingestion.openelections_ingest import FILE_FORMAT as OPENELECTIONS
from pipelines.ingestion.openelections_ingest import OpenElectionsIngestor
from pipelines.ingestion.operator_actions import ACTIONS, perform
from pipelines.publishing.publication import Publication
from pipelines.publishing.publication_layout import FIRST_PUBLICATION_FORMAT
from pipelines.store.event_store import BeyondRecordedHead, EventStore
from pipelines.store.raw_archive import Interrupted, JournalEntry, OperatorAction, RawArchive, Receipt, RunEnd


def replay_archive(source: WarehousePaths, target: Path, *, until: datetime | None = None) -> IngestSummary:
    """Replay the journal of `source` (what had arrived by `until`, inclusive) into a new warehouse at
    `target`. The caller keeps `source`'s writer away (its lock) while the journal is read."""
    paths = WarehousePaths(target)
    if paths.database.exists():
        raise FileExistsError(f"{target} already holds a warehouse: a replay starts from nothing")
    archive = RawArchive(source.archive)
    entries = archive.journal()
    summary = IngestSummary()
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp, EventStore.open_writer(paths) as store:
        _Replay(archive, store, paths, Path(tmp), summary).run(entries, until)
    return summary


class _Replay:
    def __init__(
        self,
        archive: RawArchive,
        store: EventStore,
        paths: WarehousePaths,
        folder: Path,
        summary: IngestSummary,
    ) -> None:
        self.archive = archive
        self.store = store
        self.paths = paths
        self.folder = folder
        self.summary = summary
        self.ingestor = Ingestor(store, paths)
        self.openelections = OpenElectionsIngestor(store, paths)
        self.run_outcomes: list[FileOutcome] = []

    def run(self, entries: Sequence[JournalEntry], until: datetime | None) -> None:
        stopped_at = _heads_where_writers_stopped(entries)
        with progress("replay", len(entries), unit="input") as bar:
            for index, entry in enumerate(entries):
                bar.advance()
                if isinstance(entry, Receipt) and _is_sidecar(entry):
                    continue  # laid out beside its declaration
                if until is not None and _arrived_after(entry, until):
                    continue
                head = stopped_at.get(index)
                if head is not None and self.store.head()[0] >= head:
                    self.skip(entry, _sidecars(entries, index))
                    continue
                try:
                    # Where the writer stopped in this input, its commits go only as far as it got.
                    with self.store.committing_up_to(head):
                        self.apply(entry, _sidecars(entries, index))
                except BeyondRecordedHead:
                    self.summary.notes.append(f"{_describe(entry)} replayed as far as its writer got")
        # A run that never ended (its writer was killed) never published: neither does its replay.

    def apply(self, entry: JournalEntry, sidecars: Sequence[Receipt]) -> None:
        if isinstance(entry, Receipt):
            outcome = self.ingest(entry, sidecars)
            self.run_outcomes.append(outcome)
            self.summary.files.append(outcome)
        elif isinstance(entry, RunEnd):
            self.end_run(entry)
        elif isinstance(entry, Interrupted):
            # The stopped run never published what its files changed; its rerun publishes them.
            self.run_outcomes = []
            self.ingestor.archive.append(entry)
        else:
            self.act(entry)

    def skip(self, entry: JournalEntry, sidecars: Sequence[Receipt]) -> None:
        """An input whose writer stopped before committing anything of it: journaled as it was, not
        applied (applying it would make events the original never made)."""
        for line in (entry, *sidecars):
            self.ingestor.archive.append(line)
        if isinstance(entry, RunEnd):
            self.run_outcomes = []
        self.summary.notes.append(
            f"{_describe(entry)} not replayed: its writer stopped before it committed anything"
        )

    def ingest(self, receipt: Receipt, sidecars: Sequence[Receipt]) -> FileOutcome:
        """One received file, ingested as it was, in a folder of its own with what came beside it."""
        folder = Path(tempfile.mkdtemp(dir=self.folder))
        try:
            file = folder / Path(receipt.name).name
            file.write_bytes(self.archive.read(receipt.sha256))
            for sidecar in sidecars:
                target = folder / _sidecar_path(sidecar)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.archive.read(sidecar.sha256))
            options = receipt.options
            election = options.get("election")
            # Intake accepted the file once: the replay never refuses it for its size.
            self.ingestor.read_limit = self.openelections.refusals.read_limit = max(receipt.size, 1)
            if options.get("format") == OPENELECTIONS:
                outcome, _lines = self.openelections.ingest_file(
                    file,
                    election_id=str(election),
                    received_at=receipt.received_at,
                    recorded_at=receipt.recorded_at,
                )
                return outcome
            self.ingestor.policy = ValidationPolicy.from_options(options.get("policy", {}))
            # A native file is read with the layout its receipt carries, whatever lies on disk now.
            self.ingestor.layout = layout_from_options(options)
            return self.ingestor.ingest_file(
                file,
                election_hint=None if election is None else str(election),
                received_at=receipt.received_at,
                recorded_at=receipt.recorded_at,
            )
        finally:
            shutil.rmtree(folder)

    def end_run(self, end: RunEnd) -> None:
        """Close the run where the original closed it, publishing what its files changed, at its time."""
        outcomes, self.run_outcomes = self.run_outcomes, []
        if not outcomes:  # nothing of this run arrived by `until`
            return
        self.ingestor.archive.mark_run_end(
            end.at, publish=end.publish, publication_format=end.publication_format
        )
        if end.publish:
            elections = changed_elections(self.ingestor, outcomes)
            publication_format = end.publication_format or FIRST_PUBLICATION_FORMAT
            publish_run_end(
                self.store, elections, self.summary, at=end.at, publication_format=publication_format
            )

    def act(self, action: OperatorAction) -> None:
        if action.name not in ACTIONS:
            raise PipelineError(
                f"the journal names an operator action {action.name!r} at {action.at.isoformat()} that "
                f"this version cannot replay (known: {', '.join(sorted(ACTIONS))})"
            )
        try:
            result = perform(self.store, self.paths, action.name, action.options, at=action.at)
        except PipelineError as exc:  # refused when it was first run too: the same state refuses it again
            self.summary.notes.append(f"{action.name} at {action.at.isoformat()} refused, as it was: {exc}")
            return
        if isinstance(result, Publication):
            self.summary.publications.append(result)
        if action.name == REFUSE_UNREAD:  # a file of the run, as the original run counted it
            election = action.options.get("election")
            refused = FileOutcome(str(action.options["name"]), "", "quarantined", election)
            self.run_outcomes.append(refused)
            self.summary.files.append(refused)


def _describe(entry: JournalEntry) -> str:
    return entry.name if isinstance(entry, Receipt | OperatorAction) else "the end of a run"


def _arrived_after(entry: JournalEntry, until: datetime) -> bool:
    """A file received, or an action taken, after `until`; a run's end and an interruption close
    what came before them and are kept."""
    if isinstance(entry, Receipt):
        return entry.received_at > until
    return isinstance(entry, OperatorAction) and entry.at > until


def _heads_where_writers_stopped(entries: Sequence[JournalEntry]) -> dict[int, int]:
    """For the inputs of the writer that stopped before each `Interrupted` note: the log's head when
    the next writer found that it had stopped, which says how much of them committed. That writer's
    inputs are the last entry before the note (sidecars aside) and, when it was receiving files, the
    files received before it in the same run: a run commits several files together
    (`Ingestor.finish`), so any of them may be one it stopped in."""
    found: dict[int, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, Interrupted):
            continue
        before = index - 1
        while before >= 0 and _is_sidecar_entry(entries[before]):
            before -= 1
        if before < 0 or isinstance(entries[before], Interrupted):
            continue
        found[before] = entry.head
        while isinstance(entries[before], Receipt):
            before -= 1
            while before >= 0 and _is_sidecar_entry(entries[before]):
                before -= 1
            if before < 0 or not isinstance(entries[before], Receipt):
                break
            found[before] = entry.head
    return found


def _is_sidecar_entry(entry: JournalEntry) -> bool:
    return isinstance(entry, Receipt) and _is_sidecar(entry)


def _is_sidecar(receipt: Receipt) -> bool:
    """A file received with a declaration (its precinct list): read through it, never on its own."""
    return "sidecar_of" in receipt.options or (
        not receipt.options and receipt.name.endswith(PRECINCTS_SUFFIX)  # journaled before options were
    )


def _sidecar_path(sidecar: Receipt) -> Path:
    """Where a sidecar lies beside its declaration: the relative `path` it was named by (journaled as
    option `path`), else its own name; never outside the declaration's folder."""
    named = Path(str(sidecar.options.get("path", sidecar.name)))
    if named.is_absolute() or ".." in named.parts or not named.parts:
        return Path(Path(sidecar.name).name)
    return named


def _sidecars(entries: Sequence[JournalEntry], index: int) -> list[Receipt]:
    """The files received with the declaration at `index`: journaled right after it."""
    receipt = entries[index]
    if not isinstance(receipt, Receipt) or not receipt.name.endswith(DECLARATION_SUFFIX):
        return []
    found = []
    for entry in entries[index + 1 :]:
        if not isinstance(entry, Receipt) or not _is_sidecar(entry):
            break
        if entry.options.get("sidecar_of") in (None, receipt.sha256):  # None: journaled before options
            found.append(entry)
    return found
