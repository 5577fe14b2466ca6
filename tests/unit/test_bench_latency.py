"""The drop-to-publish figures of `make bench` (bench/latency_figures.py): percentiles, the publication
that first includes a file, where its time went, and the verdicts on the targets of issue 17."""

from __future__ import annotations

import math

import pytest

from bench.latency_figures import (
    MILESTONES,
    TO_PUBLICATION,
    SeenPublication,
    checks,
    first_publication,
    nearest_rank,
    segments,
    summary,
)


def test_nearest_rank_is_always_a_measured_value() -> None:
    ten = [float(x) for x in range(10, 0, -1)]  # unordered on purpose
    assert nearest_rank(ten, 50) == 5.0
    assert nearest_rank(ten, 95) == 10.0  # fewer than 20 values: p95 is the maximum
    twenty = [float(x) for x in range(1, 21)]
    assert nearest_rank(twenty, 95) == 19.0
    assert nearest_rank([7.0], 50) == 7.0
    assert math.isnan(nearest_rank([], 50))


def test_the_first_publication_to_appear_whose_base_covers_the_file() -> None:
    seen = [
        SeenPublication("a", based_on_position=100, seen_at=10.0),
        SeenPublication("c", based_on_position=300, seen_at=30.0),
        SeenPublication("b", based_on_position=200, seen_at=20.0),
    ]
    assert first_publication(150, seen) == seen[2]
    assert first_publication(100, seen) == seen[0]
    assert first_publication(301, seen) is None


def test_segments_add_up_to_the_latency_and_skip_what_came_before_the_file() -> None:
    arrived, published = 100.0, 106.0
    passed = {
        "watcher": 101.0,
        "run created": 101.5,
        "run started": 101.5,
        "scan launched": 102.0,
        "scan ran": 103.0,
        "ingest launched": 104.0,
    }
    split = segments(arrived, published, passed)
    assert list(split) == [*MILESTONES, TO_PUBLICATION]
    assert split["watcher"] == 1.0 and split["scan ran"] == 1.0 and split[TO_PUBLICATION] == 2.0
    assert sum(split.values()) == pytest.approx(published - arrived)
    # Delivered while its run was already scanning (a cron run, no watcher event): only what followed.
    late = segments(102.5, published, {**passed, "watcher": None})
    assert late["watcher"] == late["run created"] == late["scan launched"] == 0.0
    assert late["scan ran"] == 0.5
    assert sum(late.values()) == pytest.approx(published - 102.5)


def test_targets_are_judged_on_p50_and_p95_and_a_missing_file_misses_both() -> None:
    figures = summary([3.0, 4.0, 5.0, 6.0, 16.0])
    assert (figures["p50_seconds"], figures["p95_seconds"], figures["max_seconds"]) == (5.0, 16.0, 16.0)
    verdicts = {c["target"]: c["met"] for c in checks(figures)}
    assert verdicts == {"drop-to-publish p50, s": True, "drop-to-publish p95, s": False}
    incomplete = summary([3.0, 4.0], missing=1)
    assert incomplete["files"] == 3
    assert not any(c["met"] for c in checks(incomplete))
    assert not any(c["met"] for c in checks({"error": "Airflow did not start"}))
