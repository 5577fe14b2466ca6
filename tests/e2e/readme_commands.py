"""The commands a reader copies from README.md: every line of its shell code blocks, in order, with the
line it starts on, its comment and the exit status that comment states (`# exit 5: ...`, else 0)."""

from __future__ import annotations

import re
from dataclasses import dataclass

SHELL_FENCE = re.compile(r"^```(?:sh|bash|shell)\s*$")
CLOSING_FENCE = re.compile(r"^```\s*$")
EXIT_NOTE = re.compile(r"\bexit (\d+)\b")
# A command that runs until the reader stops it says so in its comment.
LONG_RUNNING_NOTE = "Ctrl-C stops it"


class ReadmeFormatError(ValueError):
    """A shell block the parser cannot read unambiguously; the message names the README line."""


@dataclass(frozen=True)
class ReadmeCommand:
    line: int  # 1-based README line the command starts on
    text: str  # as written: continuation lines and the trailing comment included
    comment: str  # its comment, with the comment-only lines that follow it

    @property
    def where(self) -> str:
        """How a failure names the command."""
        return f"README.md:{self.line}: `{self.text}`"

    @property
    def code(self) -> str:
        """The command without comments: what a setup line is recognised by."""
        parts = (split_comment(part)[0].rstrip("\\").strip() for part in self.text.splitlines())
        return " ".join(parts).strip()

    @property
    def expected_exit(self) -> int:
        notes = set(EXIT_NOTE.findall(self.comment))
        if len(notes) > 1:
            raise ReadmeFormatError(f"{self.where} states several exit codes: {self.comment}")
        return int(notes.pop()) if notes else 0

    @property
    def long_running(self) -> bool:
        return LONG_RUNNING_NOTE in self.comment


def split_comment(line: str) -> tuple[str, str]:
    """The code and the comment of one shell line: a `#` outside quotes that starts a word begins it."""
    quote = ""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def readme_commands(markdown: str) -> list[ReadmeCommand]:
    """Every command of every shell code block, in the order the README shows them."""
    commands: list[ReadmeCommand] = []
    in_block = False
    explains_last = False  # a comment-only line here goes on explaining the command above it
    pending: list[str] = []  # physical lines of a command continued with a trailing backslash
    start = 0
    for number, raw in enumerate(markdown.splitlines(), start=1):
        if not in_block:
            in_block = bool(SHELL_FENCE.match(raw))
            explains_last = False
            continue
        if CLOSING_FENCE.match(raw):
            if pending:
                raise ReadmeFormatError(f"README.md:{start}: the block ends inside a continued command")
            in_block = False
            continue
        code, comment = split_comment(raw)
        if not pending and not code:
            if comment and explains_last:
                last = commands[-1]
                commands[-1] = ReadmeCommand(last.line, last.text, f"{last.comment} {comment}")
            explains_last = explains_last and bool(comment)
            continue
        if not pending:
            start = number
        pending.append(raw.rstrip())
        if code.endswith("\\") and not comment:
            continue
        commands.append(ReadmeCommand(start, "\n".join(pending), comment))
        pending = []
        explains_last = True
    if in_block:
        raise ReadmeFormatError("README.md: a shell block is never closed")
    return commands
