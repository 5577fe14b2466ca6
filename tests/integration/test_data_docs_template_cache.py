"""Data Docs rendered from GX's templates compiled on disk are the bytes GX renders compiling them."""

from __future__ import annotations

import datetime
import itertools
import shutil
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core.paths import gx_template_cache
from pipelines.gate.gx_runtime import build_data_docs, import_gx
from pipelines.gate.validation import validate_file
from tests.integration.validation_support import csv_text, declaration, good_row, write
from tests.support.jinja_compiles import count_compiles


class _Frozen(datetime.datetime):
    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _Frozen:
        return cls(2026, 12, 6, 21, 0, tzinfo=tz)


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The templates jinja2 compiles; GX's page clock and element ids held still, so pages compare."""
    import_gx()
    import great_expectations.render.view.view as gx_view

    # GX stamps each page with the time (the logo's URL) and numbers collapsible blocks with uuid4.
    monkeypatch.setattr(
        gx_view, "datetime", types.SimpleNamespace(datetime=_Frozen, timezone=datetime.timezone)
    )
    yield count_compiles(monkeypatch)


def _site(docs: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every page of the site, rendered afresh."""
    import great_expectations.render.view.view as gx_view

    ids = itertools.count()
    monkeypatch.setattr(gx_view, "uuid4", lambda: uuid.UUID(int=next(ids)))
    shutil.rmtree(docs / "validations", ignore_errors=True)
    (docs / "index.html").unlink(missing_ok=True)
    assert build_data_docs(docs) == docs / "index.html"
    return {page.relative_to(docs).as_posix(): page.read_bytes() for page in sorted(docs.rglob("*.html"))}


def test_pages_are_byte_identical_with_a_warm_a_damaged_and_no_cache(
    tmp_path: Path, compiled: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    docs = tmp_path / "data_docs"
    rows = [good_row("P-001"), good_row("P-002", amanat="1"), good_row("P-004", ak_zhol="l50")]
    path = write(tmp_path / "night.csv", csv_text(rows))
    validate_file(path, display_name="night.csv", election=declaration(), reported={}, data_docs_dir=docs)
    cache = gx_template_cache()
    assert cache.is_relative_to(tmp_path / "user-cache")

    # No cache (its folder is a file, so nothing can be written): every template compiled, as GX does.
    cache.parent.mkdir(parents=True)
    cache.write_text("in the way", encoding="utf-8")
    without = _site(docs, monkeypatch)
    assert len(without) == 2 and len(compiled) > 10
    cache.unlink()

    assert _site(docs, monkeypatch) == without  # cold: compiled, and kept
    entries = sorted(cache.rglob("*.bytecode"))
    assert not list(docs.rglob("*.bytecode"))  # code never kept in the warehouse's folders
    assert entries and len(entries) == len(set(compiled))  # one per template
    compiled.clear()
    assert _site(docs, monkeypatch) == without  # warm: nothing compiled
    assert compiled == []

    for number, entry in enumerate(entries):  # damaged three ways: cut short, a flipped byte, emptied
        data = entry.read_bytes()
        damaged = [data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 0xFF]), b""][number % 3]
        entry.write_bytes(damaged)
    assert _site(docs, monkeypatch) == without
    assert len(compiled) == len(entries)
