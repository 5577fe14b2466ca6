"""Election-night simulator: a historical election's protocols delivered the way commissions report.

A night is planned first (`plan_night`), as a list of deliveries at offsets in seconds from the moment
polls close in the east, then recorded (`write_recording`: a JSON-lines manifest plus the file bytes),
and a recording is played into an inbox at any speed (`play_recording`). Simulating is planning,
recording and playing, so a replay always writes the very same files as the original night.

Polls close at 20:00 local time: UTC+6 in the east and UTC+5 in the west until March 2024, so western
regions start reporting an hour later. Each region reports in batches; the night also holds amended
protocols (version 2 with a reason), an annulled precinct, a duplicate delivery (the same bytes under
another name), a region reporting only the next morning, a malformed file (re-sent correctly later) and
a conflicting protocol (a second, different version 1 for an already reported precinct).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipelines.core.errors import InputError
from pipelines.domain.election import Region
from pipelines.synthetic.history import (
    DEFAULT_SEED,
    HistoryBreakdown,
    build_history,
    declaration_file_name,
    declaration_json,
    national_totals_of,
)
from pipelines.synthetic.protocol_writer import (
    Annulment,
    ProtocolRow,
    annulment_csv,
    protocol_csv,
    write_atomically,
)

READY_MARKER = "_READY"
MANIFEST = "manifest.jsonl"
NIGHT_FILE = "night.json"
FILES_DIR = "files"

# Delivery kinds, as written in the manifest.
DECLARATION = "declaration"
BATCH = "batch"
LATE_BATCH = "late_batch"
AMENDMENT = "amendment"
ANNULMENT = "annulment"
DUPLICATE = "duplicate"
MALFORMED = "malformed"
RESEND = "resend"
CONFLICT = "conflict"
EVENT_KINDS = (DECLARATION, BATCH, LATE_BATCH, AMENDMENT, ANNULMENT, DUPLICATE, MALFORMED, RESEND, CONFLICT)

_EAST_UTC_OFFSET = 6
_MINUTE = 60
_HOUR = 3600
_AMENDED_PRECINCTS = 3


@dataclass(frozen=True)
class Delivery:
    offset_seconds: int
    name: str
    kind: str
    data: bytes
    note: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class NightPlan:
    election_id: str
    seed: int
    deliveries: tuple[Delivery, ...]
    annulled_precinct: str
    final_protocols: tuple[ProtocolRow, ...]  # what stands at dawn: amended, without the annulled one
    list_ids: tuple[str, ...]


@dataclass(frozen=True)
class RecordedDelivery:
    offset_seconds: int
    name: str
    sha256: str
    kind: str


def _batch_name(election_id: str, region_id: str, number: int, suffix: str = "") -> str:
    return f"{election_id}.{region_id}.batch-{number:02d}{suffix}.csv"


def _semicolon_export(data: bytes) -> bytes:
    """The classic spreadsheet mistake: the same table saved with semicolons as separators."""
    return data.replace(b",", b";")


def plan_night(
    election_id: str, *, seed: int = DEFAULT_SEED, batches_per_region: int | None = None
) -> NightPlan:
    """Plan the whole night of a historical election; deterministic from the seed.

    Regions send 3-10 batches by their size, or exactly `batches_per_region` (fewer files, for tests)."""
    breakdown = build_history(election_id, seed=seed)
    return _plan(breakdown, seed, batches_per_region)


def _plan(breakdown: HistoryBreakdown, seed: int, batches_per_region: int | None = None) -> NightPlan:
    declaration = breakdown.declaration
    eid = declaration.election_id
    list_ids = declaration.list_ids
    rng = np.random.default_rng([seed, 0x5EED])
    truth = breakdown.protocols()
    by_region: dict[str, list[ProtocolRow]] = {}
    for row in truth:
        by_region.setdefault(row.region, []).append(row)
    regions = [r for r in declaration.regions if by_region.get(r.region_id)]
    if len(regions) < 2:
        raise InputError("a simulated night needs precincts in at least two regions", value=eid)

    late_region = regions[int(rng.integers(len(regions)))].region_id
    on_time = [r.region_id for r in regions if r.region_id != late_region]
    # The special precincts come from different on-time regions, so each story stays readable.
    picks = rng.choice(len(on_time), size=min(len(on_time), _AMENDED_PRECINCTS + 2), replace=False)
    special_regions = [on_time[int(i) % len(on_time)] for i in picks]
    while len(special_regions) < _AMENDED_PRECINCTS + 2:
        special_regions.append(on_time[0])

    def pick_precinct(region_id: str, taken: set[str]) -> ProtocolRow:
        # Votes on the first list, so that a misattribution or a rival protocol really differs.
        candidates = [row for row in by_region[region_id] if row.precinct_id not in taken and row.votes[0]]
        chosen = candidates[int(rng.integers(len(candidates)))]
        taken.add(chosen.precinct_id)
        return chosen

    taken: set[str] = set()
    amended = [pick_precinct(region_id, taken) for region_id in special_regions[:_AMENDED_PRECINCTS]]
    annulled = pick_precinct(special_regions[_AMENDED_PRECINCTS], taken)
    disputed = pick_precinct(special_regions[_AMENDED_PRECINCTS + 1], taken)
    first_reports = {
        row.precinct_id: row.moved_votes(0, 1, 5 + int(rng.integers(40)), version=1, reason="")
        for row in amended
    }

    deliveries = [
        Delivery(
            0, declaration_file_name(eid), DECLARATION, declaration_json(declaration), "election declared"
        )
    ]
    batch_files, delivered_at = _regional_batches(
        eid, list_ids, regions, by_region, late_region, first_reports, rng, batches_per_region
    )
    deliveries.extend(batch_files)

    for number, row in enumerate(amended, start=1):
        when = delivered_at[row.precinct_id] + int(rng.integers(60, 181)) * _MINUTE
        fixed = replace(row, version=2, reason="recount: votes misattributed to another list")
        deliveries.append(
            Delivery(
                when,
                f"{eid}.{row.region}.amendment-{number:02d}.csv",
                AMENDMENT,
                protocol_csv([fixed], list_ids),
                f"version 2 of {row.precinct_id}",
            )
        )

    region_names = {r.region_id: r.name for r in regions}
    deliveries.append(
        Delivery(
            delivered_at[annulled.precinct_id] + 4 * _HOUR,
            f"{eid}.annulment-01.csv",
            ANNULMENT,
            annulment_csv(
                [
                    Annulment(
                        eid,
                        annulled.precinct_id,
                        "ballot stuffing found by observers; result invalidated",
                        f"Territorial Election Commission of {region_names[annulled.region]}",
                    )
                ]
            ),
            f"annuls {annulled.precinct_id}",
        )
    )

    rival = disputed.moved_votes(0, len(list_ids) - 1, 7 + int(rng.integers(30)), version=1, reason="")
    deliveries.append(
        Delivery(
            delivered_at[disputed.precinct_id] + 90 * _MINUTE,
            f"{eid}.{disputed.region}.conflict-01.csv",
            CONFLICT,
            protocol_csv([rival], list_ids),
            f"a second, different version 1 of {disputed.precinct_id}",
        )
    )

    on_time_batches = [d for d in batch_files if d.kind == BATCH]
    twice = on_time_batches[int(rng.integers(len(on_time_batches)))]
    deliveries.append(
        Delivery(
            twice.offset_seconds + 25 * _MINUTE,
            twice.name.removesuffix(".csv") + ".copy.csv",
            DUPLICATE,
            twice.data,
            f"the bytes of {twice.name} again",
        )
    )

    # The malformed export replaces one batch; the commission re-sends it correctly 30 minutes later.
    garbled_at = int(rng.integers(len(on_time_batches)))
    while on_time_batches[garbled_at] is twice and len(on_time_batches) > 1:
        garbled_at = (garbled_at + 1) % len(on_time_batches)
    garbled = on_time_batches[garbled_at]
    index = deliveries.index(garbled)
    deliveries[index] = Delivery(
        garbled.offset_seconds,
        garbled.name,
        MALFORMED,
        _semicolon_export(garbled.data),
        "semicolon-separated export; re-sent later",
    )
    deliveries.append(
        Delivery(
            garbled.offset_seconds + 30 * _MINUTE,
            garbled.name.removesuffix(".csv") + ".resend.csv",
            RESEND,
            garbled.data,
            f"correct re-send of {garbled.name}",
        )
    )

    ordered = sorted(enumerate(deliveries), key=lambda item: (item[1].offset_seconds, item[0]))
    final = tuple(row for row in truth if row.precinct_id != annulled.precinct_id)
    return NightPlan(
        election_id=eid,
        seed=seed,
        deliveries=tuple(d for _, d in ordered),
        annulled_precinct=annulled.precinct_id,
        final_protocols=final,
        list_ids=list_ids,
    )


def _regional_batches(
    eid: str,
    list_ids: Sequence[str],
    regions: Sequence[Region],
    by_region: dict[str, list[ProtocolRow]],
    late_region: str,
    first_reports: dict[str, ProtocolRow],
    rng: np.random.Generator,
    batches_per_region: int | None = None,
) -> tuple[list[Delivery], dict[str, int]]:
    """Each region's protocols in batches after its polls close; returns them and when each precinct came."""
    batch_files: list[Delivery] = []
    delivered_at: dict[str, int] = {}
    for region in regions:
        rows = list(by_region[region.region_id])
        order = rng.permutation(len(rows))
        rows = [rows[int(i)] for i in order]
        utc_offset = region.utc_offset_hours if region.utc_offset_hours is not None else _EAST_UTC_OFFSET
        polls_close = (_EAST_UTC_OFFSET - utc_offset) * _HOUR
        is_late = region.region_id == late_region
        # Territorial commissions send their first batch 40-90 minutes after polls close; the late
        # region's courier arrives the next morning.
        clock = polls_close + (13 * _HOUR if is_late else 0) + int(rng.integers(40, 91)) * _MINUTE
        batches = batches_per_region or max(3, min(10, -(-len(rows) // 150)))
        for number, chunk in enumerate(np.array_split(np.arange(len(rows)), batches), start=1):
            batch_rows = [first_reports.get(rows[int(i)].precinct_id, rows[int(i)]) for i in chunk]
            batch_files.append(
                Delivery(
                    clock,
                    _batch_name(eid, region.region_id, number),
                    LATE_BATCH if is_late else BATCH,
                    protocol_csv(batch_rows, list_ids),
                    f"{len(batch_rows)} protocols of {region.name}",
                )
            )
            for row in batch_rows:
                delivered_at[row.precinct_id] = clock
            clock += int(rng.integers(15, 61)) * _MINUTE
    return batch_files, delivered_at


def expected_final_totals(election_id: str, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Totals that stand after the night: the one-go history load minus the annulled precinct."""
    plan = plan_night(election_id, seed=seed)
    return national_totals_of(plan.final_protocols, plan.list_ids)


def write_recording(plan: NightPlan, recording_dir: Path) -> Path:
    """Write the manifest (offset, file name, sha256, kind per line) and the files; returns the folder."""
    files = recording_dir / FILES_DIR
    files.mkdir(parents=True, exist_ok=True)
    lines = []
    for delivery in plan.deliveries:
        (files / delivery.name).write_bytes(delivery.data)
        entry = {
            "offset_seconds": delivery.offset_seconds,
            "file": delivery.name,
            "sha256": delivery.sha256,
            "kind": delivery.kind,
            "note": delivery.note,
        }
        lines.append(json.dumps(entry, ensure_ascii=False))
    (recording_dir / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    night = {
        "election_id": plan.election_id,
        "seed": plan.seed,
        "offset_zero": "20:00 local time in UTC+6 (polls close in the east)",
        "annulled_precinct": plan.annulled_precinct,
        "deliveries": len(plan.deliveries),
    }
    (recording_dir / NIGHT_FILE).write_text(json.dumps(night, indent=1) + "\n", encoding="utf-8")
    return recording_dir


def read_manifest(recording_dir: Path) -> list[RecordedDelivery]:
    """The manifest of a recording; every problem names the manifest line and field."""
    path = recording_dir / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read recording manifest: {exc.strerror}", file=str(path)) from None
    entries = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = RecordedDelivery(
                offset_seconds=int(raw["offset_seconds"]),
                name=str(raw["file"]),
                sha256=str(raw["sha256"]),
                kind=str(raw.get("kind", "")),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"not a manifest entry: {exc}", file=MANIFEST, row=line_number, rule="manifest-v1"
            ) from None
        if "/" in entry.name or "\\" in entry.name or entry.name.startswith("."):
            raise InputError(
                "file name must be a plain name",
                file=MANIFEST,
                row=line_number,
                column="file",
                value=entry.name,
            )
        entries.append(entry)
    return entries


def play_recording(
    recording_dir: Path,
    inbox: Path,
    *,
    speed: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_delivery: Callable[[RecordedDelivery, Path], None] | None = None,
) -> list[Path]:
    """Write the recorded files into `inbox` at `speed` times real time (0 = all at once).

    Each file is written atomically, then the `_READY` marker is touched for the watcher.
    """
    if speed < 0:
        raise InputError("speed must be >= 0", column="--speed", value=speed)
    entries = read_manifest(recording_dir)
    inbox.mkdir(parents=True, exist_ok=True)
    started = clock()
    written = []
    for row, entry in enumerate(entries, start=1):
        data = _recorded_bytes(recording_dir, entry, row)
        if speed > 0:
            due = started + entry.offset_seconds / speed
            wait = due - clock()
            if wait > 0:
                sleep(wait)
        target = inbox / entry.name
        write_atomically(target, data)
        (inbox / READY_MARKER).touch()
        written.append(target)
        if on_delivery is not None:
            on_delivery(entry, target)
    return written


def _recorded_bytes(recording_dir: Path, entry: RecordedDelivery, row: int) -> bytes:
    path = recording_dir / FILES_DIR / entry.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"recorded file missing: {exc.strerror}", file=str(path), row=row) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise InputError(
            "recorded file does not match its manifest checksum",
            file=str(path),
            row=row,
            column="sha256",
            rule="sha256 of the file equals the manifest's",
            value=digest,
        )
    return data


def simulate_night(
    election_id: str,
    inbox: Path,
    recording_dir: Path,
    *,
    seed: int = DEFAULT_SEED,
    speed: float = 0.0,
    on_delivery: Callable[[RecordedDelivery, Path], None] | None = None,
) -> list[Path]:
    """Plan and record the night of `election_id`, then play the recording into `inbox`."""
    plan = plan_night(election_id, seed=seed)
    write_recording(plan, recording_dir)
    return play_recording(recording_dir, inbox, speed=speed, on_delivery=on_delivery)


def kinds_of(entries: Sequence[RecordedDelivery]) -> set[str]:
    return {entry.kind for entry in entries}
