"""The results API: read-only HTTP over a warehouse's publication folders and its readers' snapshot.

Publications are immutable, so everything about one is served from its folder (checked against its
manifest) and cached forever, with a strong ETag of its log position and content hash. Precinct
figures and quarantine counts are not in the folders: they come from the readers' snapshot, as of
the publication's position, which makes them just as immutable. The "latest" endpoints answer with
the same bytes and ETag as the latest publication's and may be cached for a few seconds. The live
database is never opened. See docs/results-api.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, BinaryIO

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipelines import __version__
from pipelines.core.errors import InputError, PipelineError
from pipelines.core.paths import WarehousePaths
from pipelines.publishing.precinct_figures import precinct_figures_as_of
from pipelines.publishing.publication_files import json_bytes
from pipelines.publishing.publication_layout import (
    CDF_JSON,
    CERTAINTY_JSON,
    FORENSICS_PAGE,
    MANIFEST,
    NATIONAL_JSON,
    REGIONAL_JSON,
    RESULTS_PAGE,
    SEATS_JSON,
)
from pipelines.rules.number_text import percent_text
from pipelines.serving.http_guard import HEAD_REQUEST, RequestGuard, error_body
from pipelines.serving.publication_index import (
    CHUNK,
    PublicationDamaged,
    PublicationIndex,
    PublishedFolder,
    open_no_follow,
)
from pipelines.store.event_store import open_read_only
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

PREFIX = "/v1"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5, must-revalidate"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
CACHE_BUDGET = 256 * 1024 * 1024  # bytes of representations kept in memory
INLINE_LIMIT = 8 * 1024 * 1024  # larger published files (precinct-level NIST exports) are streamed
POLL_SECONDS = 0.25  # how often the event stream looks for a new publication folder
KEEPALIVE_SECONDS = 15.0
MAX_STREAMS = 512
RESULTS_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
FILE_TYPES = {
    ".json": JSON,
    ".csv": "text/csv; charset=utf-8",
    ".html": HTML,
    ".parquet": "application/vnd.apache.parquet",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".svg": "image/svg+xml",  # the forensic report's charts
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# Media types served with RESULTS_PAGE_POLICY: what a browser renders as a document.
DOCUMENT_TYPES = frozenset({HTML, "image/svg+xml"})
log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than 200/304, sent as a JSON error body."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Representation:
    body: bytes
    media_type: str
    etag: str
    stream: BinaryIO | None = None  # a large published file, streamed instead of `body`, never cached
    length: int = 0  # bytes of `stream`


def entity_tag(position: int, sha256_hex: str) -> str:
    """Strong ETag: the log position the content stands at and the sha256 of the content."""
    return f'"{position}-{sha256_hex}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison against any listed tag, or `*`."""
    if if_none_match is None:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def json_representation(value: object, position: int) -> Representation:
    body = json_bytes(value)
    return Representation(body, JSON, entity_tag(position, hashlib.sha256(body).hexdigest()))


def respond(
    request: Request, rep: Representation, cache_control: str, headers: Mapping[str, str] | None = None
) -> Response:
    all_headers = {"ETag": rep.etag, "Cache-Control": cache_control, **(headers or {})}
    if etag_matches(request.headers.get("if-none-match"), rep.etag):
        if rep.stream is not None:
            rep.stream.close()
        return Response(status_code=304, headers=all_headers)
    if rep.stream is not None:
        all_headers["Content-Length"] = str(rep.length)
        return StreamingResponse(_chunks(rep.stream), media_type=rep.media_type, headers=all_headers)
    return Response(rep.body, media_type=rep.media_type, headers=all_headers)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _ratio(part: int, whole: int) -> dict[str, Any]:
    share = Fraction(part, whole) if whole else Fraction(0)
    return {"fraction": str(share), "pct": percent_text(share)}


def _turnout(area: Mapping[str, Any]) -> dict[str, Any]:
    counted = int(area["registered_voters_counted"])
    cast = int(area["ballots_cast"])
    return {
        "region_id": area["region_id"],
        "name": area["name"],
        "registered_voters": int(area["registered_voters"]),
        "registered_voters_counted": counted,
        "ballots_cast": cast,
        "invalid_ballots": int(area["invalid_ballots"]),
        "turnout": _ratio(cast, counted),
    }


def _progress(area: Mapping[str, Any]) -> dict[str, Any]:
    expected = int(area["precincts_expected"])
    reported = int(area["precincts_reported"])
    return {
        "region_id": area["region_id"],
        "name": area["name"],
        "precincts_expected": expected,
        "precincts_reported": reported,
        "precincts_annulled": int(area["precincts_annulled"]),
        "precincts_pending": int(area["precincts_pending"]),
        "reported": _ratio(reported, expected),
    }


class ResultsReader:
    """Builds and caches the representations of publications; thread-safe."""

    def __init__(self, paths: WarehousePaths) -> None:
        self.paths = paths
        self.index = PublicationIndex(paths.publications)
        self._cache: OrderedDict[tuple[str, str], Representation] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def cached(self, folder: PublishedFolder, view: str) -> Representation | None:
        with self._lock:
            rep = self._cache.get((folder.publication_id, view))
            if rep is not None:
                self._cache.move_to_end((folder.publication_id, view))
            return rep

    def build(self, folder: PublishedFolder, view: View) -> Representation:
        rep = view.build(self, folder)
        key = (folder.publication_id, view.name)
        if not view.may_change(folder):
            self._keep(key, rep)
        return rep

    def file(self, folder: PublishedFolder, name: str) -> Representation:
        """A published file: its ETag is its manifest sha256, which `index.open` has checked."""
        suffix = name[name.rfind(".") :] if "." in name else ""
        media = FILE_TYPES.get(suffix, "application/octet-stream")
        etag = entity_tag(folder.position, str(folder.sha256_of(name)))
        handle = self.index.open(folder, name)
        size = os.fstat(handle.fileno()).st_size
        if size > INLINE_LIMIT:
            return Representation(b"", media, etag, handle, size)
        with handle:
            return Representation(handle.read(), media, etag)

    def forensic_file(self, folder: PublishedFolder, name: str) -> Representation:
        """A file of the publication's forensic report (data/forensics/<id>/, docs/forensics.md): no
        manifest lists it, so its ETag is the publication's position and the sha256 of its bytes. The
        report is written once and never changed, so it is cached like the publication's files."""
        key = (folder.publication_id, f"forensics/{name}")
        with self._lock:
            rep = self._cache.get(key)
        if rep is not None:
            return rep
        directory = self.paths.forensics / folder.publication_id
        try:
            with open_no_follow(directory, name) as handle:
                body = handle.read()
        except (InputError, PublicationDamaged, OSError) as exc:
            if not directory.is_dir():
                raise ApiError(
                    404,
                    f"{folder.publication_id} is not screened yet: its forensic report is written after "
                    f"the publication (by the forensic_screening DAG, or elections forensics --publication "
                    f"{folder.publication_id})",
                ) from exc
            raise ApiError(
                404, f"the forensic report of {folder.publication_id} has no file {name[:200]!r}"
            ) from exc
        suffix = name[name.rfind(".") :] if "." in name else ""
        rep = Representation(
            body,
            FILE_TYPES.get(suffix, "application/octet-stream"),
            entity_tag(folder.position, hashlib.sha256(body).hexdigest()),
        )
        self._keep(key, rep)
        return rep

    def _keep(self, key: tuple[str, str], rep: Representation) -> None:
        with self._lock:
            if rep.stream is None and key not in self._cache and len(rep.body) <= CACHE_BUDGET:
                self._cache[key] = rep
                self._cached_bytes += len(rep.body)
                while self._cached_bytes > CACHE_BUDGET:
                    _, dropped = self._cache.popitem(last=False)
                    self._cached_bytes -= len(dropped.body)

    def json_file(self, folder: PublishedFolder, name: str) -> Any:
        return json.loads(self.index.read(folder, name))

    def snapshot_view(self, folder: PublishedFolder, build: Callable[[Any], object]) -> Representation:
        """A view read from the readers' snapshot, once the snapshot reaches the publication."""
        try:
            with open_read_only(self.paths.snapshot) as conn:
                row = first_row(conn.execute(query("log_head_position")))
                if row is None or int(str(row[0])) < folder.position:
                    raise ApiError(
                        503,
                        f"the readers' snapshot does not reach {folder.publication_id} yet",
                        {"Retry-After": "1"},
                    )
                value = build(conn)
        except ApiError:
            raise
        except PipelineError as exc:
            raise ApiError(503, str(exc), {"Retry-After": "5"}) from exc
        return json_representation(value, folder.position)


# -- views of one publication -------------------------------------------------------------------


def _about(folder: PublishedFolder) -> dict[str, Any]:
    return {
        "publication_id": folder.publication_id,
        "election_id": folder.election_id,
        "status": folder.status,
        "position": folder.position,
        "based_on_position": folder.based_on_position,
    }


def _links(folder: PublishedFolder) -> dict[str, str]:
    base = f"{PREFIX}/publications/{folder.publication_id}"
    links = {
        view.name: f"{base}/{view.name}"
        for view in VIEWS
        if view.name and (view.requires is None or view.requires in folder.files)
    }
    links.update({f"file:{name}": f"{base}/files/{name}" for name in sorted([*folder.files, MANIFEST])})
    links["forensics"] = f"{base}/forensics"  # written after the publication: 404 until screened
    return links


def publication_view(reader: ResultsReader, folder: PublishedFolder) -> Representation:
    about = reader.index.describe(folder)
    return json_representation(
        {**about, "files": sorted([*folder.files, MANIFEST]), "links": _links(folder)}, folder.position
    )


def turnout_view(reader: ResultsReader, folder: PublishedFolder) -> Representation:
    national = reader.json_file(folder, NATIONAL_JSON)["national"]
    regions = reader.json_file(folder, REGIONAL_JSON)["regions"]
    value = {
        **_about(folder),
        "turnout_is": "ballots_cast / registered_voters_counted (voters of the precincts counted)",
        "national": _turnout(national),
        "regions": [_turnout(r) for r in regions],
    }
    return json_representation(value, folder.position)


def progress_view(reader: ResultsReader, folder: PublishedFolder) -> Representation:
    national = reader.json_file(folder, NATIONAL_JSON)["national"]
    regions = reader.json_file(folder, REGIONAL_JSON)["regions"]
    value = {**_about(folder), "national": _progress(national), "regions": [_progress(r) for r in regions]}
    return json_representation(value, folder.position)


def precincts_view(reader: ResultsReader, folder: PublishedFolder) -> Representation:
    list_ids = [str(r["list_id"]) for r in reader.json_file(folder, SEATS_JSON)["seats"]]

    def build(conn: Any) -> object:
        figures = precinct_figures_as_of(conn, folder.election_id, folder.based_on_position, list_ids)
        return {
            **_about(folder),
            "precincts": [
                {
                    "precinct_id": p.precinct_id,
                    "region_id": p.region_id,
                    "state": p.state,
                    "registered_voters": p.registered_voters,
                    "ballots_cast": p.ballots_cast,
                    "invalid_ballots": p.invalid_ballots,
                    "against_all": p.against_all,
                    "votes": dict(p.votes),
                }
                for p in figures
            ],
        }

    return reader.snapshot_view(folder, build)


def quarantine_view(reader: ResultsReader, folder: PublishedFolder) -> Representation:
    def build(conn: Any) -> object:
        rows = conn.execute(
            query("quarantine_counts_as_of"), {"election": folder.election_id, "as_of": folder.position}
        ).fetchall()
        by_rule = [
            {"rule": str(rule), "entries": int(entries), "whole_files": int(whole), "files": int(files)}
            for rule, entries, whole, files in rows
        ]
        return {
            **_about(folder),
            "as_of_position": folder.position,
            "entries": sum(r["entries"] for r in by_rule),
            "by_rule": by_rule,
        }

    return reader.snapshot_view(folder, build)


def certainty_view(reader: ResultsReader, folder: PublishedFolder) -> Representation:
    """The certainty bounds and the quarantine's materiality as the publication states them (format 4
    on: its certainty.json), never computed here."""
    if CERTAINTY_JSON not in folder.files:
        raise ApiError(
            404,
            f"{folder.publication_id} states no certainty bounds: publications state them from format 4 "
            f"on, in their {CERTAINTY_JSON}",
        )
    return reader.file(folder, CERTAINTY_JSON)


def file_view(name: str) -> Callable[[ResultsReader, PublishedFolder], Representation]:
    def build(reader: ResultsReader, folder: PublishedFolder) -> Representation:
        return reader.file(folder, name)

    return build


@dataclass(frozen=True)
class View:
    name: str  # path after the publication ("" for the publication itself)
    summary: str
    build: Callable[[ResultsReader, PublishedFolder], Representation]
    media_type: str = JSON
    # Says whether a certified publication still stands, which a later revocation changes: for a
    # certified publication this view is neither cached here nor served as immutable.
    states_revocation: bool = False
    requires: str | None = None  # a file only some folders hold (later formats): linked only from those

    def may_change(self, folder: PublishedFolder) -> bool:
        return self.states_revocation and folder.status == "certified"


VIEWS: tuple[View, ...] = (
    View("", "The publication: its manifest's facts, files and links", publication_view, JSON, True),
    View("manifest", "The manifest (sha256 of every file)", file_view(MANIFEST)),
    View("seats", "The seat table", file_view(SEATS_JSON)),
    View("totals/national", "National totals", file_view(NATIONAL_JSON)),
    View("totals/regions", "Totals of every region", file_view(REGIONAL_JSON)),
    View("totals/precincts", "Every declared precinct's state and figures", precincts_view),
    View("turnout", "Turnout, national and per region (exact fraction and percent)", turnout_view),
    View("progress", "Reporting progress: precincts in, annulled, pending of those declared", progress_view),
    View("quarantine", "Quarantined rows and files up to the publication, by rule", quarantine_view),
    View(
        "certainty",
        "What the outstanding precincts can still change (each list's threshold status and proven seat "
        "range, the decided seats) and whether the quarantine could change the table",
        certainty_view,
        requires=CERTAINTY_JSON,
    ),
    View("nist", "The NIST SP 1500-100 v2 election results report", file_view(CDF_JSON)),
    View("page", "The results page", file_view(RESULTS_PAGE), HTML),
)


# -- the application ----------------------------------------------------------------------------


def _error_response(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        error_body(status, detail),
        status_code=status,
        media_type=JSON,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _event(index: PublicationIndex, folder: PublishedFolder) -> bytes:
    data = json.dumps(index.describe(folder), separators=(",", ":"))
    return f"id: {folder.position}\nevent: publication\ndata: {data}\n\n".encode()


def create_app(paths: WarehousePaths, *, poll_seconds: float = POLL_SECONDS) -> FastAPI:
    """The results API over one warehouse (see docs/results-api.md)."""
    reader = ResultsReader(paths)
    index = reader.index
    app = FastAPI(
        title="Election results API",
        version=__version__,
        description="Read-only results of the warehouse's publications. See docs/results-api.md.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    streams = {"open": 0}

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error_response(exc.status, exc.detail, exc.headers)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return _error_response(400, str(exc))

    @app.exception_handler(PublicationDamaged)
    async def damaged(request: Request, exc: PublicationDamaged) -> Response:
        log.error("refused to serve a damaged publication: %s", exc)
        return _error_response(500, "the publication's files do not match its manifest; not served")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error_response(exc.status_code, detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error_response(400, "invalid request parameters")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("results API failure")
        return _error_response(500, "internal error")

    def find(publication_id: str) -> PublishedFolder:
        try:
            folder = index.find(publication_id)
        except InputError as exc:
            raise ApiError(400, f"not a publication id: {publication_id[:200]!r}") from exc
        if folder is None:
            raise ApiError(404, f"no publication {publication_id!r}")
        return folder

    def latest(election_id: str | None) -> PublishedFolder:
        if election_id is not None and election_id not in index.elections():
            raise ApiError(404, f"no publication of an election {election_id!r}")
        folder = index.latest(election_id)
        if folder is None:
            raise ApiError(404, "nothing has been published yet")
        return folder

    async def representation(folder: PublishedFolder, view: View) -> Representation:
        rep = reader.cached(folder, view.name)
        if rep is None:
            rep = await run_in_threadpool(reader.build, folder, view)
        return rep

    def suffix(view: View) -> str:
        return f"/{view.name}" if view.name else ""

    def add_publication_route(view: View) -> None:
        async def handler(request: Request, publication_id: str) -> Response:
            folder = find(publication_id)
            rep = await representation(folder, view)
            extra = {"Content-Security-Policy": RESULTS_PAGE_POLICY} if view.media_type == HTML else {}
            return respond(request, rep, SHORT if view.may_change(folder) else IMMUTABLE, extra)

        app.add_api_route(
            f"{PREFIX}/publications/{{publication_id}}{suffix(view)}",
            handler,
            methods=["GET"],
            summary=f"{view.summary} (immutable)",
            tags=["publications"],
            response_class=Response,
        )

    def latest_headers(folder: PublishedFolder, view: View) -> dict[str, str]:
        headers = {
            "Content-Location": f"{PREFIX}/publications/{folder.publication_id}{suffix(view)}",
            "X-Publication-Id": folder.publication_id,
        }
        if view.media_type == HTML:
            headers["Content-Security-Policy"] = RESULTS_PAGE_POLICY
        return headers

    def add_latest_routes(view: View) -> None:
        async def of_election(request: Request, election_id: str) -> Response:
            folder = latest(election_id)
            rep = await representation(folder, view)
            return respond(request, rep, SHORT, latest_headers(folder, view))

        async def of_any(request: Request) -> Response:
            folder = latest(None)
            rep = await representation(folder, view)
            return respond(request, rep, SHORT, latest_headers(folder, view))

        app.add_api_route(
            f"{PREFIX}/elections/{{election_id}}/latest{suffix(view)}",
            of_election,
            methods=["GET"],
            summary=f"{view.summary}, of the election's latest publication",
            tags=["latest"],
            response_class=Response,
        )
        app.add_api_route(
            f"{PREFIX}/latest{suffix(view)}",
            of_any,
            methods=["GET"],
            summary=f"{view.summary}, of the latest publication of any election",
            tags=["latest"],
            response_class=Response,
        )

    for view in VIEWS:
        add_publication_route(view)
        add_latest_routes(view)

    async def file_response(
        request: Request, folder: PublishedFolder, name: str, cache_control: str, headers: dict[str, str]
    ) -> Response:
        if folder.sha256_of(name) is None:
            raise ApiError(404, f"{folder.publication_id} has no file {name[:200]!r}")
        rep = await run_in_threadpool(reader.file, folder, name)
        if rep.media_type == HTML:
            headers["Content-Security-Policy"] = RESULTS_PAGE_POLICY
        return respond(request, rep, cache_control, headers)

    def latest_file_headers(folder: PublishedFolder, name: str) -> dict[str, str]:
        return {
            "Content-Location": f"{PREFIX}/publications/{folder.publication_id}/files/{name}",
            "X-Publication-Id": folder.publication_id,
        }

    @app.get(f"{PREFIX}/publications/{{publication_id}}/files/{{name}}", tags=["publications"])
    async def publication_file(request: Request, publication_id: str, name: str) -> Response:
        """Any file the publication's manifest lists (CSV, Parquet, ...), checked against it (immutable)."""
        return await file_response(request, find(publication_id), name, IMMUTABLE, {})

    @app.get(f"{PREFIX}/elections/{{election_id}}/latest/files/{{name}}", tags=["latest"])
    async def election_latest_file(request: Request, election_id: str, name: str) -> Response:
        """A file of the election's latest publication."""
        folder = latest(election_id)
        return await file_response(request, folder, name, SHORT, latest_file_headers(folder, name))

    @app.get(f"{PREFIX}/latest/files/{{name}}", tags=["latest"])
    async def latest_file(request: Request, name: str) -> Response:
        """A file of the latest publication of any election."""
        folder = latest(None)
        return await file_response(request, folder, name, SHORT, latest_file_headers(folder, name))

    async def forensic_response(request: Request, publication_id: str, name: str) -> Response:
        rep = await run_in_threadpool(reader.forensic_file, find(publication_id), name)
        extra = {"Content-Security-Policy": RESULTS_PAGE_POLICY} if rep.media_type in DOCUMENT_TYPES else {}
        return respond(request, rep, IMMUTABLE, extra)

    @app.get(f"{PREFIX}/publications/{{publication_id}}/forensics", tags=["forensics"])
    async def forensics_page(request: Request, publication_id: str) -> Response:
        """The publication's forensic report (forensics.html: screening, not proof), written after the
        publication; 404 until it is screened (immutable)."""
        return await forensic_response(request, publication_id, FORENSICS_PAGE)

    # The second and third paths are where the results page's relative link to the report lands when
    # the page is served as /v1/publications/<id>/files/results.html and as .../<id>/page (or
    # /v1/latest/files/results.html): the link is relative to the page's folder on disk,
    # data/publications/<id>/, and reaches data/forensics/<id>/.
    for path in (
        f"{PREFIX}/publications/{{publication_id}}/forensics/{{name}}",
        f"{PREFIX}/publications/forensics/{{publication_id}}/{{name}}",
        f"{PREFIX}/forensics/{{publication_id}}/{{name}}",
    ):
        app.add_api_route(
            path,
            forensic_response,
            methods=["GET"],
            summary="A file of the publication's forensic report: SVG, PNG, CSV, JSON (immutable)",
            tags=["forensics"],
            response_class=Response,
            include_in_schema="/forensics/{name}" in path,
        )

    def head_position() -> int:
        last = index.latest()
        return 0 if last is None else last.position

    def listing(request: Request, value: object) -> Response:
        return respond(request, json_representation(value, head_position()), SHORT)

    @app.get("/", include_in_schema=False)
    @app.get(PREFIX, tags=["listings"])
    async def root(request: Request) -> Response:
        """Where everything is."""
        return listing(
            request,
            {
                "elections": f"{PREFIX}/elections",
                "publications": f"{PREFIX}/publications",
                "latest": f"{PREFIX}/latest",
                "events": f"{PREFIX}/events",
                "docs": "/docs",
                "views": [view.name for view in VIEWS if view.name],
            },
        )

    @app.get(f"{PREFIX}/elections", tags=["listings"])
    async def elections(request: Request) -> Response:
        """Every election with a publication: how many, and the latest."""
        value = []
        for election_id in index.elections():
            published = index.publications(election_id)
            value.append(
                {
                    "election_id": election_id,
                    "publications": len(published),
                    "latest": index.describe(published[-1]),
                }
            )
        return listing(request, {"elections": value})

    @app.get(f"{PREFIX}/elections/{{election_id}}", tags=["listings"])
    async def election(request: Request, election_id: str) -> Response:
        """One election: how many publications, the latest, and where its endpoints are."""
        published = index.publications(election_id)
        if not published:
            raise ApiError(404, f"no publication of an election {election_id!r}")
        base = f"{PREFIX}/elections/{election_id}"
        value = {
            "election_id": election_id,
            "publications": len(published),
            "latest": index.describe(published[-1]),
            "links": {"publications": f"{base}/publications", "latest": f"{base}/latest"},
        }
        return listing(request, value)

    @app.get(f"{PREFIX}/elections/{{election_id}}/publications", tags=["listings"])
    async def election_publications(request: Request, election_id: str) -> Response:
        """The election's publications, by log position."""
        published = index.publications(election_id)
        if not published:
            raise ApiError(404, f"no publication of an election {election_id!r}")
        return listing(
            request, {"election_id": election_id, "publications": [index.describe(f) for f in published]}
        )

    @app.get(f"{PREFIX}/publications", tags=["listings"])
    async def publications(request: Request) -> Response:
        """Every publication, by log position."""
        return listing(request, {"publications": [index.describe(f) for f in index.publications()]})

    @app.get(f"{PREFIX}/events", tags=["events"], response_class=StreamingResponse)
    async def events(request: Request, election: str | None = None) -> Response:
        """Server-Sent Events: `event: publication`, `id:` its log position, `data:` its summary, when a
        new publication folder appears. Send `Last-Event-ID` to receive those after that position."""
        last_event = request.headers.get("last-event-id")
        if last_event is None:
            after = head_position() if election is None else _position(index.latest(election))
        elif last_event.isdigit() and len(last_event) < 19:
            after = int(last_event)
        else:
            raise ApiError(400, "Last-Event-ID must be a log position (digits)")
        if streams["open"] >= MAX_STREAMS:
            raise ApiError(503, "too many open event streams", {"Retry-After": "5"})
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        if request.scope.get(HEAD_REQUEST):
            return Response(media_type="text/event-stream", headers=headers)
        return StreamingResponse(
            _stream(index, election, after, poll_seconds, streams),
            media_type="text/event-stream",
            headers=headers,
        )

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        return respond(request, json_representation(app.openapi(), 0), SHORT)

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Election results API")
        body = bytes(page.body)
        rep = Representation(body, HTML, entity_tag(0, hashlib.sha256(body).hexdigest()))
        return respond(request, rep, SHORT)

    app.add_middleware(RequestGuard)
    return app


def _position(folder: PublishedFolder | None) -> int:
    return 0 if folder is None else folder.position


async def _stream(
    index: PublicationIndex, election: str | None, after: int, poll_seconds: float, streams: dict[str, int]
) -> AsyncIterator[bytes]:
    streams["open"] += 1
    try:
        yield b": election results: one event per new publication\nretry: 2000\n\n"
        quiet = 0.0
        while True:
            fresh: Sequence[PublishedFolder] = [f for f in index.publications(election) if f.position > after]
            for folder in fresh:
                yield _event(index, folder)
                after = folder.position
            if fresh:
                quiet = 0.0
            elif quiet >= KEEPALIVE_SECONDS:
                yield b": keep-alive\n\n"
                quiet = 0.0
            await asyncio.sleep(poll_seconds)
            quiet += poll_seconds
    finally:
        streams["open"] -= 1
