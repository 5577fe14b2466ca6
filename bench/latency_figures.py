"""The drop-to-publish figures from what was observed: which publication first includes each file, its
latency, where that time went, the percentiles and the verdicts on the targets of issue 17.

Pure functions over plain numbers (epoch seconds), so they are tested without Airflow.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Issue 17: a file of 1,000 polling stations reaches a publication within these, under the real scheduler.
TARGET_P50_SECONDS = 8.0
TARGET_P95_SECONDS = 15.0

# The milestones a file passes on its way to a publication, in order (bench/README.md says what each is).
MILESTONES = (
    "watcher",  # the triggerer's FileDeleteTrigger saw the _READY marker: the asset event's time
    "run created",  # the scheduler created the run (asset event, or the every-minute cron)
    "run started",  # the run left the queue (max_active_runs=1: a run under way holds the next back)
    "scan launched",  # scan_inbox's process reported it runs
    "scan ran",  # scan_inbox ended (the DAG file parsed, the inbox listed)
    "ingest launched",  # ingest_and_publish's process reported it runs
)
TO_PUBLICATION = "ingest to publication"  # imports, GX, append, projections, publish: the folder appears
SEGMENTS = (*MILESTONES, TO_PUBLICATION)


@dataclass(frozen=True)
class SeenPublication:
    publication_id: str
    based_on_position: int  # the log position its figures are as of
    seen_at: float  # when its folder first appeared in the publications folder (epoch seconds)


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `percent` % of the values at or
    below it, always one of the values measured (with fewer than 20 values p95 is the maximum)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def first_publication(position: int, seen: Sequence[SeenPublication]) -> SeenPublication | None:
    """The publication that first showed the events up to `position`: the earliest to appear whose
    base position covers them."""
    covering = [p for p in seen if p.based_on_position >= position]
    return min(covering, key=lambda p: (p.seen_at, p.based_on_position), default=None)


def segments(arrived: float, published: float, milestones: Mapping[str, float | None]) -> dict[str, float]:
    """Seconds from arrival to publication, split at the milestones passed in between. A milestone
    before the arrival (the file came while its run was already under way) or not passed (a cron
    run has no watcher event) takes no time; the segments add up to the latency."""
    out: dict[str, float] = {}
    previous = arrived
    for name in MILESTONES:
        moment = milestones.get(name)
        if moment is None:
            out[name] = 0.0
            continue
        reached = min(max(moment, previous), published)
        out[name] = reached - previous
        previous = reached
    out[TO_PUBLICATION] = max(published - previous, 0.0)
    return out


def summary(latencies: Sequence[float], missing: int = 0) -> dict[str, Any]:
    """p50, p95 and max of the files that reached a publication; `missing` counts those that did not."""
    return {
        "files": len(latencies) + missing,
        "published": len(latencies),
        "missing": missing,
        "p50_seconds": nearest_rank(latencies, 50),
        "p95_seconds": nearest_rank(latencies, 95),
        "max_seconds": max(latencies, default=math.nan),
        "min_seconds": min(latencies, default=math.nan),
    }


def breakdown(per_file: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Median and maximum of each segment over the files."""
    return {
        name: {
            "median_seconds": statistics.median(s[name] for s in per_file),
            "max_seconds": max(s[name] for s in per_file),
        }
        for name in SEGMENTS
        if per_file
    }


def checks(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The targets of issue 17 on these figures; a file that never reached a publication misses both."""
    complete = not figures.get("missing") and figures.get("published", 0) > 0
    out = []
    for name, key, goal in (
        ("drop-to-publish p50, s", "p50_seconds", TARGET_P50_SECONDS),
        ("drop-to-publish p95, s", "p95_seconds", TARGET_P95_SECONDS),
    ):
        measured = float(figures.get(key, math.nan))
        out.append(
            {
                "target": name,
                "measured": round(measured, 4),
                "goal": f"<= {goal:g}",
                "met": bool(complete and measured <= goal),
            }
        )
    return out
