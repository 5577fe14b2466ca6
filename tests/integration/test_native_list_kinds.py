"""A list's kind declared in a native layout (lists.kinds) goes into the declaration, as a protocol-v1
declaration's `kind` does, and a rule profile's kind_thresholds then gives that list its own threshold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_QUARANTINED
from pipelines.core.paths import REPO_ROOT, WarehousePaths

EXAMPLE = REPO_ROOT / "examples" / "native"
# docs/layouts.md's worked example: Zelenye Party has 562 of 4,462 valid list votes (12.6%): over 5%
# as a party, under 15% as a coalition.
RULES = """profile_id: native-kinds
seats: 10
method: hare
threshold_percent: "5"
threshold_base: valid_list_votes
kind_thresholds:
  coalition: "15"
"""


def layout_with(tmp_path: Path, kinds: dict[str, str]) -> Path:
    data = yaml.safe_load((EXAMPLE / "commission-cp1251.yaml").read_text(encoding="utf-8"))
    data["lists"]["kinds"] = kinds
    path = tmp_path / "layout.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_coalition_declared_in_the_layout_gets_the_coalitions_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [shutil.copyfile(EXAMPLE / name, tmp_path / name) for name in ("north.csv", "south.csv")]
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    paths = WarehousePaths(tmp_path / "warehouse")
    where = ["--warehouse", str(paths.root)]
    declare = ["declare", *map(str, files), "--rules", str(tmp_path / "rules.yaml"), "--election", "kinds",
               "--name", "Kinds", *where]  # fmt: skip

    # A kind for a list the files do not have: refused, naming it.
    assert (
        main([*declare, "--layout", str(layout_with(tmp_path, {"Green Party": "coalition"}))])
        == EXIT_BAD_INPUT
    )
    assert "lists.kinds names 'Green Party'" in capsys.readouterr().err

    layout = layout_with(tmp_path, {"Zelenye Party": "coalition"})
    assert main([*declare, "--layout", str(layout)]) == 0
    assert main(["ingest", *map(str, files), "--layout", str(layout), "--election", "kinds", *where]) == (
        EXIT_QUARANTINED  # the example's three unreadable rows, as in docs/layouts.md
    )
    with duckdb.connect(str(paths.snapshot), read_only=True) as conn:
        ((declared,),) = conn.execute(
            "SELECT payload FROM events WHERE event_type = 'ElectionDeclared'"
        ).fetchall()
        seats = conn.execute("SELECT list_id, votes, passed_threshold, seats FROM proj_seat_table").fetchall()
    # In the log as a protocol-v1 declaration carries it: `kind` written only where not a party.
    lists = json.loads(declared)["lists"]
    assert [(item["list_id"], item.get("kind")) for item in lists] == [
        ("zarya", None),
        ("narodny", None),
        ("zelenye_party", "coalition"),
    ]
    # As a party (docs/layouts.md) it passed with 1 seat; as a coalition it is under its 15%.
    assert sorted(seats) == [
        ("narodny", 1800, True, 5),
        ("zarya", 2100, True, 5),
        ("zelenye_party", 562, False, 0),
    ]
