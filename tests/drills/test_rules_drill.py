"""Rules are events: editing or deleting a rule profile after the declaration changes nothing computed;
only `elections amend-rules` changes the rules, and only from its effective position on."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_NO_RESULTS, EXIT_OK
from pipelines.core.paths import RULES_DIR, WarehousePaths
from pipelines.ingestion.ingest import PROFILE_MAX_BYTES, ingest_paths
from pipelines.ingestion.replay import replay_archive
from pipelines.rules.rule_profiles import load_profile, parse_profile, profile_to_dict
from pipelines.store.election_rules import rules_in_force
from pipelines.store.rules_content import rules_sha256
from tests.drills.support import assert_store_sound
from tests.support.small_election import declaration, precinct_ids, protocol, write_protocols

pytestmark = pytest.mark.xdist_group("drills")  # one worker, one memo of gate outcomes

PROFILE_PATH = "rules/local-rules.yaml"  # relative to the declaration's folder


def _local_profile() -> dict[str, object]:
    """The 2021 rules under another id, with 60 seats: distinguishable from every shipped profile."""
    data = yaml.safe_load((RULES_DIR / "kz-mazhilis-2021.yaml").read_text(encoding="utf-8"))
    data.update(profile_id="test-local-rules", seats=60)
    return dict(data)


def _write_inbox(folder: Path) -> tuple[Path, list[Path]]:
    """A declaration naming a profile file beside it, and three protocol files (lists pass 7% unevenly)."""
    folder.mkdir(parents=True)
    (folder / "rules").mkdir()
    (folder / PROFILE_PATH).write_text(yaml.safe_dump(_local_profile()), encoding="utf-8")
    data = declaration(30)
    data["rule_profile"] = PROFILE_PATH
    decl = folder / "test-mazhilis.election.json"
    decl.write_text(json.dumps(data), encoding="utf-8")
    ids = precinct_ids(30)
    rows = [protocol(pid, (300 + i % 40, 150 + i % 25, 60 + i % 9, 25 + i % 5)) for i, pid in enumerate(ids)]
    files = [write_protocols(folder, f"protocols-{k + 1}.csv", rows[k * 10 : (k + 1) * 10]) for k in range(3)]
    return decl, files


def _seats(warehouse: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        return conn.execute(
            "SELECT list_id, votes, seats FROM proj_seat_table ORDER BY ballot_order"
        ).fetchall()


def _publications(warehouse: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        return conn.execute(
            "SELECT publication_id, status, based_on_position, rule_profile, table_sha256 "
            "FROM proj_publications ORDER BY position"
        ).fetchall()


def _head(warehouse: Path) -> int:
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        row = conn.execute("SELECT max(position) FROM events").fetchone()
    assert row is not None
    return int(row[0])


def _assert_published_by_the_rules_at_their_base(warehouse: Path) -> None:
    """Each publication event carries the rules in force at the position it is based on."""
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        rows = conn.execute(
            "SELECT election_id, payload FROM events "
            "WHERE event_type IN ('ResultsPublished', 'ResultsCertified')"
        ).fetchall()
        assert rows
        for election_id, payload in rows:
            event = json.loads(str(payload))
            in_force = rules_in_force(conn, str(election_id), int(event["based_on_position"]))
            assert (event["rules_sha256"], event["rule_profile"]) == (
                in_force.sha256,
                in_force.profile.profile_id,
            )


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _seats_as_of(capsys: pytest.CaptureFixture[str], warehouse: Path, as_of: int) -> str:
    code, out, err = _cli(
        capsys, "seats", "--as-of", str(as_of), "--format", "json", "--warehouse", str(warehouse)
    )
    assert code == EXIT_OK, err
    return out


@pytest.fixture
def inbox(tmp_path: Path) -> tuple[Path, list[Path]]:
    return _write_inbox(tmp_path / "inbox")


@pytest.mark.parametrize("attack", ["edit", "delete"])
def test_profile_changed_on_disk_after_declaration_changes_nothing(
    attack: str, inbox: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decl, files = inbox
    control, attacked = tmp_path / "control", tmp_path / "attacked"
    for warehouse in (control, attacked):
        ingest_paths([decl, files[0]], warehouse=warehouse)
    past = _head(attacked)
    before = (_seats(attacked), _seats_as_of(capsys, attacked, past))
    assert sum(int(str(r[2])) for r in before[0]) == 60  # the local profile's seats, not the shipped 98

    profile = decl.parent / PROFILE_PATH
    if attack == "edit":
        hostile = {**_local_profile(), "seats": 7, "threshold_percent": "40"}
        profile.write_text(yaml.safe_dump(hostile), encoding="utf-8")
    else:
        profile.unlink()
    # Nothing computed so far moved: the seat table in force, time travel, a rebuild.
    assert (_seats(attacked), _seats_as_of(capsys, attacked, past)) == before
    assert _cli(capsys, "rebuild", "--warehouse", str(attacked))[0] == EXIT_OK
    assert (_seats(attacked), _seats_as_of(capsys, attacked, past)) == before
    # The next publications equal those of a warehouse whose profile nobody touched.
    for warehouse in (control, attacked):
        ingest_paths(files[1:], warehouse=warehouse)
    assert _publications(attacked) == _publications(control)
    assert _seats(attacked) == _seats(control)
    assert _seats_as_of(capsys, attacked, past) == before[1]
    assert_store_sound(attacked)


def test_relative_profile_resolves_beside_the_declaration_from_any_cwd(
    inbox: tuple[Path, list[Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    decl, _files = inbox
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    warehouse = tmp_path / "warehouse"
    code, out, err = _cli(capsys, "ingest", str(decl.parent), "--warehouse", str(warehouse))
    assert code in (EXIT_OK, 4), err  # 4: quarantine exit code of the intake work, when it has landed
    assert "files: 4 accepted, 0 duplicate, 0 quarantined" in out, out
    expected = rules_sha256(profile_to_dict(parse_profile(_local_profile())))
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        shown = conn.execute(
            "SELECT rule_profile, rules_profile_id, rules_sha256 FROM proj_elections"
        ).fetchall()
        (text,) = conn.execute("SELECT payload FROM events WHERE event_type = 'ElectionDeclared'").fetchall()
        payload = json.loads(str(text[0]))
    assert shown == [(PROFILE_PATH, "test-local-rules", expected)]
    assert payload["rules_sha256"] == expected and payload["rules"]["seats"] == 60
    # The profile file was archived as received, and a replay from the archive alone declares the same
    # rules even with the original profile gone.
    archive = WarehousePaths(warehouse).archive
    received = (decl.parent / PROFILE_PATH).read_bytes()
    assert any(p.read_bytes() == received for p in archive.glob("*/*") if p.is_file())
    (decl.parent / PROFILE_PATH).unlink()
    replayed = tmp_path / "replayed"
    replay_archive(WarehousePaths(warehouse), replayed)
    assert _publications(replayed) == _publications(warehouse)
    with duckdb.connect(str(WarehousePaths(replayed).database), read_only=True) as conn:
        assert conn.execute("SELECT rules_sha256 FROM proj_elections").fetchall() == [(expected,)]


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("rules/missing.yaml", "not in the declaration's folder"),
        ("../outside.yaml", "inside the declaration's folder"),
        ("/etc/passwd.yaml", "inside the declaration's folder"),
        ("rules/link.yaml", "symbolic link"),
        ("rules/fifo.yaml", "not a regular file"),
        ("rules/huge.yaml", "larger than"),
    ],
)
def test_a_profile_outside_the_folder_or_through_a_link_is_refused(
    reference: str, problem: str, tmp_path: Path
) -> None:
    decl, _files = _write_inbox(tmp_path / "inbox")
    (tmp_path / "outside.yaml").write_text(yaml.safe_dump(_local_profile()), encoding="utf-8")
    (decl.parent / "rules" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    os.mkfifo(decl.parent / "rules" / "fifo.yaml")  # reading it would block forever
    with (decl.parent / "rules" / "huge.yaml").open("wb") as huge:
        huge.truncate(PROFILE_MAX_BYTES + 1)
    data = json.loads(decl.read_text(encoding="utf-8"))
    data["rule_profile"] = reference
    decl.write_text(json.dumps(data), encoding="utf-8")
    summary = ingest_paths([decl], warehouse=tmp_path / "warehouse")
    assert [f.status for f in summary.files] == ["quarantined"]
    assert problem in summary.files[0].problems[0] and "rule_profile" in summary.files[0].problems[0]
    assert (
        not (WarehousePaths(tmp_path / "warehouse").archive / "receipts.jsonl").read_text().count("sidecar")
    )


def test_refused_declaration_is_retried_once_its_profile_is_put_right(tmp_path: Path) -> None:
    decl, _files = _write_inbox(tmp_path / "inbox")
    profile = decl.parent / PROFILE_PATH
    good = profile.read_text(encoding="utf-8")
    profile.unlink()
    warehouse = tmp_path / "warehouse"
    assert [f.status for f in ingest_paths([decl], warehouse=warehouse).files] == ["quarantined"]
    assert [f.status for f in ingest_paths([decl], warehouse=warehouse).files] == ["duplicate"]
    profile.write_text(good, encoding="utf-8")
    assert [f.status for f in ingest_paths([decl], warehouse=warehouse).files] == ["applied"]


def test_amendment_changes_seats_from_its_position_on_never_before(
    inbox: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decl, files = inbox
    warehouse = tmp_path / "warehouse"
    ingest_paths([decl, *files[:2]], warehouse=warehouse)
    past = _head(warehouse)
    before_as_of = _seats_as_of(capsys, warehouse, past)
    before_pubs = _publications(warehouse)
    amended = tmp_path / "amended.yaml"
    amended.write_text(
        yaml.safe_dump({**_local_profile(), "profile_id": "test-amended", "seats": 80}), encoding="utf-8"
    )
    wh = ("--warehouse", str(warehouse))
    base = ("amend-rules", "--election", "test-mazhilis", "--reason", "law of 1 March", "--by", "Parliament")

    # Refused, and nothing recorded: a position before its own, no change, an unknown election.
    head = _head(warehouse)
    refusals = [
        (*base, "--rules", str(amended), "--effective-position", str(past), *wh),
        (*base, "--rules", str(decl.parent / PROFILE_PATH), *wh),
        ("amend-rules", "--election", "nope", "--rules", str(amended), "--reason", "r", "--by", "b", *wh),
        (*base[:4], " ", "--by", "Parliament", "--rules", str(amended), *wh),
    ]
    for argv in refusals:
        code, _out, err = _cli(capsys, *argv)
        assert code == EXIT_BAD_INPUT, (argv, err)
        assert err.startswith("error: ") and "Traceback" not in err
    assert _head(warehouse) == head

    code, out, err = _cli(capsys, *base, "--rules", str(amended), *wh)
    assert code == EXIT_OK, err
    assert "published provisional" in out
    amended.unlink()  # the file is not needed any more: the log holds the rules
    pubs = _publications(warehouse)
    assert pubs[: len(before_pubs)] == before_pubs  # past publications untouched
    assert pubs[-1][3] == "test-amended" and pubs[-1][2] == head + 1
    assert sum(int(str(r[2])) for r in _seats(warehouse)) == 80
    assert _seats_as_of(capsys, warehouse, past) == before_as_of  # time travel: what stood then
    assert sum(r["seats"] for r in json.loads(_seats_as_of(capsys, warehouse, head + 1))) == 80
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        assert conn.execute("SELECT rules_profile_id, rules_set_at FROM proj_elections").fetchall() == [
            ("test-amended", head + 1)
        ]
        listed = conn.execute(
            "SELECT reason, decided_by, effective_position FROM proj_rule_amendments"
        ).fetchall()
        assert listed == [("law of 1 March", "Parliament", head + 1)]
    # Later results are published under the amended rules; a rebuild gives the same tables.
    ingest_paths(files[2:], warehouse=warehouse)
    assert sum(int(str(r[2])) for r in _seats(warehouse)) == 80
    seats = _seats(warehouse)
    assert _cli(capsys, "rebuild", *wh)[0] == EXIT_OK
    assert _seats(warehouse) == seats
    assert_store_sound(warehouse)
    _assert_published_by_the_rules_at_their_base(warehouse)


def test_scheduled_amendment_applies_once_the_log_reaches_it(
    inbox: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decl, files = inbox
    warehouse = tmp_path / "warehouse"
    ingest_paths([decl, files[0]], warehouse=warehouse)
    head = _head(warehouse)
    code, out, err = _cli(
        capsys, "amend-rules", "--election", "test-mazhilis", "--rules", "kz-mazhilis-2021",
        "--reason", "shipped rules", "--by", "CEC", "--effective-position", str(head + 5),
        "--warehouse", str(warehouse),
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "scheduled" in out
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        assert rules_in_force(conn, "test-mazhilis", head + 4).profile.profile_id == "test-local-rules"
        assert rules_in_force(conn, "test-mazhilis", head + 5).profile.profile_id == "kz-mazhilis-2021"
    assert sum(int(str(r[2])) for r in _seats(warehouse)) == 60
    ingest_paths(files[1:], warehouse=warehouse)  # the log passes head + 5
    assert sum(int(str(r[2])) for r in _seats(warehouse)) == load_profile("kz-mazhilis-2021").seats
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        assert conn.execute("SELECT rules_profile_id FROM proj_elections").fetchall() == [
            ("kz-mazhilis-2021",)
        ]
    _assert_published_by_the_rules_at_their_base(warehouse)


def test_amendment_of_a_certified_election_is_refused(
    inbox: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decl, files = inbox
    warehouse = tmp_path / "warehouse"
    ingest_paths([decl, *files], warehouse=warehouse)
    wh = ("--warehouse", str(warehouse))
    assert _cli(capsys, "publish", "--certify", *wh)[0] == EXIT_OK
    head, seats, pubs = _head(warehouse), _seats(warehouse), _publications(warehouse)
    code, _out, err = _cli(
        capsys, "amend-rules", "--election", "test-mazhilis", "--rules", "kz-mazhilis-2021",
        "--reason", "after the fact", "--by", "someone", *wh,
    )  # fmt: skip
    assert code == EXIT_BAD_INPUT and "certified" in err
    assert (_head(warehouse), _seats(warehouse), _publications(warehouse)) == (head, seats, pubs)
    # Once a recorded revocation lifts the certification, the rules may be amended again.
    revoke = ("decertify", "--election", "test-mazhilis", "--reason", "court order", "--by", "Court", *wh)
    assert _cli(capsys, *revoke)[0] == EXIT_OK
    code, _out, err = _cli(
        capsys, "amend-rules", "--election", "test-mazhilis", "--rules", "kz-mazhilis-2021",
        "--reason", "court order", "--by", "Court", *wh,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert sum(int(str(r[2])) for r in _seats(warehouse)) == load_profile("kz-mazhilis-2021").seats


def test_as_of_before_any_result_says_so_with_its_own_exit_code(
    inbox: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decl, files = inbox
    warehouse = tmp_path / "warehouse"
    wh = ("--warehouse", str(warehouse))
    ingest_paths([decl], warehouse=warehouse)
    code, _out, err = _cli(capsys, "seats", "--as-of", "1", *wh)
    assert code == EXIT_NO_RESULTS and "none has arrived yet" in err
    ingest_paths(files[:1], warehouse=warehouse)
    code, _out, err = _cli(capsys, "seats", "--as-of", "2020-01-01T00:00", *wh)
    assert code == EXIT_NO_RESULTS
    assert "no results of test-mazhilis reported by 2020-01-01T00:00; the first arrived at " in err
    code, _out, err = _cli(capsys, "seats", "--as-of", "0", *wh)
    assert code == EXIT_NO_RESULTS and "log position 0" in err
    code, out, err = _cli(capsys, "seats", "--as-of", str(_head(warehouse)), *wh)
    assert code == EXIT_OK and "60 seats" in out


def test_shipped_profile_id_still_declares(tmp_path: Path) -> None:
    decl, files = _write_inbox(tmp_path / "inbox")
    shutil.rmtree(decl.parent / "rules")
    data = json.loads(decl.read_text(encoding="utf-8"))
    data["rule_profile"] = "kz-mazhilis-2021"
    decl.write_text(json.dumps(data), encoding="utf-8")
    warehouse = tmp_path / "warehouse"
    summary = ingest_paths([decl, files[0]], warehouse=warehouse)
    assert [f.status for f in summary.files] == ["applied", "applied"]
    with duckdb.connect(str(WarehousePaths(warehouse).database), read_only=True) as conn:
        rules = rules_in_force(conn, "test-mazhilis")
    assert rules.profile == load_profile("kz-mazhilis-2021") and not rules.amended
