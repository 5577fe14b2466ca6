"""The auditor's drills: each attack on a warehouse or a publication is caught by `elections verify` or
`elections verify-publication` with exit 1 and a message naming what and where, and checking changes
nothing published."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK
from pipelines.core.paths import WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.publishing.publication import write_publication_folder
from pipelines.publishing.publication_layout import MANIFEST, SEATS_JSON, SIGNATURE
from pipelines.publishing.signing import SIGNING_KEY_ENV
from pipelines.store.event_store import (
    GENESIS_HASH,
    HASH_TEXT_MACRO,
    EventStore,
    WarehouseTampered,
    chain_hash,
    content_sql,
)
from pipelines.store.projections import rebuild_projections
from tests.support.small_election import protocol, write_protocols

pytestmark = pytest.mark.xdist_group("drills")


@pytest.fixture(scope="module")
def original(
    election_files: list[Path], later_files: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> WarehousePaths:
    warehouse = tmp_path_factory.mktemp("audited") / "warehouse"
    ingest_paths(election_files, warehouse=warehouse)
    ingest_paths(later_files, warehouse=warehouse)
    paths = WarehousePaths(warehouse)
    assert len(publications(paths)) >= 2
    return paths


def publications(paths: WarehousePaths) -> list[Path]:
    return sorted(p for p in paths.publications.iterdir() if not p.name.startswith("."))


def copy_of(paths: WarehousePaths, target: Path) -> WarehousePaths:
    shutil.copytree(paths.root, target, ignore=shutil.ignore_patterns("snapshot"))
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return WarehousePaths(target)


def published_state(paths: WarehousePaths) -> dict[str, str]:
    """Every byte the warehouse has published or recorded: what checking must never change."""
    files = [paths.database, paths.log_heads, *sorted(paths.publications.rglob("*"))]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def verify(paths: WarehousePaths, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    before = published_state(paths)
    capsys.readouterr()
    code = main(["verify", "--warehouse", str(paths.root), *extra])
    out = capsys.readouterr().out
    assert published_state(paths) == before, "verify changed the warehouse or a publication"
    return code, out


def verify_json(paths: WarehousePaths, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    code, out = verify(paths, capsys, "--format", "json", *extra)
    return code, json.loads(out)


def test_an_intact_warehouse_verifies_with_every_check(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    code, report = verify_json(paths, capsys)
    assert code == EXIT_OK, report["findings"]
    assert report["intact"] and report["format"] == "elections-verify/1"
    assert {k for k, v in report["checks"].items() if v == "ok"} >= {
        "schema",
        "chain",
        "anchors",
        "archive",
        "receipts",
        "projections",
        "publications",
    }


def test_a_changed_projection_row_is_named(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    with duckdb.connect(str(paths.database)) as conn:
        conn.execute("UPDATE proj_region_list_votes SET votes = votes + 1000 WHERE list_id = 'beta'")
        conn.execute("UPDATE proj_seat_table SET seats = seats + 1 WHERE list_id = 'alpha'")
    code, out = verify(paths, capsys)
    assert code == EXIT_FAILURE
    assert "proj_region_list_votes differs from the projection rebuilt from the log" in out
    assert "proj_seat_table differs" in out and "list_id='alpha'" in out
    # A changed row is one only in the warehouse and one only in the rebuild: both are named.
    seat_line = next(line for line in out.splitlines() if "proj_seat_table differs" in line)
    assert "the live row (" in seat_line and ") is not in the rebuild" in seat_line
    assert "the rebuilt row (" in seat_line and ") is not in the live table" in seat_line
    live_seats, rebuilt_seats = (int(n) for n in re.findall(r"\bseats=(\d+)", seat_line))
    assert live_seats == rebuilt_seats + 1  # the live row is the one changed


def _hash_in_sql_with_stored_lp(conn: duckdb.DuckDBPyConnection) -> None:
    """What an attacker's own tool (or this system's verify before issue 14) computes: the content hashed
    in SQL with whatever `lp` the database stores; every event rechained with it."""
    digests = conn.execute(
        content_sql("events", stored_hashes=True).replace("lp(", "main.lp("), {"since": -1}
    ).fetchall()
    _rechain(conn, [(int(p), str(d)) for p, _prev, _hash, d in digests])


def _rechain(conn: duckdb.DuckDBPyConnection, digests: list[tuple[int, str]]) -> None:
    prev, rows = GENESIS_HASH, []
    for position, digest in digests:
        rows.append((position, prev, chain_hash(prev, digest)))
        prev = rows[-1][2]
    chained = pd.DataFrame(rows, columns=["position", "prev_hash", "event_hash"])
    conn.register("chained", chained)
    conn.execute(
        "UPDATE events SET prev_hash = c.prev_hash, event_hash = c.event_hash FROM chained c "
        "WHERE events.position = c.position"
    )
    conn.unregister("chained")


def _rewrite_anchors(paths: WarehousePaths, conn: duckdb.DuckDBPyConnection) -> str:
    position, event_hash = conn.execute(
        "SELECT position, event_hash FROM events ORDER BY position DESC LIMIT 1"
    ).fetchall()[0]
    paths.log_heads.write_text(f'{{"position":{position},"event_hash":"{event_hash}"}}\n', encoding="ascii")
    return str(event_hash)


def test_a_redefined_lp_macro_hides_nothing(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The macro is made to ignore payloads, a payload is altered, and the chain is recomputed with the
    macro: a verifier trusting the stored macro would see a whole chain."""
    paths = copy_of(original, tmp_path / "wh")
    with duckdb.connect(str(paths.database)) as conn:
        conn.execute(
            "CREATE OR REPLACE MACRO lp(x) AS CASE WHEN starts_with(CAST(x AS VARCHAR), '{') THEN '' "
            "ELSE length(coalesce(CAST(x AS VARCHAR), '')) || ':' || coalesce(CAST(x AS VARCHAR), '') END"
        )
        _hash_in_sql_with_stored_lp(conn)
        conn.execute(
            "UPDATE events SET payload = replace(payload, 'recount', 'forged') WHERE payload LIKE '%recount%'"
        )
        _rewrite_anchors(paths, conn)
    code, out = verify(paths, capsys)
    assert code == EXIT_FAILURE
    assert "TAMPERED at position 1: event 1 was altered after it was written" in out
    assert "the macro lp stored in the warehouse differs from this version's definition" in out


def test_a_macro_shadowing_a_builtin_stops_the_writer_and_verify(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    with duckdb.connect(str(paths.database)) as conn:
        conn.execute("CREATE MACRO length(x) AS 0")
    with pytest.raises(WarehouseTampered, match="length"), EventStore.open_writer(paths):
        pass
    code, out = verify(paths, capsys)
    assert code == EXIT_FAILURE
    assert "stores macro(s) named like DuckDB built-ins (length)" in out


def test_the_writer_hashes_with_its_own_lp_whatever_the_warehouse_stores(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """New events appended while a redefined `lp` is stored still chain under the real definition."""
    paths = copy_of(original, tmp_path / "wh")
    with duckdb.connect(str(paths.database)) as conn:
        conn.execute("CREATE OR REPLACE MACRO lp(x) AS 'same'")
        before = conn.execute("SELECT max(position) FROM events").fetchall()[0][0]
    amended = protocol("P003", (260, 160, 79, 25), version=2, reason="recount")
    ingest_paths([write_protocols(tmp_path / "in", "amend-p003.csv", [amended])], warehouse=paths.root)
    code, report = verify_json(paths, capsys)
    assert report["events"] > before
    assert code == EXIT_FAILURE
    assert report["checks"]["chain"] == "ok" and report["checks"]["anchors"] == "ok"
    assert [f["check"] for f in report["findings"]] == ["schema"]


def test_events_replaced_by_a_view_are_refused(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    with duckdb.connect(str(paths.database)) as conn:
        conn.execute("ALTER TABLE events RENAME TO events_kept")
        conn.execute("CREATE VIEW events AS SELECT * FROM events_kept")
    code, out = verify(paths, capsys)
    assert code == EXIT_FAILURE
    assert "events is a view, not the stored table of the log" in out


@pytest.mark.parametrize(
    "attack", ["removed", "truncated", "edited", "last line dropped", "cut to its start line"]
)
def test_anchor_attacks_fail_never_skip(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    text = paths.log_heads.read_text(encoding="ascii")
    lines = text.splitlines(keepends=True)
    expected = {
        "removed": "log_heads.jsonl is missing",
        "truncated": "the last line is cut off",
        "edited": "is not the event recorded at that position (log_heads.jsonl line 1)",
        "last line dropped": "is not anchored",
        "cut to its start line": "is not anchored: log_heads.jsonl ends at position 0",
    }[attack]
    if attack == "removed":
        paths.log_heads.unlink()
    elif attack == "truncated":
        paths.log_heads.write_text(text[:-10], encoding="ascii")
    elif attack == "edited":
        first = json.loads(lines[0])
        first["event_hash"] = hashlib.sha256(b"forged").hexdigest()
        paths.log_heads.write_text(json.dumps(first) + "\n" + "".join(lines[1:]), encoding="ascii")
    elif attack == "last line dropped":
        paths.log_heads.write_text("".join(lines[:-1]), encoding="ascii")
    else:  # the line the first writer wrote before the log's first commit
        assert json.loads(lines[0]) == {"position": 0, "event_hash": GENESIS_HASH}
        paths.log_heads.write_text(lines[0], encoding="ascii")
    code, out = verify(paths, capsys)
    assert code == EXIT_FAILURE, out
    assert expected in out


def test_a_writer_reanchors_a_head_left_unanchored_by_a_crash(
    original: WarehousePaths, tmp_path: Path
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    lines = paths.log_heads.read_text(encoding="ascii").splitlines(keepends=True)
    paths.log_heads.write_text("".join(lines[:-1]), encoding="ascii")  # killed before its anchor
    with EventStore.open_writer(paths):
        pass
    assert paths.log_heads.read_text(encoding="ascii").splitlines(keepends=True)[-1] == lines[-1]
    assert main(["verify", "--warehouse", str(paths.root)]) == EXIT_OK


def test_a_removed_anchor_file_stays_visible_after_the_next_writer(
    original: WarehousePaths, tmp_path: Path
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    paths.log_heads.unlink()
    with EventStore.open_writer(paths):
        pass
    assert "restarted" in paths.log_heads.read_text(encoding="ascii")
    assert main(["verify", "--warehouse", str(paths.root)]) == EXIT_FAILURE


@pytest.mark.parametrize("attack", ["file altered", "manifest altered", "folder deleted", "folder added"])
def test_publication_folder_attacks(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    folder = publications(paths)[0]
    if attack == "file altered":
        seats = folder / "seats.csv"
        seats.write_bytes(seats.read_bytes().replace(b"alpha", b"alphA", 1))
        expected = f"{folder.name}/seats.csv: the file differs from what the log renders"
    elif attack == "manifest altered":
        manifest = json.loads((folder / MANIFEST).read_bytes())
        manifest["table_sha256"] = hashlib.sha256(b"other").hexdigest()
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        expected = f"{folder.name}/manifest.json: the manifest differs from what the log renders"
    elif attack == "folder deleted":
        shutil.rmtree(folder)
        expected = f"the folder of publication {folder.name} is missing"
    else:
        shutil.copytree(folder, folder.parent / "test-mazhilis--certified--000000999")
        expected = "test-mazhilis--certified--000000999 is a publication folder of no publication event"
    code, out = verify(paths, capsys)
    assert code == EXIT_FAILURE
    assert expected in out


def test_a_consistent_rewrite_of_the_whole_chain_is_caught_by_published_heads_and_expect_head(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Votes are changed, every hash recomputed correctly, the anchors rewritten and the projections
    rebuilt: only what was given out before (a head, the heads published folders state) can tell."""
    paths = copy_of(original, tmp_path / "wh")
    folder = publications(paths)[-1]
    published_head = json.loads((folder / MANIFEST).read_bytes())
    true_head = paths.log_heads.read_text(encoding="ascii").splitlines()[-1]
    with duckdb.connect(str(paths.database)) as conn:
        conn.execute(HASH_TEXT_MACRO)
        conn.execute(
            "UPDATE protocol_votes SET votes = votes + 300 WHERE list_id = 'delta' "
            "AND position = (SELECT min(position) FROM protocol_votes)"
        )
        digests = conn.execute(content_sql("events", stored_hashes=True), {"since": -1}).fetchall()
        _rechain(conn, [(int(p), str(d)) for p, _prev, _hash, d in digests])
        conn.execute("BEGIN TRANSACTION")
        rebuild_projections(conn)
        conn.execute("COMMIT")
        _rewrite_anchors(paths, conn)
    code, report = verify_json(paths, capsys)
    assert code == EXIT_FAILURE
    assert report["checks"]["chain"] == "ok" and report["checks"]["projections"] == "ok"
    assert any(
        f["check"] == "publications" and "manifest differs from what the log renders" in f["message"]
        for f in report["findings"]
    )
    head = json.loads(true_head)
    code, out = verify(paths, capsys, "--expect-head", f"{head['position']}:{head['event_hash']}")
    assert code == EXIT_FAILURE
    assert f"the head obtained out of band is {head['event_hash']} at position {head['position']}" in out
    code, out = verify(paths, capsys, "--expect-head", published_head["based_on_hash"])
    assert code == EXIT_FAILURE and "no event of this log has the hash" in out


def test_expect_head_accepts_the_true_head_and_refuses_a_malformed_one(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = copy_of(original, tmp_path / "wh")
    head = json.loads(paths.log_heads.read_text(encoding="ascii").splitlines()[-1])
    earlier = json.loads((publications(paths)[0] / MANIFEST).read_bytes())["based_on_hash"]
    assert verify(paths, capsys, "--expect-head", f"{head['position']}:{head['event_hash']}")[0] == EXIT_OK
    assert verify(paths, capsys, "--expect-head", earlier)[0] == EXIT_OK  # the log grew from there
    assert verify(paths, capsys, "--expect-head", "12:nothex")[0] == EXIT_BAD_INPUT


def verify_folder(folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify-publication", str(folder), *extra])
    return code, capsys.readouterr().out


def _reseal(folder: Path) -> None:
    """What a careful forger does after changing a file: put its new checksum in the manifest."""
    manifest = json.loads((folder / MANIFEST).read_bytes())
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def test_verify_publication_on_a_downloaded_copy(
    original: WarehousePaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    downloaded = tmp_path / "download"
    shutil.copytree(publications(original)[-1], downloaded)
    downloaded.chmod(0o755)
    for path in downloaded.iterdir():
        path.chmod(0o644)
    code, out = verify_folder(downloaded, capsys)
    assert code == EXIT_OK and "the seats recompute" in out

    seats = json.loads((downloaded / SEATS_JSON).read_bytes())
    seats["seats"][0]["seats"] += 1
    (downloaded / SEATS_JSON).write_text(json.dumps(seats, indent=2) + "\n", encoding="utf-8")
    code, out = verify_folder(downloaded, capsys)
    assert code == EXIT_FAILURE and "seats.json: sha256" in out  # the number alone: its checksum
    _reseal(downloaded)
    code, out = verify_folder(downloaded, capsys)
    assert code == EXIT_FAILURE
    assert f"seats.json: list {seats['seats'][0]['list_id']}: seats is" in out  # resealed: the recount

    shutil.rmtree(downloaded)
    shutil.copytree(publications(original)[-1], downloaded)
    downloaded.chmod(0o755)
    for path in downloaded.iterdir():
        path.chmod(0o644)
    allocation = json.loads((downloaded / "allocation.json").read_bytes())
    allocation["inputs"]["lists"][0]["votes"] -= 500  # votes moved between lists: the sums still agree
    allocation["inputs"]["lists"][1]["votes"] += 500
    (downloaded / "allocation.json").write_text(json.dumps(allocation, indent=2) + "\n", encoding="utf-8")
    _reseal(downloaded)
    code, out = verify_folder(downloaded, capsys)
    assert code == EXIT_FAILURE and "totals-national.json: list" in out


def test_signed_publications(
    original: WarehousePaths,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys, other = tmp_path / "keys", tmp_path / "other-keys"
    assert main(["keygen", "--out", str(keys)]) == EXIT_OK
    assert main(["keygen", "--out", str(other)]) == EXIT_OK
    private, public = keys / "signing-key.pem", keys / "signing-key.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert main(["keygen", "--out", str(keys)]) == EXIT_BAD_INPUT  # never overwrites a key

    paths = copy_of(original, tmp_path / "wh")
    folder = publications(paths)[-1]
    unsigned = tmp_path / "unsigned"
    shutil.copytree(folder, unsigned)
    shutil.rmtree(folder)
    monkeypatch.setenv(SIGNING_KEY_ENV, str(private))
    with EventStore.open_writer(paths) as store:
        write_publication_folder(store, folder.name)
    assert (folder / SIGNATURE).is_file()
    assert (folder / MANIFEST).read_bytes() == (unsigned / MANIFEST).read_bytes()  # signature-free manifest
    secret = private.read_bytes()
    for path in [paths.database, *folder.iterdir()]:
        assert secret.strip().splitlines()[1] not in path.read_bytes(), f"the private key leaked into {path}"

    assert verify_folder(folder, capsys, "--public-key", str(public))[0] == EXIT_OK
    # The other publications are unsigned: verify with the key names them.
    assert main(["verify", "--warehouse", str(paths.root), "--public-key", str(public)]) == EXIT_FAILURE
    code, out = verify_folder(folder, capsys, "--public-key", str(other / "signing-key.pub.pem"))
    assert code == EXIT_FAILURE and "manifest.sig: signed by key" in out
    code, out = verify_folder(unsigned, capsys, "--public-key", str(public))
    assert code == EXIT_FAILURE and "manifest.sig: missing" in out

    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    (tampered / MANIFEST).chmod(0o644)
    (tampered / MANIFEST).write_bytes(
        (tampered / MANIFEST).read_bytes().replace(b'"status"', b' "status"', 1)
    )
    code, out = verify_folder(tampered, capsys, "--public-key", str(public))
    assert code == EXIT_FAILURE and "manifest.sig: the signature does not match the manifest" in out
