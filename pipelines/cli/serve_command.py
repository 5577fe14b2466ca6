"""`elections serve`: the read-only results API over a warehouse's publications (docs/results-api.md)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

import uvicorn

from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_OK, InputError
from pipelines.core.paths import WarehousePaths

GRACEFUL_SHUTDOWN_SECONDS = 2  # open event streams never end by themselves


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="serve publications read-only over HTTP (JSON, ETags, Server-Sent Events, /docs)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    serve.add_argument(
        "--poll-interval",
        type=float,
        default=0.25,
        metavar="SECONDS",
        help="how often the event stream looks for a new publication (default: 0.25)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    add_warehouse_option(serve)
    serve.set_defaults(func=run_serve)


def results_server(
    paths: WarehousePaths,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    poll_seconds: float = 0.25,
    access_log: bool = False,
    log_level: str = "info",
) -> uvicorn.Server:
    """A uvicorn server of the results API (run it with `.run()`, stop it with `.should_exit`)."""
    from pipelines.serving.http_guard import GuardedHttpProtocol
    from pipelines.serving.results_api import create_app

    config = uvicorn.Config(
        create_app(paths, poll_seconds=poll_seconds),
        host=host,
        port=port,
        http=GuardedHttpProtocol,
        lifespan="off",
        access_log=access_log,
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


def run_serve(args: argparse.Namespace) -> int:
    paths = warehouse_paths(args)
    if not paths.root.is_dir():
        raise InputError(f"no warehouse at {paths.root}", value=str(paths.root))
    if not 0 <= args.port <= 65535:
        raise InputError("--port must be between 0 and 65535", value=str(args.port))
    if not 0.01 <= args.poll_interval <= 60:
        raise InputError("--poll-interval must be between 0.01 and 60 seconds", value=str(args.poll_interval))
    print(f"serving {paths.publications} on http://{args.host}:{args.port}/v1 (docs: /docs)", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill <pid>` stops it as Ctrl-C does
    try:
        results_server(
            paths, host=args.host, port=args.port, poll_seconds=args.poll_interval, access_log=args.access_log
        ).run()
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on the signal, then raises it again: a stop asked for, not a failure.
        print("stopped", flush=True)
    return EXIT_OK
