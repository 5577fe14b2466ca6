"""`elections allocate` through the real entry point: output formats and exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pipelines.cli import main as cli

VOTES_2023 = """party,votes,order,name
amanat,3431510,1,Amanat
auyl,693938,2,Auyl
respublica,547154,3,Respublica
ak_zhol,535139,4,Ak Zhol
peoples_party,432920,5,People's Party
osdp,331058,6,OSDP
baytaq,146431,7,Baytaq
"""
VOTES_2004 = """party,votes
Otan,2883706
Ak Zhol,572672
Asar,541239
AIST,336177
Opposition bloc,163824
"""


@pytest.fixture(autouse=True)
def only_this_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # other commands are built in parallel; this test needs only its own
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("pipelines.cli.allocate_command",))


def _file(tmp_path: Path, text: str, name: str = "votes.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_registered_in_the_cli() -> None:
    # read the source: the fixture above replaces the module's tuple during tests
    assert '"pipelines.cli.allocate_command",' in Path(cli.__file__).read_text(encoding="utf-8")


def test_table_2023(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    votes = _file(tmp_path, VOTES_2023)
    code = cli.main(["allocate", "--rules", "kz-mazhilis-2023", "--votes", votes, "--against-all", "248291"])
    out = capsys.readouterr().out
    assert code == 0
    amanat = next(line for line in out.splitlines() if line.startswith("Amanat"))
    assert amanat.split()[-1] == "40" and "53.90" in amanat
    assert "How the seats were decided" in out


def test_csv_2023_gives_the_official_seats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    votes = _file(tmp_path, VOTES_2023)
    args = ["allocate", "--rules", "kz-mazhilis-2023", "--votes", votes, "--against-all", "248291"]
    assert cli.main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    seats = {r["list_id"]: int(r["seats"]) for r in rows}
    assert seats == {
        "amanat": 40,
        "auyl": 8,
        "respublica": 6,
        "ak_zhol": 6,
        "peoples_party": 5,
        "osdp": 4,
        "baytaq": 0,
    }


def test_json_and_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    votes = _file(tmp_path, VOTES_2004)
    args = ["allocate", "--rules", "kz-mazhilis-2004", "--votes", votes, "--format", "json"]
    assert cli.main([*args, "--method", "dhondt"]) == 0
    data = json.loads(capsys.readouterr().out)
    # D'Hondt by hand: Otan's 8th average 360,463 beats AIST's 336,177
    assert {r["list_id"]: r["seats"] for r in data["rows"]}["Otan"] == 8
    assert data["profile_id"] == "kz-mazhilis-2004+method=dhondt"
    assert cli.main([*args, "--threshold", "10", "--seats", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    passed = [r["list_id"] for r in data["rows"] if r["passed_threshold"]]
    assert passed == ["Ak Zhol", "Asar", "Otan"]  # no ballot order: rows by list id
    assert sum(r["seats"] for r in data["rows"]) == 20


def test_districts_combined(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    votes = _file(tmp_path, VOTES_2023)
    lines = ["district,candidate,party,votes"]
    lines += [f"{n},Winner {n},{'amanat' if n <= 20 else ''},{900 + n}" for n in range(1, 30)]
    lines += [f"{n},Other {n},osdp,100" for n in range(1, 30)]
    districts = _file(tmp_path, "\n".join(lines) + "\n", "districts.csv")
    args = ["allocate", "--rules", "kz-mazhilis-2023", "--votes", votes, "--against-all", "248291"]
    assert cli.main([*args, "--districts", districts, "--format", "csv"]) == 0
    rows = {r["party"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert (
        rows["amanat"]["list_seats"],
        rows["amanat"]["district_seats"],
        rows["amanat"]["total_seats"],
    ) == (
        "40",
        "20",
        "60",
    )
    assert rows["independent"]["district_seats"] == "9"
    assert cli.main([*args, "--districts", districts]) == 0
    assert "Combined seat table (69 list + 29 district seats)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("votes", "extra", "fragment"),
    [
        ("party,votes\nA,10\nB,x\n", [], "row 3, column 'votes'"),
        ("party,count\nA,10\n", [], "missing column 'votes'"),
        ("party,votes\nA,10\nA,5\n", [], "party appears twice"),
        ("party,votes\nA,10\n", ["--against-all", "-3"], "--against-all must be a whole number"),
        ("party,votes\nA,10\n", ["--method", "webster"], "--method must be one of"),
        ("party,votes\nA,10\n", ["--threshold", "seven"], "'--threshold'"),
        ("party,votes\nA,10\n", ["--format", "xml"], "--format must be one of"),
    ],
)
def test_bad_input_exits_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], votes: str, extra: list[str], fragment: str
) -> None:
    path = _file(tmp_path, votes)
    assert cli.main(["allocate", "--rules", "kz-mazhilis-2021", "--votes", path, *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert fragment in captured.err and "Traceback" not in captured.err


def test_unknown_rules_and_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["allocate", "--rules", "kz-mazhilis-1999", "--votes", _file(tmp_path, VOTES_2004)]) == 2
    assert "no rule profile" in capsys.readouterr().err
    assert cli.main(["allocate", "--rules", "kz-mazhilis-2021", "--votes", str(tmp_path / "none.csv")]) == 2
    assert "not found" in capsys.readouterr().err


def test_rules_cannot_decide_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    votes = _file(tmp_path, "party,votes\nA,10\nB,10\nC,10\n")
    assert cli.main(["allocate", "--rules", "kz-mazhilis-2021", "--votes", votes, "--threshold", "50"]) == 3
    captured = capsys.readouterr()
    assert "no list reached the threshold" in captured.err and captured.out == ""
    tie = _file(tmp_path, "party,votes\nA,1\nB,1\nC,1\n", "tie.csv")
    assert cli.main(["allocate", "--rules", "kz-mazhilis-2021", "--votes", tie, "--seats", "2"]) == 3
    assert "lists A, B, C are tied" in capsys.readouterr().err


def test_votes_csv_kinds_and_registered_voters_reach_the_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    votes = _file(tmp_path, "party,votes,order,kind\na,600,1,\nb,250,2,coalition\nc,150,3,party\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'profile_id: toy\nseats: 10\nmethod: hare\nthreshold_percent: "10"\n'
        'threshold_base: registered_voters\nkind_thresholds:\n  coalition: "30"\n',
        encoding="utf-8",
    )
    args = ["allocate", "--rules", str(rules), "--votes", votes, "--format", "csv"]
    assert cli.main([*args, "--registered-voters", "1200"]) == 0
    seats = {r["list_id"]: int(r["seats"]) for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert seats == {"a": 8, "b": 0, "c": 2}  # b, a coalition, has 20.8% of 1,200: below its 30%
    assert cli.main(args) == 2
    assert "give the number of registered voters" in capsys.readouterr().err
