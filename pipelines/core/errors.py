"""Errors that the command line turns into plain messages and exit codes, never tracebacks."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILURE = 1  # also: the reader of the output closed it early (`| head`), silently
# `elections reconcile` found figures that differ, as diff(1) says so with 1; they are listed on stdout,
# whereas a failure of the command itself prints `error: ...` on stderr.
EXIT_DIFFERENCES = 1
EXIT_BAD_INPUT = 2
EXIT_RULES_CANNOT_DECIDE = 3
# `elections ingest` ran to the end but quarantined a file or a row: not a failure, not all accepted.
EXIT_QUARANTINED = 4
# `--as-of` a moment before any result of the election was reported: there is no table to show.
EXIT_NO_RESULTS = 5


class PipelineError(Exception):
    """Base of every error the pipeline reports to a person; `exit_code` is what the CLI returns."""

    exit_code = EXIT_FAILURE


@dataclass(frozen=True)
class Location:
    """Where a bad value sits: any part may be unknown."""

    file: str | None = None
    row: int | None = None
    column: str | None = None

    def describe(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"file {self.file}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class InputError(PipelineError):
    """Bad input: names the file, row, column, rule and value where they are known."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        rule: str | None = None,
        value: object = None,
    ) -> None:
        self.location = Location(file, row, column)
        self.rule = rule
        self.value = value
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.location.describe()
        text = f"{where}: {self.detail}" if where else self.detail
        if self.rule is not None:
            text += f" [rule: {self.rule}]"
        if self.value is not None:
            text += f" [value: {self.value!r}]"
        return text


class RulesCannotDecide(PipelineError):
    """The electoral rules give no answer (no list passes, an undecidable tie): publish nothing."""

    exit_code = EXIT_RULES_CANNOT_DECIDE


class NoResultsAsOf(PipelineError):
    """`--as-of` a moment or position before the election's first result: there is no table to show."""

    exit_code = EXIT_NO_RESULTS
