"""The pure rules of the results API: If-None-Match matching and what the guard refuses."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.serving.http_guard import HEADER_COUNT_LIMIT, PATH_LIMIT, QUERY_LIMIT, refusal
from pipelines.serving.results_api import entity_tag, etag_matches

TAG = entity_tag(22, "ab" * 32)


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        (TAG, True),
        (f"W/{TAG}", True),
        (f'"1-stale", {TAG}', True),
        ("*", True),
        ('"22-abab"', False),
        (TAG[:-1], False),
        (f'"23-{"ab" * 32}"', False),
    ],
)
def test_if_none_match_compares_weakly_against_every_listed_tag(header: str | None, matches: bool) -> None:
    assert etag_matches(header, TAG) is matches


def scope(**changes: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "raw_path": b"/v1",
        "query_string": b"",
        "headers": [],
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, None),
        ({"method": "HEAD"}, None),
        ({"method": "POST"}, 405),
        ({"method": "PATCH"}, 405),
        ({"method": "get"}, 405),
        ({"raw_path": b"/" + b"a" * PATH_LIMIT}, 414),
        ({"query_string": b"a" * (QUERY_LIMIT + 1)}, 414),
        ({"query_string": b"a" * QUERY_LIMIT}, None),
        ({"headers": [(b"x", b"1")] * (HEADER_COUNT_LIMIT + 1)}, 431),
        ({"headers": [(b"x", b"y" * 9000)]}, 431),
    ],
)
def test_the_guard_refuses_what_no_route_should_see(changes: dict[str, Any], status: int | None) -> None:
    refused = refusal(scope(**changes))
    assert (refused[0] if refused else None) == status
