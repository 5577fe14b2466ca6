"""`elections verify | verify-publication | keygen`: checking a warehouse or a publication, and the keys
that sign publications."""

from __future__ import annotations

import argparse
import json
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_FAILURE, EXIT_OK, InputError


def register(subparsers: Any) -> None:
    verify = subparsers.add_parser(
        "verify",
        help="audit the warehouse: hash chain, anchors, archive, receipts, projections, publications",
    )
    verify.add_argument(
        "--expect-head",
        metavar="[POSITION:]HASH",
        help="a log head obtained out of band (a published based_on_hash, an anchor kept elsewhere)",
    )
    verify.add_argument(
        "--public-key", type=Path, metavar="PEM", help="also check every publication's manifest signature"
    )
    verify.add_argument("--format", choices=("text", "json"), default="text")
    add_warehouse_option(verify)
    verify.set_defaults(func=run_verify)

    check = subparsers.add_parser(
        "verify-publication",
        help="check one publication folder alone (no warehouse): checksums, seats recomputed, signature",
    )
    check.add_argument("folder", type=Path, metavar="FOLDER")
    check.add_argument("--public-key", type=Path, metavar="PEM", help="the commission's Ed25519 public key")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(func=run_verify_publication)

    keygen = subparsers.add_parser("keygen", help="make an Ed25519 key pair that signs publication manifests")
    keygen.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the two PEM files")
    keygen.set_defaults(func=run_keygen)


def run_verify(args: argparse.Namespace) -> int:
    from pipelines.audit.warehouse_audit import ExpectedHead, audit_warehouse
    from pipelines.store.event_store import writer_lock

    expected = None if args.expect_head is None else ExpectedHead.parse(args.expect_head)
    paths = warehouse_paths(args)
    if not paths.database.is_file():
        raise InputError(f"no warehouse at {paths.root}")
    # Under the writer lock, so that no commit lands between reading the log and its anchors; an
    # auditor's read-only copy has no writer to wait for, and verify never writes to it.
    lock_folder = paths.writer_lock.parent
    held = writer_lock(paths, wait_seconds=300) if os.access(lock_folder, os.W_OK) else nullcontext()
    with held:
        report = audit_warehouse(paths, expect_head=expected, public_key=args.public_key)
    if args.format == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif report.intact:
        checked = ", ".join(name for name, state in report.checks.items() if state == "ok")
        print(
            f"intact: {report.events} events, head {report.head_position} {report.head_hash}; "
            f"checked {checked} ({report.seconds:.1f}s)"
        )
    else:
        for finding in report.findings:
            at = "" if finding.position is None else f" at position {finding.position}"
            where = "" if finding.where is None else f" [{finding.where}]"
            print(f"TAMPERED{at}: {finding.message}{where}")
        print(
            f"{len(report.findings)} problem(s); checks: "
            + ", ".join(f"{k} {v}" for k, v in report.checks.items())
        )
    return EXIT_OK if report.intact else EXIT_FAILURE


def run_verify_publication(args: argparse.Namespace) -> int:
    from pipelines.publishing.publication_check import check_folder

    folder: Path = args.folder
    if not folder.is_dir():
        raise InputError("not a publication folder", file=str(folder))
    problems = check_folder(folder, args.public_key)
    if args.format == "json":
        report = {
            "format": "elections-verify-publication/1",
            "folder": str(folder),
            "intact": not problems,
            "signature_checked": args.public_key is not None,
            "problems": problems,
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif problems:
        for problem in problems:
            print(f"ALTERED: {folder.name}/{problem}")
    else:
        signed = ", signature verified" if args.public_key is not None else " (no signature checked)"
        print(f"intact: {folder.name}: every file matches its manifest, the seats recompute{signed}")
    return EXIT_OK if not problems else EXIT_FAILURE


def run_keygen(args: argparse.Namespace) -> int:
    from pipelines.publishing.signing import SIGNING_KEY_ENV, generate_key_pair

    private, public = generate_key_pair(args.out)
    print(f"private key: {private} (keep it secret; sign publications with {SIGNING_KEY_ENV}={private})")
    print(f"public key:  {public} (give it to anyone who checks: verify-publication --public-key {public})")
    return EXIT_OK
