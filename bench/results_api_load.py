"""The results API under load: `elections serve` in its own process, polled by concurrent clients.

The clients are asyncio connections (keep-alive, one request at a time each, as a newsroom poller)
in the measuring process, so the server's process does nothing but serve. Two phases of the same
length on the latest seat table: with the current ETag in `If-None-Match` (every answer a 304), then
without it (every answer a 200 with the table).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PATH = "/v1/latest/seats"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(warehouse: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pipelines.cli.main", "serve", "--warehouse", str(warehouse)]
    server = subprocess.Popen(
        [*command, "--port", str(port)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1", timeout=5):
                return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"elections serve exited with {server.returncode}") from None
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("elections serve did not answer within 120 s")


def _latest_etag(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{PATH}", timeout=30) as answer:
        return str(answer.headers["ETag"])


async def _client(
    port: int, request: bytes, until: float, latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _phase(port: int, clients: int, seconds: float, etag: str | None) -> dict[str, Any]:
    lines = [f"GET {PATH} HTTP/1.1", "Host: 127.0.0.1"]
    if etag is not None:
        lines.append(f"If-None-Match: {etag}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *(_client(port, request, started + seconds, latencies, statuses) for _ in range(clients)),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started
    errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    return {
        "clients": clients,
        "seconds": round(elapsed, 3),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def measure_results_api(warehouse: Path, *, clients: int = 200, seconds: float = 5.0) -> dict[str, Any]:
    """Requests per second and latency of the latest seat table: 304s, then 200s."""
    port = free_port()
    server = _start_server(warehouse, port)
    try:
        etag = _latest_etag(port)
        started = time.perf_counter()
        not_modified = asyncio.run(_phase(port, clients, seconds, etag))
        full = asyncio.run(_phase(port, clients, seconds, None))
        return {"seconds": round(time.perf_counter() - started, 3), "304": not_modified, "200": full}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
