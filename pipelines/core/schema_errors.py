"""The first error of a data file against its JSON Schema, and the field it names.

Rule profiles and layouts are checked against schemas in `schemas/`; both report one error, the first
in the order of its path and message, so the same file always gives the same message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema


# Errors are jsonschema's ValidationError, typed Any here: its typed fields are unions with an
# "unset" marker that every error of a failing validator has set.
def first_schema_error(schema: Mapping[str, Any], data: object) -> Any | None:
    """The first error of `data` against `schema` (Draft 2020-12), by path then message; None if valid."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return errors[0] if errors else None


def error_path(error: Any) -> str:
    """Where the error is, dotted (`guarantee.index`); empty at the top."""
    return ".".join(str(p) for p in error.absolute_path)


def missing_field(error: Any) -> str:
    """The dotted field a `required` error misses."""
    path = error_path(error)
    missing = next((name for name in error.validator_value if name not in error.instance), "?")
    return f"{path}.{missing}" if path else str(missing)


def unknown_field(error: Any) -> str:
    """The dotted field an `additionalProperties` error found first that the schema does not allow."""
    extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
    return ".".join(p for p in (error_path(error), extra[0] if extra else None) if p)
