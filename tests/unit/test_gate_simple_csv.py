"""The quote-free fast reader gives exactly what the csv-module reader gives, on random files."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from pipelines.gate import protocol_format
from pipelines.gate.protocol_format import FormatRejection, RawTable, read_raw_table

LISTS = ("amanat", "ak_zhol", "auyl")
HEADER = [
    "election_id",
    "precinct_id",
    "region",
    "registered_voters",
    "ballots_cast",
    "invalid_ballots",
    *LISTS,
]
# Cells that test stripping, blanks and non-ASCII (Python's strip and Arrow's must agree on these).
CELLS = ["1", " 2 ", "", "  ", "\t7", "x", "-3", "+4", "\xa0", "\xa05\xa0", "ü", "\u2028", "\x85", "P-1 "]


def random_line(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.55:
        return ",".join(rng.choice(CELLS) for _ in HEADER)
    if choice < 0.62:
        return ""
    if choice < 0.68:
        return "," * rng.randrange(0, 12)
    if choice < 0.72:
        return rng.choice([" ", "\t", "\xa0", " , ,", "\u2028,", "\x85"])
    if choice < 0.8:
        return ",".join(rng.choice(CELLS) for _ in range(rng.randrange(1, 14)))
    if choice < 0.86:
        return ",".join(f" {name} " if rng.random() < 0.5 else name for name in HEADER)
    if choice < 0.9:
        return ",".join([*HEADER[:-1], "auyl2"])
    return ",".join([HEADER[0], *(rng.choice(CELLS) for _ in HEADER[1:])])


def random_file(rng: random.Random) -> str:
    lines = [random_line(rng) for _ in range(rng.randrange(0, 3))]
    lines.append(",".join(HEADER) if rng.random() < 0.9 else random_line(rng))
    lines.extend(random_line(rng) for _ in range(rng.randrange(0, 40)))
    newline = rng.choice(["\n", "\r\n"])
    text = newline.join(lines)
    return text + newline if rng.random() < 0.7 else text


def clean_file(rng: random.Random) -> str:
    """Every line after the header a record (Arrow's CSV reader takes these), now and then a bad one."""
    lines = [random_line(rng) for _ in range(rng.randrange(0, 2))]
    lines.append(",".join(HEADER))
    for _ in range(rng.randrange(1, 30)):
        roll = rng.random()
        lines.append(random_line(rng) if roll < 0.05 else ",".join(rng.choice(CELLS[:9]) for _ in HEADER))
    newline = rng.choice(["\n", "\r\n"])
    text = newline.join(lines)
    return text + newline if rng.random() < 0.7 else text


def read_both(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    fast = read_raw_table(path, list_ids=LISTS)
    with monkeypatch.context() as patch:
        patch.setattr(protocol_format, "_simple_table", lambda *args, **kwargs: None)
        slow = read_raw_table(path, list_ids=LISTS)
    return fast, slow


def same(fast: object, slow: object) -> None:
    if isinstance(slow, FormatRejection):
        assert fast == slow
        return
    assert isinstance(fast, RawTable) and isinstance(slow, RawTable)
    assert (fast.kind, fast.columns, fast.row_problems, fast.had_bom, fast.line_ending) == (
        slow.kind,
        slow.columns,
        slow.row_problems,
        slow.had_bom,
        slow.line_ending,
    )
    assert fast.cells.schema == slow.cells.schema and fast.cells.equals(slow.cells)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)


@pytest.mark.parametrize("seed", range(300))
def test_fast_reader_matches_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    text = random_file(random.Random(seed))
    fast, slow = read_both(tmp_path, text, monkeypatch)
    same(fast, slow)


@pytest.mark.parametrize("seed", range(200))
def test_arrow_reader_matches_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    text = clean_file(random.Random(seed))
    fast, slow = read_both(tmp_path, text, monkeypatch)
    same(fast, slow)


def test_arrow_reader_takes_clean_files_and_leaves_bad_ones_to_the_line_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrow_cells = protocol_format._arrow_cells
    made: list[pa.Table | None] = []

    def spy(*args: Any, **kwargs: Any) -> pa.Table | None:
        made.append(arrow_cells(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(protocol_format, "_arrow_cells", spy)
    taken = 0
    for seed in range(200):
        made.clear()
        table = protocol_format._simple_table(clean_file(random.Random(seed)), list_ids=LISTS, had_bom=False)
        if isinstance(table, RawTable) and made and made[0] is not None:
            taken += 1
            assert not table.row_problems and made[0] is table.cells
        elif isinstance(table, RawTable) and table.row_problems:
            assert not made or made[0] is None
    assert taken > 50


def test_fast_reader_is_used_for_a_plain_file_and_not_for_a_quoted_one(tmp_path: Path) -> None:
    plain = ",".join(HEADER) + "\n" + ",".join(["e", "P-1", "n", "9", "5", "1", "2", "1", "1"]) + "\n"
    assert isinstance(protocol_format._simple_table(plain, list_ids=LISTS, had_bom=False), RawTable)
    quoted = plain.replace("P-1", '"P-1"')
    assert protocol_format._simple_table(quoted, list_ids=LISTS, had_bom=False) is None
    lone_cr = plain.replace("\n", "\r")
    assert protocol_format._simple_table(lone_cr, list_ids=LISTS, had_bom=False) is None


def test_a_line_above_the_field_limit_is_left_to_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv, "field_size_limit", lambda: 40)
    text = ",".join(HEADER) + "\n" + ",".join(["e", "P-1", "x" * 50, "9", "5", "1", "2", "1", "1"]) + "\n"
    assert protocol_format._simple_table(text, list_ids=LISTS, had_bom=False) is None


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_an_ascii_file_without_blanks_is_read_unstripped_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    rng = random.Random(7)
    lines = [",".join(HEADER)]
    lines.extend(
        ",".join(rng.choice(["1", "-3", "+4", "x", "", "P-1", "=A1"]) for _ in HEADER) for _ in range(50)
    )
    text = newline.join(lines) + newline
    assert " " not in text and "\t" not in text
    fast, slow = read_both(tmp_path, text, monkeypatch)
    same(fast, slow)
    assert (
        isinstance(fast, RawTable) and len(fast.frame) == 50 and list(fast.frame["row"]) == list(range(2, 52))
    )
