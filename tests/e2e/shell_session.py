"""One bash that runs commands one at a time, as a reader types them into a terminal: what one line sets
(`export X=...`, `etag=$(...)`) holds for the next, and each line's exit status and output come back."""

from __future__ import annotations

import os
import re
import secrets
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from types import TracebackType


class CommandUnfinished(Exception):
    """A command did not finish: time ran out (the session is ended) or it ended the shell."""


class ShellSession:
    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout ends it with every child
        )
        # After each command the shell prints this token and the command's status on a line of their own.
        self.marker = f"__readme_status_{secrets.token_hex(8)}__"

    def run(self, command: str, timeout: float) -> tuple[int, str]:
        """The exit status and the output (stdout and stderr) of one command."""
        assert self.process.stdin is not None and self.process.stdout is not None
        # The braces keep `export` and assignments in this shell; stdin from /dev/null so that no command
        # reads the lines that follow it.
        script = f"{{ {command}\n}} </dev/null\nprintf '\\n{self.marker} %d\\n' $?\n"
        self.process.stdin.write(script.encode())
        self.process.stdin.flush()
        status_line = re.compile(rb"\n" + self.marker.encode() + rb" (\d+)\n")
        received = bytearray()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                done = status_line.search(received)
                if done:
                    return int(done.group(1)), received[: done.start()].decode(errors="replace")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise CommandUnfinished(received.decode(errors="replace"))
                if selector.select(min(remaining, 1.0)):
                    chunk = os.read(self.process.stdout.fileno(), 65536)
                    if not chunk:
                        raise CommandUnfinished(f"the shell exited\n{received.decode(errors='replace')}")
                    received += chunk

    def close(self) -> None:
        """Ends the shell and anything a command left running in the background."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ShellSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
