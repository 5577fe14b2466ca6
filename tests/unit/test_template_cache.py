"""The on-disk jinja2 bytecode cache: used when whole and current, compiled around otherwise, never fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from pipelines.core.paths import gx_template_cache
from pipelines.gate.template_cache import VerifiedBytecodeCache, cache_folder
from tests.support.jinja_compiles import count_compiles

TEMPLATE = "{% for item in items %}<li>{{ item | upper }}</li>{% endfor %}"


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the templates jinja2 compiles (rather than loads from the cache)."""
    yield count_compiles(monkeypatch)


def _render(folder: Path, source: str = TEMPLATE) -> str:
    # A new Environment each time, as GX builds one per view: only the cache on disk carries over.
    environment = jinja2.Environment(
        loader=jinja2.DictLoader({"list.html": source}),
        autoescape=True,
        bytecode_cache=VerifiedBytecodeCache(folder),
    )
    return environment.get_template("list.html").render(items=["a", "<b>"])


def test_a_warm_cache_renders_without_compiling(tmp_path: Path, compiled: list[str]) -> None:
    cold = _render(tmp_path / "cache")
    assert compiled == ["list.html"]
    assert len(list((tmp_path / "cache").glob("*.bytecode"))) == 1
    assert _render(tmp_path / "cache") == cold == "<li>A</li><li>&lt;B&gt;</li>"
    assert compiled == ["list.html"]


def test_a_changed_template_is_compiled_again_never_served_stale(tmp_path: Path, compiled: list[str]) -> None:
    _render(tmp_path / "cache")
    assert _render(tmp_path / "cache", "<p>{{ items | length }}</p>") == "<p>2</p>"
    assert len(compiled) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:40] + bytes([data[40] ^ 0xFF]) + data[41:],  # one byte flipped in the code
        lambda data: b"",
        lambda data: b"not a cache entry at all",
    ],
)
def test_a_damaged_entry_is_compiled_around_and_repaired(
    tmp_path: Path, compiled: list[str], damage: Any
) -> None:
    expected = _render(tmp_path / "cache")
    (entry,) = (tmp_path / "cache").glob("*.bytecode")
    entry.write_bytes(damage(entry.read_bytes()))
    assert _render(tmp_path / "cache") == expected
    assert len(compiled) == 2
    assert _render(tmp_path / "cache") == expected  # the entry was written whole again
    assert len(compiled) == 2


def test_a_cache_that_cannot_be_written_is_no_cache(tmp_path: Path, compiled: list[str]) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert _render(blocked / "cache") == "<li>A</li><li>&lt;B&gt;</li>"
    assert _render(blocked / "cache") == "<li>A</li><li>&lt;B&gt;</li>"
    assert len(compiled) == 2
    assert blocked.read_text(encoding="utf-8") == "not a folder"


def test_the_folder_names_what_made_the_code(tmp_path: Path) -> None:
    folder = cache_folder(tmp_path, gx_version="1.24.1")
    assert folder.parent == tmp_path
    assert f"jinja2-{jinja2.__version__}" in folder.name and "gx-1.24.1" in folder.name
    assert folder != cache_folder(tmp_path, gx_version="1.25.0")


def test_the_cache_is_in_the_users_cache_folder_when_one_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert gx_template_cache() == tmp_path / "xdg" / "elections" / "gx-templates"
    # A relative XDG_CACHE_HOME is invalid (XDG base directory spec): it would follow the working
    # directory, which may be a warehouse's folder.
    monkeypatch.setenv("XDG_CACHE_HOME", "warehouse")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert gx_template_cache() == tmp_path / "home" / ".cache" / "elections" / "gx-templates"
