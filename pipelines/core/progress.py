"""Progress of long commands: a bar with counts and rate on a terminal (tqdm), plain lines with counts
and rate every few seconds elsewhere (an Airflow task log, a file, a pipe), on stderr so that what a
command prints on stdout stays what it was.

    with progress("ingest", len(files), unit="file") as bar:
        for f in files:
            ...
            bar.advance()

`ELECTIONS_PROGRESS_SECONDS` sets how often plain lines are written (default 10; 0: after every step);
`ELECTIONS_PROGRESS=off` silences both forms.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from tqdm import tqdm

PROGRESS_SECONDS_ENV = "ELECTIONS_PROGRESS_SECONDS"
PROGRESS_ENV = "ELECTIONS_PROGRESS"
DEFAULT_SECONDS = 10.0


class Progress(Protocol):
    def advance(self, count: int = 1) -> None: ...

    def close(self, *, finished: bool = True) -> None: ...


class SilentProgress:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self, *, finished: bool = True) -> None:
        pass


class TerminalProgress:
    """tqdm's bar: count, total, percentage, rate and time left, redrawn in place."""

    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO) -> None:
        self.bar = tqdm(total=total, desc=label, unit=unit, file=stream, dynamic_ncols=True, leave=True)

    def advance(self, count: int = 1) -> None:
        self.bar.update(count)

    def close(self, *, finished: bool = True) -> None:
        self.bar.close()


class LineProgress:
    """One line at most every `interval` seconds, and one at the end: `label: 3/20 files (15%),
    1.5 files/s, 2 s`."""

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        stream: TextIO,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.interval, self.clock = interval, clock
        self.done = 0
        self.started = self.last = clock()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self.write(now)

    def close(self, *, finished: bool = True) -> None:
        self.write(self.clock(), state="done, " if finished else "stopped at ")

    def write(self, now: float, *, state: str = "") -> None:
        elapsed = now - self.started
        count = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        rate = f"{self.done / elapsed:,.1f}" if elapsed > 0 else "-"
        print(
            f"{self.label}: {state}{count} {self.unit}s{share}, {rate} {self.unit}s/s, {elapsed:,.0f} s",
            file=self.stream,
            flush=True,
        )


def make_progress(
    label: str, total: int | None, *, unit: str = "file", stream: TextIO | None = None
) -> Progress:
    """The bar on a terminal, plain lines elsewhere; nothing when switched off or for a single step
    (one file ingested is no progress to follow)."""
    out = sys.stderr if stream is None else stream
    if os.environ.get(PROGRESS_ENV, "").lower() == "off" or (total is not None and total < 2):
        return SilentProgress()
    if out.isatty():
        return TerminalProgress(label, total, unit, out)
    return LineProgress(label, total, unit, out, _interval())


@contextmanager
def progress(
    label: str, total: int | None, *, unit: str = "file", stream: TextIO | None = None
) -> Iterator[Progress]:
    bar = make_progress(label, total, unit=unit, stream=stream)
    try:
        yield bar
    except BaseException:
        bar.close(finished=False)
        raise
    bar.close()


def _interval() -> float:
    text = os.environ.get(PROGRESS_SECONDS_ENV, "")
    try:
        return max(0.0, float(text)) if text else DEFAULT_SECONDS
    except ValueError:
        return DEFAULT_SECONDS
