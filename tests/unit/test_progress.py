"""Progress of long commands: plain periodic lines with counts when the output is no terminal (an
Airflow log), tqdm's bar only on a terminal."""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
import termios

import pytest

from pipelines.core.progress import (
    PROGRESS_ENV,
    LineProgress,
    SilentProgress,
    TerminalProgress,
    make_progress,
    progress,
)


def test_plain_lines_come_every_interval_with_counts_and_rate() -> None:
    now = [0.0]
    out = io.StringIO()
    bar = LineProgress("ingest", 10, "file", out, interval=5.0, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 2.0
        bar.advance()
    bar.close()
    assert out.getvalue().splitlines() == [
        "ingest: 3/10 files (30%), 0.5 files/s, 6 s",
        "ingest: 6/10 files (60%), 0.5 files/s, 12 s",
        "ingest: 9/10 files (90%), 0.5 files/s, 18 s",
        "ingest: done, 10/10 files (100%), 0.5 files/s, 20 s",
    ]


def test_a_failure_says_where_it_stopped() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), progress("replay", 4, unit="input", stream=out) as bar:
        bar.advance()
        raise RuntimeError("disk full")
    assert out.getvalue().startswith("replay: stopped at 1/4 inputs (25%)")


def test_the_bar_is_chosen_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert isinstance(make_progress("x", 5, stream=io.StringIO()), LineProgress)
    assert isinstance(make_progress("x", 1, stream=io.StringIO()), SilentProgress)  # one step: nothing
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal's size
    with open(follower, "w", encoding="utf-8") as terminal:
        bar = make_progress("ingest", 3, unit="file", stream=terminal)
        assert isinstance(bar, TerminalProgress)
        for _ in range(3):
            bar.advance()
        bar.close()
        terminal.flush()
        drawn = ""
        while select.select([leader], [], [], 0.2)[0]:
            drawn += os.read(leader, 65536).decode("utf-8", "replace")
    os.close(leader)
    assert "\r" in drawn and "3/3" in drawn and "file/s" in drawn  # redrawn in place, with its rate
    monkeypatch.setenv(PROGRESS_ENV, "off")
    with open(os.devnull, "w", encoding="utf-8") as sink:
        assert isinstance(make_progress("x", 5, stream=sink), SilentProgress)
