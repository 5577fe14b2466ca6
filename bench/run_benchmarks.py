"""`make bench`: the pipeline against DuckDB and pandas on the same generated files, plus the targets.

Each measured run is a child process (`--child`), so its peak RSS (from os.wait4) is that variant's
alone. Generated elections are cached under bench-results/data/ by size and seed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
LISTS = 20
BATCH = 1_000
GB = 1024**3

# The product's goals, from issue 17 (which tightened issue 9's).
TARGET_FLOOR_RATIO = 10.0
TARGET_PEAK_BYTES = 1.5 * GB
TARGET_INCREMENTAL_SECONDS = 0.3  # to republication
TARGET_INCREMENTAL_CALL_SECONDS = 0.5  # the whole call
TARGET_INCREMENTAL_GROWTH = 1.5
TARGET_REBUILD_SECONDS = 5.0
TARGET_VERIFY_SECONDS = 15.0
TARGET_PER_FILE_SECONDS = 0.05
# A national delivery as a commission sends it (issue 17): 96,325 polling stations, 14 lists, one
# file per region of about 1,100 stations, 85 files; and the same stations in one file beside it.
DELIVERY_STATIONS = 96_325
DELIVERY_LISTS = 14
DELIVERY_FILES = 85
DELIVERY_REGIONS = 17


@dataclass(frozen=True)
class ChildRun:
    result: dict[str, Any]
    peak_rss_bytes: int
    wall_seconds: float  # includes interpreter start-up and imports


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class ChildFailed(RuntimeError):
    """A measured run failed or was stopped for using too much memory."""


def _watch_memory(pid: int, cap_bytes: int, tripped: threading.Event) -> None:
    """The machine is shared: stop a child whose resident memory passes the cap instead of swapping."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        rss_kb = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:")), 0)
        if rss_kb * 1024 > cap_bytes:
            tripped.set()
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.2)


def run_child(task: dict[str, Any], cap_bytes: int) -> ChildRun:
    """Run one variant in a fresh interpreter and read its own peak RSS from wait4."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.run_benchmarks", "--child", json.dumps(task)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    tripped = threading.Event()
    threading.Thread(target=_watch_memory, args=(child.pid, cap_bytes, tripped), daemon=True).start()
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if tripped.is_set():
        raise ChildFailed(f"stopped: resident memory passed the cap of {cap_bytes / GB:g} GB")
    if child.returncode != 0:
        raise ChildFailed(f"failed with exit code {child.returncode}")
    lines = output.strip().splitlines()
    return ChildRun(json.loads(lines[-1]), usage.ru_maxrss * 1024, time.perf_counter() - started)


def child_main(task: dict[str, Any]) -> None:
    from bench import variants

    variant = str(task["variant"])
    import_seconds = (
        variants.load_pipeline() if variant in ("full", "incremental", "rebuild", "verify") else 0.0
    )
    data = Path(task.get("data", "."))
    warehouse = Path(task.get("warehouse", "."))
    # CPU time of every thread, beside the wall time: on a shared machine it moves less with the load.
    cpu_started = time.process_time()
    if variant == "floor":
        result = variants.duckdb_floor(data)
    elif variant == "pandas":
        result = variants.pandas_groupby(data)
    elif variant == "full":
        result = variants.full_pipeline(data, warehouse)
    elif variant == "cli":
        result = variants.cli_ingest(data, warehouse)
    elif variant == "incremental":
        result = variants.incremental_batch(Path(task["batch"]), warehouse)
    elif variant == "rebuild":
        result = variants.rebuild(warehouse)
    elif variant == "results_api":
        from bench.results_api_load import measure_results_api

        result = measure_results_api(warehouse, clients=int(task["clients"]), seconds=float(task["seconds"]))
    elif variant == "verify":
        result = variants.verify(warehouse)
    elif variant == "forensics":
        from bench.forensics_timing import forensics

        result = forensics(warehouse)
    else:
        raise SystemExit(f"unknown variant {variant}")
    cpu_seconds = round(time.process_time() - cpu_started, 3)
    print(json.dumps({**result, "cpu_seconds": cpu_seconds, "import_seconds": round(import_seconds, 3)}))


def dataset(size: int, seed: int, root: Path) -> Path:
    """The generated election of this size and seed, written once and reused by later runs."""
    from pipelines.synthetic.scale_generator import ScaleSpec, default_region_count, generate

    folder = root / "data" / f"n{size}-l{LISTS}-s{seed}"
    done = folder / "_COMPLETE"  # collect_files skips names starting with "_"
    if not done.exists():
        log(f"generating {size:,} polling stations x {LISTS} lists (seed {seed}) into {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        generate(ScaleSpec(size, LISTS, default_region_count(size), seed), folder)
        done.write_text("generated by bench/run_benchmarks.py\n", encoding="utf-8")
    return folder


def delivery_dataset(seed: int, root: Path, *, files: int) -> Path:
    """The national delivery in `files` files (85, or 1), written once and reused."""
    from pipelines.synthetic.scale_generator import ScaleSpec, generate

    folder = root / "data" / f"delivery-{DELIVERY_STATIONS}x{DELIVERY_LISTS}-f{files}-s{seed}"
    done = folder / "_COMPLETE"
    if not done.exists():
        log(f"generating a delivery of {DELIVERY_STATIONS:,} stations in {files} file(s) into {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        chunk = -(-DELIVERY_STATIONS // files)
        spec = ScaleSpec(DELIVERY_STATIONS, DELIVERY_LISTS, DELIVERY_REGIONS, seed, chunk_size=chunk)
        generate(spec, folder)
        done.write_text("generated by bench/run_benchmarks.py\n", encoding="utf-8")
    return folder


def _same_task(task: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    return lambda _run: task


def bench_delivery(args: argparse.Namespace) -> dict[str, Any]:
    """The delivery against the floor on the same files, and the same stations in one file: what the
    84 more files cost over one is the per-file fixed cost."""
    cap = int(args.max_rss_gb * GB)
    out: dict[str, Any] = {"polling_stations": DELIVERY_STATIONS, "lists": DELIVERY_LISTS}
    for files, key in ((DELIVERY_FILES, "files"), (1, "one_file")):
        data = delivery_dataset(args.seed, args.out, files=files)
        on_data = {"data": str(data), "warehouse": str(args.out / "work" / f"delivery-f{files}")}
        label = f"delivery in {files} file(s)"
        if files == DELIVERY_FILES:
            out["floor"] = repeat(
                _same_task({"variant": "floor", **on_data}), args.repeats, f"{label} (a)", cap
            )
        full = _same_task({"variant": "full", **on_data})
        out[key] = repeat(full, args.full_repeats or 3, f"{label} (c)", cap)
        if files == DELIVERY_FILES:  # what a user waits for: (c) with start-up and imports
            cli = _same_task({"variant": "cli", **on_data})
            out["cli"] = repeat(cli, min(args.repeats, 3), f"{label}, elections ingest", cap)
        if files == 1:  # issue 19: `elections forensics --out` on the delivery's 96k stations
            forensics = _same_task({"variant": "forensics", **on_data})
            out["forensics"] = repeat(forensics, min(args.repeats, 3), "forensics of the delivery", cap)
        if not args.keep_warehouses:
            shutil.rmtree(on_data["warehouse"], ignore_errors=True)
    return out


def summarise(runs: Sequence[ChildRun]) -> dict[str, Any]:
    seconds = [r.result["seconds"] for r in runs]
    published = [r.result.get("to_publication_seconds", r.result["seconds"]) for r in runs]
    return {
        "median_seconds": statistics.median(seconds),
        "runs_seconds": seconds,
        "median_to_publication_seconds": statistics.median(published),
        "median_cpu_seconds": statistics.median(r.result.get("cpu_seconds", float("nan")) for r in runs),
        "peak_rss_bytes": max(r.peak_rss_bytes for r in runs),
        "child_wall_seconds": [round(r.wall_seconds, 3) for r in runs],
        "last": runs[-1].result,
    }


def repeat(task_for: Callable[[int], dict[str, Any]], times: int, label: str, cap: int) -> dict[str, Any]:
    """Run a variant `times` times (task_for(i) is run i's task); a failed run ends the series."""
    runs: list[ChildRun] = []
    for i in range(times):
        log(f"{label}: run {i + 1}/{times}")
        try:
            run = run_child(task_for(i), cap)
        except ChildFailed as exc:
            log(f"{label}: {exc}")
            return {"error": str(exc), **(summarise(runs) if runs else {})}
        phases = run.result.get("phases")
        cpu = run.result.get("cpu_seconds", float("nan"))
        peak = run.peak_rss_bytes / GB
        log(f"{label}: {run.result['seconds']:.3f}s (CPU {cpu:.1f}s), peak {peak:.2f} GB {phases or ''}")
        runs.append(run)
    return summarise(runs)


def bench_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    from bench.variants import write_amendments

    data = dataset(size, args.seed, args.out)
    warehouse = args.out / "work" / f"n{size}"
    cap = int(args.max_rss_gb * GB)
    full_repeats = args.full_repeats if args.full_repeats is not None else 3
    out: dict[str, Any] = {"polling_stations": size, "lists": LISTS}
    n = f"n={size:,}"
    on_data = {"data": str(data), "warehouse": str(warehouse)}
    out["floor"] = repeat(lambda i: {"variant": "floor", **on_data}, args.repeats, f"{n} (a) duckdb", cap)
    out["pandas"] = repeat(lambda i: {"variant": "pandas", **on_data}, args.repeats, f"{n} (b) pandas", cap)
    out["full"] = repeat(lambda i: {"variant": "full", **on_data}, full_repeats, f"{n} (c) pipeline", cap)
    if "error" in out["full"] and "median_seconds" not in out["full"]:
        return out  # no warehouse to add a batch to or rebuild

    def amendment_task(i: int) -> dict[str, Any]:
        batch = args.out / "work" / f"batch-n{size}" / f"amend-{i}.csv"
        write_amendments(data, batch, first=i * BATCH, count=BATCH)
        return {"variant": "incremental", "batch": str(batch), **on_data}

    out["incremental"] = repeat(amendment_task, args.repeats, f"{n} incremental {BATCH:,}", cap)
    out["rebuild"] = repeat(
        lambda i: {"variant": "rebuild", **on_data}, min(args.repeats, 3), f"{n} rebuild", cap
    )
    out["results_api"] = results_api_phase(warehouse, args, f"{n} results API", cap)
    out["verify"] = repeat(
        lambda i: {"variant": "verify", **on_data}, min(args.repeats, 3), f"{n} verify", cap
    )
    if not args.keep_warehouses:
        shutil.rmtree(warehouse, ignore_errors=True)
    return out


def results_api_phase(warehouse: Path, args: argparse.Namespace, label: str, cap: int) -> dict[str, Any]:
    """`elections serve` over the warehouse and its publications, polled by concurrent clients."""
    task = {"variant": "results_api", "warehouse": str(warehouse)}
    task.update({"clients": args.api_clients, "seconds": args.api_seconds})
    log(f"{label}: {args.api_clients} clients, {args.api_seconds:g} s of 304s then of 200s")
    try:
        run = run_child(task, cap)
    except ChildFailed as exc:
        log(f"{label}: {exc}")
        return {"error": str(exc)}
    for status in ("304", "200"):
        phase = run.result[status]
        log(
            f"{label} {status}: {phase['requests_per_second']:g} req/s, p99 {phase['p99_ms']} ms, "
            f"statuses {phase['statuses']}, errors {phase['errors']}"
        )
    return run.result


def median(results: dict[str, Any], variant: str) -> float:
    return float(results.get(variant, {}).get("median_seconds", float("nan")))


def to_publication(results: dict[str, Any], variant: str) -> float:
    return float(results.get(variant, {}).get("median_to_publication_seconds", float("nan")))


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def targets(
    results: dict[str, dict[str, Any]], delivery: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every target of issue 17 that this run has the sizes to judge (a failed run misses its target)."""
    checks: list[dict[str, Any]] = []

    def check(name: str, measured: float, goal: str, met: bool) -> None:
        checks.append({"target": name, "measured": round(measured, 4), "goal": goal, "met": bool(met)})

    if delivery:
        files, floor_85 = median(delivery, "files"), median(delivery, "floor")
        check(
            f"delivery of {DELIVERY_FILES} files, (c)/(a)",
            ratio(files, floor_85),
            f"<= {TARGET_FLOOR_RATIO:g}",
            files <= TARGET_FLOOR_RATIO * floor_85,
        )
        per_file = (files - median(delivery, "one_file")) / (DELIVERY_FILES - 1)
        check(
            "fixed cost per file, s",
            per_file,
            f"<= {TARGET_PER_FILE_SECONDS:g}",
            per_file <= TARGET_PER_FILE_SECONDS,
        )
        if "forensics" in delivery:
            from bench.forensics_timing import TARGET_FORENSICS_SECONDS

            screen = median(delivery, "forensics")
            goal = TARGET_FORENSICS_SECONDS
            check(
                f"forensics --out, {DELIVERY_STATIONS:,} stations, s", screen, f"<= {goal:g}", screen <= goal
            )
    if not results:
        return checks

    largest, smallest = max(results, key=int), min(results, key=int)
    r = results[largest]
    n = f"{int(largest):,}"
    full, floor, pandas = median(r, "full"), median(r, "floor"), median(r, "pandas")
    check(
        f"(c)/(a) at {n}",
        ratio(full, floor),
        f"<= {TARGET_FLOOR_RATIO:g}",
        full <= TARGET_FLOOR_RATIO * floor,
    )
    check(f"(c)/(b) at {n}", ratio(full, pandas), "< 1", full < pandas)
    peaks = [v["full"].get("peak_rss_bytes", 0) for v in results.values()]
    failed = any("error" in v["full"] for v in results.values())
    check(
        "peak RSS of (c), GB",
        max(peaks) / GB,
        f"<= {TARGET_PEAK_BYTES / GB:g}",
        max(peaks) <= TARGET_PEAK_BYTES and not failed,
    )
    # Republished = the new seat table committed and its publication folder written; the readers'
    # snapshot and the Data Docs site follow in the same call and are reported beside it.
    incremental = to_publication(r, "incremental")
    check(
        f"incremental {BATCH:,} into {n} republished, s",
        incremental,
        f"<= {TARGET_INCREMENTAL_SECONDS:g}",
        incremental <= TARGET_INCREMENTAL_SECONDS,
    )
    call = median(r, "incremental")
    check(
        f"incremental {BATCH:,} into {n}, whole call, s",
        call,
        f"<= {TARGET_INCREMENTAL_CALL_SECONDS:g}",
        call <= TARGET_INCREMENTAL_CALL_SECONDS,
    )
    if smallest != largest:
        growth = ratio(incremental, to_publication(results[smallest], "incremental"))
        check(
            f"incremental into {n} / into {int(smallest):,}",
            growth,
            f"<= {TARGET_INCREMENTAL_GROWTH:g}",
            growth <= TARGET_INCREMENTAL_GROWTH,
        )
    rebuild = median(r, "rebuild")
    check(f"rebuild at {n}, s", rebuild, f"<= {TARGET_REBUILD_SECONDS:g}", rebuild <= TARGET_REBUILD_SECONDS)
    audit = median(r, "verify")
    check(f"verify at {n}, s", audit, "<= 15", audit <= TARGET_VERIFY_SECONDS)
    return checks


def delivery_lines(delivery: dict[str, Any] | None) -> list[str]:
    if not delivery:
        return []
    a, c, one = median(delivery, "floor"), median(delivery, "files"), median(delivery, "one_file")
    cpu = [float(delivery.get(k, {}).get("median_cpu_seconds", float("nan"))) for k in ("files", "one_file")]
    return [
        f"delivery {DELIVERY_STATIONS:,} stations x {DELIVERY_LISTS} lists: (a) {a:.3f}s, "
        f"(c) in {DELIVERY_FILES} files {c:.2f}s ({ratio(c, a):.0f}x), in one file {one:.2f}s, "
        f"peak (c) {delivery.get('files', {}).get('peak_rss_bytes', 0) / GB:.2f}GB; "
        f"CPU {cpu[0]:.1f}s and {cpu[1]:.1f}s, per file {(cpu[0] - cpu[1]) / (DELIVERY_FILES - 1):.3f}s",
        f"delivery through `elections ingest`, start-up and imports included: {median(delivery, 'cli'):.2f}s",
    ]


def table(
    results: dict[str, dict[str, Any]],
    checks: list[dict[str, Any]],
    delivery: dict[str, Any] | None = None,
    latency: dict[str, Any] | None = None,
) -> str:
    head = (
        f"{'stations':>10} {'(a) duckdb':>11} {'(b) pandas':>11} {'(c) pipeline':>13} {'c/a':>7} "
        f"{'c/b':>6} {'peak (c)':>9} {'incr 1k':>8} {'(publ.)':>8} {'rebuild':>8} {'verify':>8}"
    )
    lines = [head, "-" * len(head)] if results else []
    for size in sorted(results, key=int):
        r = results[size]
        a, b, c = median(r, "floor"), median(r, "pandas"), median(r, "full")
        peak = r["full"].get("peak_rss_bytes", 0) / GB
        lines.append(
            f"{int(size):>10,} {a:>10.3f}s {b:>10.3f}s {c:>12.2f}s {ratio(c, a):>7.0f} {ratio(c, b):>6.1f} "
            f"{peak:>7.2f}GB {median(r, 'incremental'):>7.2f}s {to_publication(r, 'incremental'):>7.2f}s "
            f"{median(r, 'rebuild'):>7.2f}s {median(r, 'verify'):>7.2f}s"
        )
        errors = [f"{k}: {v['error']}" for k, v in r.items() if isinstance(v, dict) and "error" in v]
        lines.extend(f"{'':>10} {e}" for e in errors)
    lines.extend(api_lines(results))
    lines.extend(delivery_lines(delivery))
    lines.extend(latency_lines(latency))
    lines.append("")
    for check in checks:
        verdict = "MET " if check["met"] else "MISS"
        line = f"{verdict}  {check['target']}: {check['measured']:g} (goal {check['goal']})"
        over = shortfall(check)
        lines.append(line if over is None else f"{line}, missed by {over:.2f}x")
    return "\n".join(lines)


def shortfall(check: Mapping[str, Any]) -> float | None:
    """How many times its goal a missed target measured (`<= 10` measured 21: 2.1); None when met or
    when the goal is no upper bound."""
    bound = str(check["goal"]).removeprefix("<=").removeprefix("<").strip()
    if check["met"] or bound == str(check["goal"]).strip():
        return None
    try:
        goal = float(bound)
    except ValueError:
        return None
    return float(check["measured"]) / goal if goal > 0 else None


def api_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for size in sorted(results, key=int):
        api = results[size].get("results_api", {})
        for status in ("304", "200"):
            phase = api.get(status)
            if phase:
                lines.append(
                    f"{int(size):>10,} results API {status}: {phase['requests_per_second']:>8.1f} req/s, "
                    f"p99 {phase['p99_ms']:>7.1f} ms, {phase['clients']} clients, {phase['errors']} errors, "
                    f"statuses {phase['statuses']}"
                )
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="e.g. 10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="runs of the cheap variants (median)")
    parser.add_argument("--full-repeats", type=int, help="runs of (c) (default 3)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results")
    parser.add_argument("--max-rss-gb", type=float, default=12.0, help="stop a child above this RSS")
    parser.add_argument("--keep-warehouses", action="store_true", help="keep bench-results/work/")
    parser.add_argument("--api-clients", type=int, default=200, help="concurrent results-API clients")
    parser.add_argument("--api-seconds", type=float, default=5.0, help="length of each results-API phase")
    parser.add_argument(
        "--api-only",
        type=Path,
        metavar="WAREHOUSE",
        help="only the results-API phase, over this existing warehouse (which must have a publication)",
    )
    parser.add_argument(
        "--skip-delivery", action="store_true", help="skip the 85-file national delivery (issue 17)"
    )
    parser.add_argument(
        "--latency-files", type=int, default=12, help="files of 1,000 stations in the latency night (12)"
    )
    parser.add_argument(
        "--latency-spacing", type=float, default=15.0, help="mean seconds between them (15, +-50 %%)"
    )
    parser.add_argument("--skip-latency", action="store_true", help="leave out the drop-to-publish phase")
    parser.add_argument("--latency-only", action="store_true", help="only the drop-to-publish phase")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    if args.api_only:
        api = results_api_phase(args.api_only, args, "results API", int(args.max_rss_gb * GB))
        print(json.dumps(api, indent=1))
        return 1 if "error" in api or any(api[s]["errors"] for s in ("304", "200")) else 0
    if args.skip_latency and args.latency_only:
        raise SystemExit("bench: --skip-latency and --latency-only exclude each other")
    sizes = [] if args.latency_only else [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results: dict[str, dict[str, Any]] = {}
    latency: dict[str, Any] | None = None
    started = time.perf_counter()
    delivery = None if args.skip_delivery or args.latency_only else bench_delivery(args)
    for size in sizes:
        results[str(size)] = bench_size(size, args)
        _write_report(args.out, results, [], started, delivery)  # a partial report survives an interruption
    if not args.skip_latency:
        latency = latency_phase(args)
    checks = targets(results, delivery) + (latency_checks(latency) if latency is not None else [])
    path = _write_report(args.out, results, checks, started, delivery, latency)
    print(table(results, checks, delivery, latency))
    print(f"\nreport: {path}")
    return 0


def latency_phase(args: argparse.Namespace) -> dict[str, Any]:
    """Drop-to-publish under the real scheduler (bench/latency.py); a failure is reported, not raised."""
    from bench.latency import measure_latency

    try:
        return measure_latency(args.latency_files, args.latency_spacing, args.seed)
    except Exception as exc:  # the phase's failure is a missed target in the report, not a crash
        from bench.latency import log as latency_log

        latency_log(f"failed: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def latency_checks(latency: dict[str, Any]) -> list[dict[str, Any]]:
    from bench.latency_figures import checks

    return checks(latency)


def latency_lines(latency: dict[str, Any] | None) -> list[str]:
    if latency is None:
        return []
    if "error" in latency:
        return [f"drop-to-publish: {latency['error']}"]
    missing = f", {latency['missing']} never published" if latency["missing"] else ""
    night = latency["load"]
    return [
        f"drop-to-publish, real scheduler, {latency['files']} files of {latency['stations_per_file']:,} "
        f"stations ~{latency['mean_spacing_seconds']:g} s apart: p50 {latency['p50_seconds']:.1f} s, "
        f"p95 {latency['p95_seconds']:.1f} s, max {latency['max_seconds']:.1f} s{missing} "
        f"(1-min load {night['night_start'][0]:g} at the start, {night['night_end'][0]:g} at the end)",
        "  where it went (median per file): "
        + ", ".join(f"{name} {v['median_seconds']:.1f} s" for name, v in latency["breakdown"].items()),
    ]


def _write_report(
    out: Path,
    results: dict[str, dict[str, Any]],
    checks: list[dict[str, Any]],
    started: float,
    delivery: dict[str, Any] | None = None,
    latency: dict[str, Any] | None = None,
) -> Path:
    report: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "node": platform.node()},
        "total_seconds": round(time.perf_counter() - started, 1),
        "delivery": delivery,
        "results": results,
        "targets": checks,
    }
    if latency is not None:
        report["latency"] = latency
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
