"""What the results API refuses before any route sees a request, each time with a JSON error body.

Two layers: the HTTP protocol (a request line and headers larger than HEAD_LIMIT, or bytes the parser
cannot read, are refused as they arrive, so nothing unbounded is buffered), then an ASGI middleware
(methods other than GET and HEAD, long paths and query strings, too many headers). HEAD is answered
as the GET without its body.
"""

from __future__ import annotations

import http
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_LIMIT = 32 * 1024  # bytes of request line and headers the protocol accepts
PATH_LIMIT = 2048  # bytes of path
QUERY_LIMIT = 2048  # bytes of query string
HEADER_LIMIT = 8 * 1024  # bytes of headers the application accepts
HEADER_COUNT_LIMIT = 64
ALLOWED_METHODS = ("GET", "HEAD")
HEAD_REQUEST = "elections.head_request"  # scope key: the GET being run answers a HEAD

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


def error_body(status: int, detail: str) -> bytes:
    """The JSON body of every error: the status, its phrase and what was wrong."""
    return json.dumps(
        {"status": status, "error": http.HTTPStatus(status).phrase, "detail": detail}, ensure_ascii=False
    ).encode("utf-8")


def _raw_response(status: int, detail: str) -> bytes:
    body = error_body(status, detail)
    phrase = http.HTTPStatus(status).phrase
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "cache-control: no-store\r\n"
        "x-content-type-options: nosniff\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class RequestHeadTooLarge(Exception):
    """Raised inside the parser's callbacks: the request line and headers exceed HEAD_LIMIT."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on the request head and JSON instead of its plain
    text 400 for requests it cannot parse."""

    head_bytes = 0
    head_too_large = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = 0

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > HEAD_LIMIT:
            self.head_too_large = True
            raise RequestHeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        if self.head_too_large:
            response = _raw_response(431, f"the request line and headers exceed {HEAD_LIMIT} bytes")
        else:
            response = _raw_response(400, "malformed HTTP request")
        self.transport.write(response)
        self.transport.close()


async def send_error(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = error_body(status, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"cache-control", b"no-store"),
                *BASE_HEADERS,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def refusal(scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
    """The status, reason and headers of the refusal of a request, or None when it may go on."""
    method = str(scope.get("method", ""))
    if method not in ALLOWED_METHODS:
        allow = ", ".join(ALLOWED_METHODS).encode("ascii")
        return 405, f"the results API is read-only: {method[:20]!r} is not allowed", [(b"allow", allow)]
    if len(scope.get("raw_path") or b"") > PATH_LIMIT:
        return 414, f"the path exceeds {PATH_LIMIT} bytes", []
    if len(scope.get("query_string", b"")) > QUERY_LIMIT:
        return 414, f"the query string exceeds {QUERY_LIMIT} bytes", []
    headers = scope.get("headers", [])
    if len(headers) > HEADER_COUNT_LIMIT:
        return 431, f"more than {HEADER_COUNT_LIMIT} headers", []
    if sum(len(n) + len(v) for n, v in headers) > HEADER_LIMIT:
        return 431, f"the headers exceed {HEADER_LIMIT} bytes", []
    return None


class RequestGuard:
    """ASGI middleware: refuses what no route should see and answers HEAD as a bodiless GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = refusal(scope)
        if refused is not None:
            await send_error(send, *refused)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = dict(scope, method="GET")
            scope[HEAD_REQUEST] = True

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in BASE_HEADERS if n not in names]
                message = dict(message, headers=[*message.get("headers", []), *extra])
            elif head and message["type"] == "http.response.body":
                message = dict(message, body=b"")
            await send(message)

        await self.app(scope, receive, guarded_send)
