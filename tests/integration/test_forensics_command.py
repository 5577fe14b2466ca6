"""`elections forensics` on a small real warehouse: the table, the files of --out, no results yet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.audit.forensics_publication import publication_basis
from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_NO_RESULTS, EXIT_OK, PipelineError
from pipelines.core.paths import WarehousePaths
from pipelines.orchestration.dag_tasks import screen_newest_publications, screen_published
from pipelines.store.event_store import open_read_only
from pipelines.store.queries import query
from tests.support.small_election import precinct_ids, protocol, write_declaration, write_protocols

NOTE = "Screening, not proof"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("forensics")
    # Nine of twelve precincts report; alpha leads everywhere. P001's 600 ballots are 60% turnout.
    rows = [protocol(pid, (480 - 7 * i, 100 + 3 * i, 60, 20 + i)) for i, pid in enumerate(precinct_ids(9))]
    write_declaration(folder / "inbox")
    write_protocols(folder / "inbox", "batch.csv", rows)
    assert main(["ingest", str(folder / "inbox"), "--warehouse", str(folder / "warehouse")]) == EXIT_OK
    return folder / "warehouse"


def test_the_table_screens_the_nation_and_each_region_and_says_it_is_not_proof(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forensics", "--warehouse", str(warehouse), "--draws", "100"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(NOTE)
    assert "9 counted stations; leader alpha" in out
    scopes = [line.split()[0] for line in out.splitlines() if line.split()[:1] in (["(national)"], ["north"])]
    assert scopes == ["(national)", "north"]
    assert "Screening, not proof (docs/forensics.md)" in out.splitlines()[-1]


def test_out_writes_images_and_tables_the_same_bytes_each_time(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        args = ["forensics", "--warehouse", str(warehouse), "--draws", "100", "--format", "json"]
        assert main([*args, "--out", str(tmp_path / name)]) == EXIT_OK
    document = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    assert document["note"].startswith(NOTE) and document["leader"] == "alpha"
    assert document["scopes"][0]["scope"] == "(national)" and document["scopes"][0]["stations"] == 9
    assert sum(map(sum, document["comet"]["voters"])) == document["scopes"][0]["ballots_cast"]
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"comet.svg", "comet.png", "turnout.svg", "turnout.png", "share-04.png", "regions.csv"} <= set(
        names
    )
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "comet.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert NOTE in (tmp_path / "a" / "turnout.svg").read_text(encoding="utf-8")
    assert (tmp_path / "a" / "regions.csv").read_text(encoding="utf-8").startswith("scope,stations,")


def test_before_the_first_result_there_is_nothing_to_screen(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Log position 1 is the declaration: no protocol had arrived.
    assert main(["forensics", "--warehouse", str(warehouse), "--as-of", "1"]) == EXIT_NO_RESULTS
    assert "no results of test-mazhilis reported by log position 1" in capsys.readouterr().err


def test_too_few_null_draws_to_ever_flag_are_refused(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["forensics", "--warehouse", str(warehouse), "--draws", "20"]) == EXIT_BAD_INPUT
    assert "--draws must be at least 100, not 20" in capsys.readouterr().err


def test_a_publication_is_screened_once_into_its_own_report_folder(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = WarehousePaths(warehouse)
    (publication,) = [p.name for p in paths.publications.iterdir() if not p.name.startswith(".")]
    args = ["forensics", "--warehouse", str(warehouse), "--publication", publication]
    assert main(args) == EXIT_OK
    assert "9 counted stations screened as of log position" in capsys.readouterr().out
    report = paths.forensics / publication
    # What --out writes as of the publication's base position, byte for byte, and nothing else.
    with open_read_only(paths.snapshot) as conn:
        _, position = publication_basis(conn, publication)
    out = ["forensics", "--warehouse", str(warehouse), "--as-of", str(position), "--out", str(tmp_path)]
    assert main(out) == EXIT_OK
    assert sorted(p.name for p in report.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for path in tmp_path.iterdir():
        assert (report / path.name).read_bytes() == path.read_bytes(), path.name
    assert not [p for p in paths.forensics.iterdir() if p.name.startswith(".")]  # no staging left behind
    before = {p.name: p.stat().st_mtime_ns for p in report.iterdir()}
    capsys.readouterr()
    assert main(args) == EXIT_OK  # a second run is a no-op
    assert "was screened already" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in report.iterdir()} == before


def test_a_publication_the_snapshot_does_not_hold_or_mixed_options_are_bad_input(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["forensics", "--warehouse", str(warehouse), "--publication"]
    assert main([*args, "../publications"]) == EXIT_BAD_INPUT
    assert "no publication '../publications' in the readers' snapshot" in capsys.readouterr().err
    assert main([*args, "x--provisional--1", "--as-of", "3"]) == EXIT_BAD_INPUT
    assert "--as-of cannot be given with --publication" in capsys.readouterr().err


def test_election_night_s_screen_tries_every_publication_and_then_fails_naming_those_it_could_not(
    warehouse: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(warehouse, tmp_path / "warehouse", symlinks=True))
    (publication,) = [
        p.name for p in WarehousePaths(copy).publications.iterdir() if not p.name.startswith(".")
    ]
    with pytest.raises(PipelineError, match=r"forensic screen failed for nope \(its publication stands\)"):
        screen_published(["nope", publication], warehouse=copy)
    assert (WarehousePaths(copy).forensics / publication / "forensics.html").is_file()
    assert screen_published([publication], warehouse=copy) == {"screened": [publication]}  # no-op


def test_the_screening_dag_screens_the_newest_publication_without_a_report_once(
    warehouse: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(warehouse, tmp_path / "warehouse", symlinks=True))
    forensics = WarehousePaths(copy).forensics
    (older,) = [p.name for p in WarehousePaths(copy).publications.iterdir() if not p.name.startswith(".")]
    screen_published([older], warehouse=copy)
    write_protocols(tmp_path / "late", "late.csv", [protocol("P010", (300, 90, 50, 20))])
    assert main(["ingest", str(tmp_path / "late"), "--warehouse", str(copy)]) == EXIT_OK
    with open_read_only(WarehousePaths(copy).snapshot) as conn:
        (*_, (newer,)) = conn.execute(query("publication_ids")).fetchall()  # in log order
    assert newer != older and not (forensics / newer).exists()

    assert screen_newest_publications(warehouse=copy) == {"screened": [newer]}
    assert "10 counted stations" in (forensics / newer / "forensics.html").read_text(encoding="utf-8")
    before = {p.name: p.stat().st_mtime_ns for p in forensics.iterdir()}
    assert screen_newest_publications(warehouse=copy) == {"screened": []}  # nothing new: a no-op
    assert {p.name: p.stat().st_mtime_ns for p in forensics.iterdir()} == before
    assert sorted(before) == sorted([older, newer])
