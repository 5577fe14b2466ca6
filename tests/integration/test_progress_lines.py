"""Progress of real commands as an Airflow task log shows it: plain lines with counts on stderr."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.cli.main import main
from pipelines.core.progress import PROGRESS_ENV, PROGRESS_SECONDS_ENV
from tests.support.small_election import precinct_ids, protocol, write_declaration, write_protocols


def test_a_real_command_writes_periodic_lines_to_a_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PROGRESS_SECONDS_ENV, "0")  # every step, so the test needs no clock
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    out = tmp_path / "inbox"
    args = ["simulate", "--precincts", "600", "--lists", "3", "--regions", "2", "--chunk-size", "200"]
    assert main([*args, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    counts = [
        re.match(r"simulate: (done, )?([\d,]+)/600 precincts \(\d+%\), [\d,.]+ precincts/s", line)
        for line in lines
    ]
    assert all(counts), lines
    assert [m.group(2) for m in counts if m] == ["200", "400", "600", "600"]
    assert "simulate:" not in captured.out  # stdout stays what the command prints


def test_ingesting_many_files_writes_its_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PROGRESS_SECONDS_ENV, "0")
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    inbox = tmp_path / "inbox"
    write_declaration(inbox)
    write_protocols(inbox, "batch.csv", [protocol(pid) for pid in precinct_ids(3)])
    assert main(["ingest", str(inbox), "--warehouse", str(tmp_path / "warehouse")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" files")[0] for line in err if line.startswith("ingest: ")] == [
        "ingest: 1/2",
        "ingest: 2/2",
        "ingest: done, 2/2",
    ]
