"""Election-night simulator: every event kind, atomic delivery, faithful replay, and the final state."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from pipelines.core.errors import InputError
from pipelines.synthetic.history import write_history_files
from pipelines.synthetic.simulator import (
    EVENT_KINDS,
    READY_MARKER,
    RecordedDelivery,
    expected_final_totals,
    play_recording,
    read_manifest,
    simulate_night,
)

ELECTION = "kz-mazhilis-2021"
SEED = 77


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    root = tmp_path_factory.mktemp("night")
    inbox, recording = root / "inbox", root / "recording"
    written = simulate_night(ELECTION, inbox, recording, seed=SEED)
    return inbox, recording, written


def _manifest(recording: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (recording / "manifest.jsonl").read_text().splitlines()]


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_night_holds_every_required_event_kind(night: tuple[Path, Path, list[Path]]) -> None:
    _, recording, _ = night
    kinds = {entry.kind for entry in read_manifest(recording)}
    assert kinds == set(EVENT_KINDS)


def test_manifest_checksums_and_order(night: tuple[Path, Path, list[Path]]) -> None:
    inbox, recording, written = night
    entries = _manifest(recording)
    assert [e["file"] for e in entries] == [p.name for p in written]
    offsets = [int(str(e["offset_seconds"])) for e in entries]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert entries[0]["file"] == f"{ELECTION}.election.json"
    for entry in entries:
        assert hashlib.sha256((inbox / str(entry["file"])).read_bytes()).hexdigest() == entry["sha256"]
    assert not list(inbox.glob(".*.partial"))


def test_special_deliveries_tell_their_story(night: tuple[Path, Path, list[Path]]) -> None:
    inbox, recording, _ = night
    entries = read_manifest(recording)
    data = {e.name: (inbox / e.name).read_bytes() for e in entries}
    first_seen: dict[str, int] = {}
    first_row: dict[str, dict[str, str]] = {}
    for e in entries:
        if e.kind in ("batch", "late_batch", "resend"):
            for row in _rows(data[e.name]):
                first_seen.setdefault(row["precinct_id"], e.offset_seconds)
                first_row.setdefault(row["precinct_id"], row)

    (duplicate,) = [e for e in entries if e.kind == "duplicate"]
    originals = [e for e in entries if data[e.name] == data[duplicate.name] and e.name != duplicate.name]
    assert originals and originals[0].offset_seconds < duplicate.offset_seconds

    (malformed,) = [e for e in entries if e.kind == "malformed"]
    assert b"," not in data[malformed.name].splitlines()[0]
    (resend,) = [e for e in entries if e.kind == "resend"]
    assert data[resend.name].replace(b",", b";") == data[malformed.name]

    for e in entries:
        if e.kind == "amendment":
            (row,) = _rows(data[e.name])
            assert row["version"] == "2" and row["reason"]
            assert first_seen[row["precinct_id"]] < e.offset_seconds
            assert row != {**first_row[row["precinct_id"]], "version": "2", "reason": row["reason"]}
        if e.kind == "conflict":
            (row,) = _rows(data[e.name])
            assert row["version"] == "1" and first_seen[row["precinct_id"]] < e.offset_seconds
            assert row != first_row[row["precinct_id"]]
        if e.kind == "annulment":
            (row,) = _rows(data[e.name])
            assert row["decided_by"] and first_seen[row["precinct_id"]] < e.offset_seconds

    late = [e.offset_seconds for e in entries if e.kind == "late_batch"]
    on_time = [e.offset_seconds for e in entries if e.kind == "batch"]
    assert late and min(late) > max(on_time) - 3600 and min(late) > 12 * 3600


def test_western_regions_report_an_hour_later(night: tuple[Path, Path, list[Path]]) -> None:
    _, recording, _ = night
    first: dict[str, int] = {}
    for e in read_manifest(recording):
        if e.kind == "batch":
            first.setdefault(e.name.split(".")[1], e.offset_seconds)
    west = [first[r] for r in ("aktobe", "atyrau", "west_kazakhstan", "mangystau") if r in first]
    assert west and min(west) >= 3600 + 40 * 60
    assert min(first.values()) < 3600


def _reduce(inbox: Path, entries: list[RecordedDelivery], list_ids: list[str]) -> dict[str, int]:
    """Apply the night as the protocol format defines it: first v1 stands, higher versions amend,
    identical files change nothing, annulments exclude, unreadable files are rejected whole."""
    standing: dict[str, dict[str, str]] = {}
    annulled: set[str] = set()
    for e in entries:
        if not e.name.endswith(".csv"):
            continue
        rows = _rows((inbox / e.name).read_bytes())
        if not rows or "election_id" not in rows[0]:
            continue  # rejected whole
        for row in rows:
            pid = row.get("precinct_id", "")
            if "decided_by" in row:
                annulled.add(pid)
            elif pid not in standing or int(row["version"]) > int(standing[pid]["version"]):
                standing[pid] = row
    totals: dict[str, int] = {}
    for pid, row in standing.items():
        if pid in annulled:
            continue
        for column in ("registered_voters", "ballots_cast", "invalid_ballots", "against_all", *list_ids):
            totals[column] = totals.get(column, 0) + int(row[column])
    return totals


def test_final_state_equals_history_load_minus_the_annulled_precinct(
    night: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    inbox, recording, _ = night
    entries = read_manifest(recording)
    declaration = json.loads((inbox / f"{ELECTION}.election.json").read_text())
    list_ids = [item["list_id"] for item in declaration["lists"]]
    (annulment,) = [e for e in entries if e.kind == "annulment"]
    annulled = _rows((inbox / annulment.name).read_bytes())[0]["precinct_id"]

    one_go: dict[str, int] = {}
    for path in write_history_files(ELECTION, tmp_path, seed=SEED)[1:]:
        for row in _rows(path.read_bytes()):
            if row["precinct_id"] != annulled:
                for column in (
                    "registered_voters",
                    "ballots_cast",
                    "invalid_ballots",
                    "against_all",
                    *list_ids,
                ):
                    one_go[column] = one_go.get(column, 0) + int(row[column])

    assert _reduce(inbox, entries, list_ids) == one_go
    expected = expected_final_totals(ELECTION, seed=SEED)
    assert {k: expected[k] for k in one_go} == one_go


def test_replay_writes_the_same_files_and_marks_each_ready(
    night: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    _, recording, written = night
    replay_inbox = tmp_path / "replay"
    marks: list[bool] = []

    def watcher(entry: RecordedDelivery, path: Path) -> None:
        marker = replay_inbox / READY_MARKER
        marks.append(marker.exists() and path.exists())
        marker.unlink()  # the asset watcher consumes the marker

    replayed = play_recording(recording, replay_inbox, speed=0, on_delivery=watcher)
    assert [p.name for p in replayed] == [p.name for p in written]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(written, replayed, strict=True))
    assert marks and all(marks)


def test_replay_speed_scales_the_waits(night: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    _, recording, _ = night
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    play_recording(recording, tmp_path / "fast", speed=3600, clock=lambda: now[0], sleep=sleep)
    last = max(e.offset_seconds for e in read_manifest(recording))
    assert now[0] == pytest.approx(last / 3600)


def test_a_tampered_recording_is_refused(night: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    _, recording, _ = night
    copy = tmp_path / "copy"
    (copy / "files").mkdir(parents=True)
    (copy / "manifest.jsonl").write_bytes((recording / "manifest.jsonl").read_bytes())
    for path in (recording / "files").iterdir():
        (copy / "files" / path.name).write_bytes(path.read_bytes())
    first = read_manifest(copy)[1].name
    (copy / "files" / first).write_bytes(b"tampered\n")
    with pytest.raises(InputError, match="sha256"):
        play_recording(copy, tmp_path / "out", speed=0)


def test_same_seed_same_night(tmp_path: Path, night: tuple[Path, Path, list[Path]]) -> None:
    _, recording, _ = night
    simulate_night(ELECTION, tmp_path / "inbox", tmp_path / "rec", seed=SEED)
    assert (tmp_path / "rec" / "manifest.jsonl").read_bytes() == (recording / "manifest.jsonl").read_bytes()


def _cli(argv: list[str]) -> int:
    import argparse

    from pipelines.cli import simulate_command

    parser = argparse.ArgumentParser(prog="elections")
    simulate_command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_simulate_and_replay_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    assert _cli(["simulate", "--election", "kz-mazhilis-2004", "--out", str(inbox), "--no-wait"]) == 0
    recording = tmp_path / "inbox.recording"
    assert (recording / "manifest.jsonl").is_file() and (inbox / READY_MARKER).is_file()
    assert _cli(["simulate", "replay", str(recording), "--out", str(tmp_path / "again"), "--speed", "0"]) == 0
    names = sorted(p.name for p in inbox.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    assert "late_batch" in capsys.readouterr().out


def test_simulate_scale_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "big"
    assert _cli(["simulate", "--precincts", "500", "--lists", "3", "--regions", "4", "--out", str(out)]) == 0
    assert len(list(out.glob("*.protocols.part-*.csv"))) == 1
    assert "500 precincts x 3 lists" in capsys.readouterr().out


def test_simulate_needs_an_election_or_a_size(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--election"):
        _cli(["simulate", "--out", str(tmp_path)])
    with pytest.raises(InputError, match="--lists"):
        _cli(["simulate", "--precincts", "10", "--out", str(tmp_path)])
