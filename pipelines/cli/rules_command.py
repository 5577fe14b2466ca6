"""`elections amend-rules`: change a declared election's rules by an explicit, recorded decision."""

from __future__ import annotations

import argparse
from typing import Any

from pipelines.cli.store_commands import add_warehouse_option, warehouse_paths
from pipelines.core.errors import EXIT_OK, InputError


def register(subparsers: Any) -> None:
    amend = subparsers.add_parser(
        "amend-rules",
        help="amend the rules of a declared election (a RulesAmended event with reason and deciding body)",
        description="Record new rules for a declared election from a log position on. The profile's "
        "content goes into the log; past positions keep the rules they had. A provisional seat table "
        "under the new rules is published when they apply at once.",
    )
    amend.add_argument("--election", required=True, help="the declared election")
    amend.add_argument(
        "--rules", required=True, metavar="REF", help="a shipped profile id or a path to a YAML/JSON profile"
    )
    amend.add_argument("--reason", required=True, metavar="TEXT", help="why the rules change")
    amend.add_argument("--by", required=True, metavar="BODY", help="the body that decided the change")
    amend.add_argument(
        "--effective-position",
        type=int,
        metavar="N",
        help="the log position from which the new rules apply (default: the amendment's own; "
        "later schedules the change; earlier is refused)",
    )
    add_warehouse_option(amend)
    amend.set_defaults(func=run_amend_rules)


def run_amend_rules(args: argparse.Namespace) -> int:
    from pipelines.ingestion.operator_actions import RulesAmendmentOutcome, perform
    from pipelines.rules.rule_profiles import load_profile, profile_to_dict
    from pipelines.store.event_store import EventStore

    profile = load_profile(args.rules)  # read once, here: from now on the log holds its content
    paths = warehouse_paths(args)
    if not paths.database.exists():
        raise InputError(f"no warehouse at {paths.root}: declare the election first")
    options = {
        "election": args.election,
        "rules": profile_to_dict(profile),  # the content, journaled: a replay reads no file
        "reason": args.reason,
        "by": args.by,
        "effective_position": args.effective_position,
        "source": str(args.rules),
    }
    with EventStore.open_writer(paths) as store:
        outcome = perform(store, paths, "amend-rules", options)
    assert isinstance(outcome, RulesAmendmentOutcome)
    amendment, publication = outcome.amendment, outcome.publication
    lines = [
        f"amended the rules of {amendment.election_id} at log position {amendment.position}: "
        f"{profile.profile_id} (sha256 {amendment.sha256[:12]}) in force from log position "
        f"{amendment.effective_position}, replacing sha256 {amendment.previous_sha256[:12]}"
    ]
    if amendment.scheduled:
        lines.append(
            f"scheduled: the first publication once the log reaches position "
            f"{amendment.effective_position} uses them"
        )
    elif outcome.note is not None:
        lines.append(f"no seat table for {amendment.election_id} yet: {outcome.note}")
    elif publication is not None:
        lines.append(
            f"published {publication.status} seat table {publication.publication_id} "
            f"(log position {publication.based_on_position}, sha256 {publication.table_sha256[:12]})"
        )
    print("\n".join(lines))
    return EXIT_OK
