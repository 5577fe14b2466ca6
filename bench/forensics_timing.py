"""`make bench`'s forensics phase: `elections forensics --out DIR` on the delivery's warehouse, timed whole.

Run in the bench's child process (`--child`, variant `forensics`): the time is the command as a user
waits for it, imports of the CLI included, reading the counted stations from the readers' snapshot,
the screen with its Monte-Carlo nulls, and the images, tables and page written to a folder.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import time
from pathlib import Path
from typing import Any

TARGET_FORENSICS_SECONDS = 10.0  # issue 19: the forensic section at 100,000 stations


def forensics(warehouse: Path) -> dict[str, Any]:
    out = warehouse / "forensics"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    from pipelines.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main(["forensics", "--warehouse", str(warehouse), "--out", str(out)])
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"elections forensics exited {code}: {printed.getvalue()[-500:]}")
    stations = next(
        (
            line.split(": ")[1].split()[0]
            for line in printed.getvalue().splitlines()
            if "counted stations" in line
        ),
        "?",
    )
    return {"seconds": round(seconds, 3), "stations": stations, "files": len(list(out.iterdir()))}
