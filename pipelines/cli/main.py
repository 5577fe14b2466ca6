"""Entry point of `elections`: builds the parser from the command modules and maps errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from pipelines import __version__
from pipelines.core.errors import EXIT_FAILURE, PipelineError

# Each module defines `register(subparsers)`, adding sub-commands whose handler is stored as
# `func` and returns an exit code. Listed, not discovered, so the CLI's surface is reviewable here.
COMMAND_MODULES: tuple[str, ...] = (
    "pipelines.cli.demo_command",
    "pipelines.cli.store_commands",
    "pipelines.cli.declare_command",
    "pipelines.cli.publish_commands",
    "pipelines.cli.rules_command",
    "pipelines.cli.audit_commands",
    "pipelines.cli.reconcile_command",
    "pipelines.cli.forensics_command",
    "pipelines.cli.allocate_command",
    "pipelines.cli.history_command",
    "pipelines.cli.simulate_command",
    "pipelines.cli.airflow_command",
    "pipelines.cli.reload_command",
    "pipelines.cli.replay_command",
    "pipelines.cli.serve_command",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="elections",
        description="Event-sourced election results pipeline: ingest precinct protocols, "
        "validate, aggregate, allocate seats and publish.",
    )
    parser.add_argument("--version", action="version", version=f"elections {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, where a closed pipe can still be told apart from a failure
    except BrokenPipeError:
        # Whoever read the output stopped reading (`elections sql ... | head`): no traceback, and no
        # second one when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    try:
        return func(args)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
