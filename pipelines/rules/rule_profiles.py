"""Rule profiles: the electoral rules of one election as a data file, checked against a JSON Schema.

A profile lives in `schemas/rules/<profile_id>.yaml` (or any YAML/JSON file) and is validated against
`schemas/rule_profile.schema.json`. Numbers that must be exact (threshold, correction index) are written
as integers or quoted decimals/fractions ("7", "2.5", "7/10"), never YAML floats.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import yaml

from pipelines.core.errors import InputError
from pipelines.core.paths import RULE_PROFILE_SCHEMA, RULES_DIR
from pipelines.core.schema_errors import error_path, first_schema_error, missing_field, unknown_field
from pipelines.domain.list_kinds import PARTY, is_kind
from pipelines.rules import registry

SCHEMA_PATH: Final = RULE_PROFILE_SCHEMA

# The shipped rules' names (command-line choices); a profile may name anything registered at its check.
METHODS: Final = registry.METHODS.names()
THRESHOLD_BASES: Final = registry.THRESHOLD_BASES.names()
GUARANTEE_VARIANTS: Final = registry.GUARANTEES.names()
TIE_BREAKS: Final = registry.TIE_BREAKS.names()
VACANCY_RULES: Final = registry.VACANCY_RULES.names()

_PROFILE_ID = re.compile(r"^[a-z0-9][a-z0-9.+=-]*$")
_EXACT_NUMBER = re.compile(r"^\s*(\d+(\.\d+)?|\d+/[1-9]\d*)\s*$")


@dataclass(frozen=True)
class Guarantee:
    """What happens when exactly one list passes the threshold (Kazakhstan: law of 9 February 2009).

    `none`: the single list takes every seat. `proportional`: the runner-up is admitted and both share all
    seats by the profile's method. `correction_index`: the runner-up gets floor(index x its Hare quotient),
    at least `minimum_seats`; the passing list gets the rest.
    """

    variant: str = "none"
    index: Fraction | None = None
    minimum_seats: int = 0
    minimum_lists: int | None = None  # lists the guarantee fills up to; None: the variant's own (two)


NO_GUARANTEE: Final = Guarantee()


@dataclass(frozen=True)
class RepresentedShare:
    """The lists admitted must together hold `share` of the threshold base (`more_than`: strictly more);
    while they do not, the next lists by votes are admitted (Russia, State Duma law of 2005, art. 82)."""

    share: Fraction
    more_than: bool = False


@dataclass(frozen=True)
class ConsolationBand:
    """A list that did not pass and holds at least `low` and less than `high` of the base gets `seats`
    seats, taken before the apportionment (Russia, State Duma law as amended on 12 May 2009)."""

    low: Fraction
    high: Fraction
    seats: int


@dataclass(frozen=True)
class RuleProfile:
    """The rules that turn national list votes into list seats (plus the count of single-member seats)."""

    profile_id: str
    seats: int
    method: str
    threshold: Fraction  # share of the threshold base, e.g. Fraction(7, 100)
    threshold_base: str
    guarantee: Guarantee = NO_GUARANTEE
    tie_break: str = "ballot_order"  # equal remainders/averages and runner-up ties: earlier registered wins
    vacant_seats: str = "leave_vacant"  # a list shorter than its seats: leave them vacant or redistribute
    districts: int = 0  # single-member seats won by plurality beside the list seats
    name: str = ""
    source: str = ""
    represented_share: RepresentedShare | None = None
    consolation: tuple[ConsolationBand, ...] = ()
    # Thresholds of lists declared of another kind than a party, by kind, sorted: (("coalition", 8/100),)
    kind_thresholds: tuple[tuple[str, Fraction], ...] = ()

    def __post_init__(self) -> None:
        _check_semantics(self, file=None)


def _check_semantics(profile: RuleProfile, file: str | None) -> None:
    """Checks a schema cannot express: exact numbers in range, registered rule names, variant options."""

    def bad(message: str, column: str, value: object) -> InputError:
        return InputError(f"rule profile: {message}", file=file, column=column, value=value)

    def unregistered(field: str, value: str, rules: registry.Registry[Any]) -> InputError:
        return bad(f"{field} is not one of {', '.join(rules.names())}", field, value)

    if not _PROFILE_ID.match(profile.profile_id):
        raise bad("profile_id must be lower-case letters, digits and '-'", "profile_id", profile.profile_id)
    if isinstance(profile.seats, bool) or not isinstance(profile.seats, int) or profile.seats < 1:
        raise bad("seats must be a whole number >= 1", "seats", profile.seats)
    if profile.method not in registry.METHODS:
        raise unregistered("method", profile.method, registry.METHODS)
    if not isinstance(profile.threshold, Fraction) or not 0 <= profile.threshold <= 1:
        raise bad(
            "threshold must be an exact percentage from 0 to 100", "threshold_percent", profile.threshold
        )
    if profile.threshold_base not in registry.THRESHOLD_BASES:
        raise unregistered("threshold_base", profile.threshold_base, registry.THRESHOLD_BASES)
    g = profile.guarantee
    if g.variant not in registry.GUARANTEES:
        raise unregistered("guarantee.variant", g.variant, registry.GUARANTEES)
    if isinstance(g.minimum_seats, bool) or not isinstance(g.minimum_seats, int) or g.minimum_seats < 0:
        raise bad(
            "guarantee.minimum_seats must be a whole number >= 0", "guarantee.minimum_seats", g.minimum_seats
        )
    _check_minimum_lists(g, bad)
    registry.GUARANTEES[g.variant](g.index, g.minimum_seats, g.minimum_lists)  # its own checks
    _check_represented_share(profile.represented_share, bad)
    _check_consolation(profile, bad)
    _check_kind_thresholds(profile, bad)
    if profile.tie_break not in registry.TIE_BREAKS:
        raise unregistered("tie_break", profile.tie_break, registry.TIE_BREAKS)
    if profile.vacant_seats not in registry.VACANCY_RULES:
        raise unregistered("vacant_seats", profile.vacant_seats, registry.VACANCY_RULES)
    if isinstance(profile.districts, bool) or not isinstance(profile.districts, int) or profile.districts < 0:
        raise bad("districts must be a whole number >= 0", "districts", profile.districts)


_Bad = Callable[[str, str, object], InputError]


def _is_whole(value: object, minimum: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= minimum


def _check_minimum_lists(g: Guarantee, bad: _Bad) -> None:
    column = "guarantee.minimum_lists"
    if g.minimum_lists is None:
        return
    if not _is_whole(g.minimum_lists, 2):
        raise bad("guarantee.minimum_lists must be a whole number >= 2", column, g.minimum_lists)
    if g.variant == "none":
        raise bad("guarantee.minimum_lists needs a guarantee that admits lists, not variant none", column, 2)
    if g.variant == "correction_index" and g.minimum_lists != 2:
        raise bad("the correction_index guarantee admits one runner-up: minimum_lists must be 2", column, 2)


def _check_represented_share(rule: RepresentedShare | None, bad: _Bad) -> None:
    if rule is None:
        return
    column = "represented_share.percent"
    if not isinstance(rule.share, Fraction) or not 0 < rule.share <= 1:
        raise bad(
            "represented_share.percent must be an exact percentage above 0, at most 100", column, rule.share
        )
    if rule.more_than and rule.share == 1:
        raise bad("no lists can hold more than 100% of the votes: use comparison at_least", column, "100")


def _check_consolation(profile: RuleProfile, bad: _Bad) -> None:
    bands = sorted(enumerate(profile.consolation), key=lambda b: b[1].low)
    threshold = exact_text(profile.threshold * 100)
    for n, band in bands:
        where = f"consolation_seats[{n}]"
        if not _is_whole(band.seats, 1) or band.seats >= profile.seats:
            raise bad(
                f"{where}.seats must be a whole number >= 1 and fewer than seats",
                f"{where}.seats",
                band.seats,
            )
        if not band.low < band.high:
            raise bad(
                f"{where}: from_percent must be below below_percent",
                f"{where}.below_percent",
                exact_text(band.high * 100),
            )
        if band.high > profile.threshold:
            raise bad(
                f"{where}: a consolation band must lie below the threshold ({threshold}%): "
                "a list at or above it passes and takes seats by the method",
                f"{where}.below_percent",
                exact_text(band.high * 100),
            )
    for (n, earlier), (m, later) in itertools.pairwise(bands):
        if later.low < earlier.high:
            raise bad(
                f"consolation_seats[{m}] overlaps consolation_seats[{n}]: a list would fall in both",
                f"consolation_seats[{m}].from_percent",
                exact_text(later.low * 100),
            )


def _check_kind_thresholds(profile: RuleProfile, bad: _Bad) -> None:
    kinds = [kind for kind, _ in profile.kind_thresholds]
    if kinds != sorted(set(kinds)):
        raise bad("kind_thresholds must name each kind once, in order", "kind_thresholds", ", ".join(kinds))
    for kind, share in profile.kind_thresholds:
        column = f"kind_thresholds.{kind}"
        if kind == PARTY:
            raise bad("a party's threshold is threshold_percent, not kind_thresholds.party", column, kind)
        if not is_kind(kind):
            raise bad("a list kind is a lower-case name such as coalition", column, kind)
        if not isinstance(share, Fraction) or not 0 <= share <= 1:
            raise bad("a kind's threshold must be an exact percentage from 0 to 100", column, share)
    if profile.kind_thresholds and profile.consolation:
        # No law we know combines them, and it is not said which kind's threshold the bands lie below.
        raise bad(
            "consolation_seats and kind_thresholds cannot be combined: the bands lie below one threshold",
            "kind_thresholds",
            ", ".join(kinds),
        )


def exact_number(value: object, *, file: str | None, column: str) -> Fraction:
    """An integer or a quoted decimal/fraction ("7", "2.5", "7/10") as an exact Fraction; floats refused."""
    if isinstance(value, bool):
        raise InputError("expected an exact number, got true/false", file=file, column=column, value=value)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str) and _EXACT_NUMBER.match(value):
        return Fraction(value.strip())
    hint = ' (write it in quotes, e.g. "0.7", so that it stays exact)' if isinstance(value, float) else ""
    raise InputError(
        f"expected an exact number: an integer, a decimal or p/q in quotes{hint}",
        file=file,
        column=column,
        value=value,
    )


def exact_text(value: Fraction) -> str:
    """The shortest exact text of a Fraction: '7', '2.5' when it is a short decimal, else 'p/q'."""
    if value.denominator == 1:
        return str(value.numerator)
    for places in range(1, 7):
        scaled = value * 10**places
        if scaled.denominator == 1:
            whole, frac = divmod(scaled.numerator, 10**places)
            return f"{whole}.{frac:0{places}d}"
    return f"{value.numerator}/{value.denominator}"


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def _schema_error(data: Mapping[str, Any], file: str | None) -> InputError | None:
    error = first_schema_error(_schema(), data)
    if error is None:
        return None
    path = error_path(error)
    if error.validator == "required":
        column = missing_field(error)
        return InputError(
            f"rule profile: missing field {column!r}", file=file, column=column, rule="required"
        )
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        column = unknown_field(error)
        return InputError(
            f"rule profile: unknown field {column!r}; allowed: {', '.join(allowed)}",
            file=file,
            column=column,
            rule="additionalProperties",
        )
    if error.validator == "oneOf" and error.schema == _schema()["$defs"]["exact_number"]:
        try:
            exact_number(error.instance, file=file, column=path)
        except InputError as exc:
            return InputError(f"rule profile: {exc.detail}", file=file, column=path, value=error.instance)
        return InputError(
            f"rule profile: {path} must not be negative", file=file, column=path, value=error.instance
        )
    return InputError(
        f"rule profile: {path or 'profile'}: {error.message}",
        file=file,
        column=path or None,
        rule=str(error.validator),
        value=error.instance if not isinstance(error.instance, Mapping) else None,
    )


def parse_profile(data: object, *, file: str | None = None) -> RuleProfile:
    """Check a profile's data against the schema and build it; errors name the file, field and value."""
    if not isinstance(data, Mapping):
        raise InputError("rule profile must be a mapping of fields", file=file, value=type(data).__name__)
    error = _schema_error(data, file)
    if error is not None:
        raise error
    raw_guarantee: Mapping[str, Any] = data.get("guarantee", {"variant": "none"})
    index = raw_guarantee.get("index")
    guarantee = Guarantee(
        variant=raw_guarantee["variant"],
        index=None if index is None else exact_number(index, file=file, column="guarantee.index"),
        minimum_seats=raw_guarantee.get("minimum_seats", 0),
        minimum_lists=raw_guarantee.get("minimum_lists"),
    )
    threshold_percent = exact_number(data["threshold_percent"], file=file, column="threshold_percent")
    if threshold_percent > 100:
        raise InputError(
            "rule profile: threshold_percent must be from 0 to 100",
            file=file,
            column="threshold_percent",
            value=data["threshold_percent"],
        )
    try:
        return RuleProfile(
            profile_id=data["profile_id"],
            seats=data["seats"],
            method=data["method"],
            threshold=threshold_percent / 100,
            threshold_base=data["threshold_base"],
            guarantee=guarantee,
            tie_break=data.get("tie_break", "ballot_order"),
            vacant_seats=data.get("vacant_seats", "leave_vacant"),
            districts=data.get("districts", 0),
            name=data.get("name", ""),
            source=data.get("source", ""),
            represented_share=_represented_share(data.get("represented_share"), file),
            consolation=_consolation(data.get("consolation_seats", ()), file),
            kind_thresholds=tuple(
                (kind, exact_number(value, file=file, column=f"kind_thresholds.{kind}") / 100)
                for kind, value in sorted(data.get("kind_thresholds", {}).items())
            ),
        )
    except InputError as exc:
        raise InputError(exc.detail, file=file, column=exc.location.column, value=exc.value) from None


def _represented_share(raw: Mapping[str, Any] | None, file: str | None) -> RepresentedShare | None:
    if raw is None:
        return None
    percent = exact_number(raw["percent"], file=file, column="represented_share.percent")
    return RepresentedShare(percent / 100, raw.get("comparison", "at_least") == "more_than")


def _consolation(raw: Sequence[Mapping[str, Any]], file: str | None) -> tuple[ConsolationBand, ...]:
    def share(n: int, item: Mapping[str, Any], key: str) -> Fraction:
        return exact_number(item[key], file=file, column=f"consolation_seats[{n}].{key}") / 100

    return tuple(
        ConsolationBand(share(n, item, "from_percent"), share(n, item, "below_percent"), item["seats"])
        for n, item in enumerate(raw)
    )


def _read_file(path: Path) -> object:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("rule profile file not found", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read rule profile: {exc.strerror}", file=str(path)) from None
    return profile_data(data, file=str(path))


def profile_data(data: bytes, *, file: str) -> object:
    """The fields of a profile file's bytes: JSON when `file` ends in .json, else YAML."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("rule profile is not UTF-8 text", file=file) from None
    if file.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg} (column {exc.colno})", file=file, row=exc.lineno
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InputError(f"not valid YAML: {problem}", file=file, row=row) from None


def available_profiles() -> tuple[str, ...]:
    """Profile ids shipped in schemas/rules/."""
    return tuple(sorted(p.stem for p in RULES_DIR.glob("*.yaml")))


def is_profile_id(ref: str) -> bool:
    """Whether a reference names a shipped profile ('kz-mazhilis-2021') rather than a file."""
    return bool(_PROFILE_ID.match(ref)) and not ref.endswith((".yaml", ".yml", ".json"))


def load_profile(ref: str | Path) -> RuleProfile:
    """A profile by id ('kz-mazhilis-2021' -> schemas/rules/kz-mazhilis-2021.yaml) or by path to YAML/JSON."""
    text = str(ref)
    by_id = not isinstance(ref, Path) and is_profile_id(text)
    if by_id:
        path = RULES_DIR / f"{text}.yaml"
        if not path.is_file():
            known = ", ".join(available_profiles()) or "none"
            raise InputError(
                f"no rule profile with id {text!r} in {RULES_DIR}; known: {known}", column="rules", value=text
            )
    else:
        path = Path(ref)
    profile = parse_profile(_read_file(path), file=str(path))
    if by_id and profile.profile_id != text:
        raise InputError(
            f"rule profile file declares profile_id {profile.profile_id!r}, expected {text!r}",
            file=str(path),
            column="profile_id",
            value=profile.profile_id,
        )
    return profile


def profile_to_dict(profile: RuleProfile) -> dict[str, object]:
    """Canonical JSON-safe form; `parse_profile` of it gives the same profile back."""
    guarantee: dict[str, object] = {"variant": profile.guarantee.variant}
    if profile.guarantee.index is not None:
        guarantee["index"] = exact_text(profile.guarantee.index)
    if profile.guarantee.variant == "correction_index" or profile.guarantee.minimum_seats:
        guarantee["minimum_seats"] = profile.guarantee.minimum_seats
    if profile.guarantee.minimum_lists is not None:
        guarantee["minimum_lists"] = profile.guarantee.minimum_lists
    # Options added after the first profiles are written only when set: the canonical form of a profile
    # without them, and the SHA-256 that events already in logs carry, stay what they were.
    optional: dict[str, object] = {}
    if profile.represented_share is not None:
        optional["represented_share"] = {
            "percent": exact_text(profile.represented_share.share * 100),
            "comparison": "more_than" if profile.represented_share.more_than else "at_least",
        }
    if profile.consolation:
        optional["consolation_seats"] = [
            {
                "from_percent": exact_text(band.low * 100),
                "below_percent": exact_text(band.high * 100),
                "seats": band.seats,
            }
            for band in profile.consolation
        ]
    if profile.kind_thresholds:
        optional["kind_thresholds"] = {
            kind: exact_text(share * 100) for kind, share in profile.kind_thresholds
        }
    return optional | {
        "profile_id": profile.profile_id,
        "name": profile.name,
        "seats": profile.seats,
        "method": profile.method,
        "threshold_percent": exact_text(profile.threshold * 100),
        "threshold_base": profile.threshold_base,
        "guarantee": guarantee,
        "tie_break": profile.tie_break,
        "vacant_seats": profile.vacant_seats,
        "districts": profile.districts,
        "source": profile.source,
    }


def override_profile(
    profile: RuleProfile,
    *,
    method: str | None = None,
    threshold_percent: Fraction | None = None,
    seats: int | None = None,
) -> RuleProfile:
    """The profile with options from the command line applied; the id records what was overridden."""
    changes: dict[str, Any] = {}
    notes: list[str] = []
    if method is not None and method != profile.method:
        changes["method"] = method
        notes.append(f"method={method}")
    if threshold_percent is not None and threshold_percent / 100 != profile.threshold:
        changes["threshold"] = threshold_percent / 100
        notes.append(f"threshold={exact_text(threshold_percent)}")
    if seats is not None and seats != profile.seats:
        changes["seats"] = seats
        notes.append(f"seats={seats}")
    if not notes:
        return profile
    return replace(profile, profile_id=profile.profile_id + "+" + "+".join(notes), **changes)


__all__ = [
    "GUARANTEE_VARIANTS",
    "METHODS",
    "NO_GUARANTEE",
    "THRESHOLD_BASES",
    "ConsolationBand",
    "Guarantee",
    "RepresentedShare",
    "RuleProfile",
    "available_profiles",
    "exact_number",
    "exact_text",
    "is_profile_id",
    "load_profile",
    "override_profile",
    "parse_profile",
    "profile_data",
    "profile_to_dict",
]
