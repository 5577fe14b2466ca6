"""Which templates jinja2 compiles, rather than loads compiled from a bytecode cache."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest


def count_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates every jinja2 Environment compiles from now on (until the test ends)."""
    names: list[str] = []
    original = jinja2.Environment.compile

    def counting(
        self: jinja2.Environment, source: Any, name: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        names.append(str(name))
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names
