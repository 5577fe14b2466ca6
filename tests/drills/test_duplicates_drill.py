"""Every file delivered twice, shuffled, over several runs: the seat table of one clean run."""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

import pytest

from pipelines.ingestion.ingest import ingest_paths
from tests.drills.support import SeatRows, assert_store_sound, precinct_votes, seat_table

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes


@pytest.mark.parametrize("seed", range(2))
def test_twice_delivered_shuffled_files_give_the_clean_seat_table(
    seed: int, election_files: list[Path], clean_result: tuple[SeatRows, SeatRows], tmp_path: Path
) -> None:
    rng = random.Random(f"duplicates-drill-{seed}")
    declaration, protocols = election_files[0], election_files[1:]
    deliveries = [*protocols, *protocols]
    rng.shuffle(deliveries)
    warehouse = tmp_path / "warehouse"
    inbox = tmp_path / "inbox"
    # The declaration opens the night; the protocol files then arrive in 2-3 runs, each file twice
    # (sometimes both copies in one run, under another name, with shuffled arrival times).
    runs: list[list[Path]] = [[declaration]]
    cuts = sorted(rng.sample(range(1, len(deliveries)), rng.randint(1, 2)))
    for start, stop in zip([0, *cuts], [*cuts, len(deliveries)], strict=True):
        runs[-1].extend(deliveries[start:stop])
        runs.append([])
    now = time.time()
    for number, run in enumerate(r for r in runs if r):
        folder = inbox / f"run-{number}"
        folder.mkdir(parents=True)
        sent = []
        for position, source in enumerate(run):
            copy = folder / (
                f"resent-{position}-{source.name}" if (folder / source.name).exists() else source.name
            )
            shutil.copyfile(source, copy)
            arrival = now + rng.uniform(0, 100)
            os.utime(copy, (arrival, arrival))
            sent.append(copy)
        ingest_paths(sent, warehouse=warehouse)
    assert_store_sound(warehouse)
    clean_seats, clean_votes = clean_result
    assert seat_table(warehouse) == clean_seats
    assert precinct_votes(warehouse) == clean_votes
