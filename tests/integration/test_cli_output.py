"""The command line as a shell pipeline sees it."""

from __future__ import annotations

import subprocess
import sys

from pipelines.core.errors import EXIT_FAILURE


def test_a_reader_that_stops_reading_gets_no_traceback() -> None:
    """`elections ... | head`: the reader closes the pipe before the output is written."""
    command = [sys.executable, "-m", "pipelines.cli.main", "load-history", "--list"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_FAILURE, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err
    assert err == b""
