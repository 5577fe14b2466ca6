"""The forensic screen's images as SVG (labelled) and PNG (the same plot area, raster), written by hand.

The lock has no plotting library, and these charts are grids and bars: SVG text with fixed number
formats and a PNG from zlib are byte-deterministic and need nothing else. Each SVG carries the
screening note; the PNG is the plot alone (axes from 0 to 100% on both sides, as the SVG labels).
"""

from __future__ import annotations

import struct
import textwrap
import zlib
from html import escape

import numpy as np
import numpy.typing as npt

from pipelines.audit.forensics import SCREENING_NOTE, IntArray

UInt8Array = npt.NDArray[np.uint8]

_CELL = 4  # pixels per comet cell
_MARGIN_LEFT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 40, 56
_BAR_HEIGHT = 240
_NOTE_LINE = 12  # pixels between the lines of the screening note


def png_bytes(pixels: UInt8Array) -> bytes:
    """A PNG of an RGB image (height x width x 3, uint8): filter 0 on every row, zlib level 9."""
    height, width, _ = pixels.shape
    rows = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _intensity(grid: IntArray) -> npt.NDArray[np.float64]:
    # Log scale: a comet's tail holds few voters beside its head, and must still show.
    logged = np.log1p(grid.astype(np.float64))
    top = float(logged.max())
    out: npt.NDArray[np.float64] = logged / top if top > 0 else logged
    return out


def _heat_rgb(level: float) -> tuple[int, int, int]:
    """White (0) through orange to dark red (1)."""
    if level <= 0:
        return (255, 255, 255)
    return (255 - int(95 * level), 230 - int(230 * level), 160 - int(160 * level))


def comet_png(comet: IntArray) -> bytes:
    """Turnout up the side (100% at the top), leader share along the bottom."""
    levels = _intensity(comet)
    bins = comet.shape[0]
    pixels = np.full((bins * _CELL, bins * _CELL, 3), 255, dtype=np.uint8)
    for t, s in zip(*np.nonzero(comet), strict=True):
        y = (bins - 1 - int(t)) * _CELL
        pixels[y : y + _CELL, int(s) * _CELL : (int(s) + 1) * _CELL] = _heat_rgb(float(levels[t, s]))
    return png_bytes(pixels)


def comet_svg(comet: IntArray, *, title: str) -> str:
    levels = _intensity(comet)
    bins = comet.shape[0]
    side = bins * _CELL
    width = _MARGIN_LEFT + side + 20
    height = _MARGIN_TOP + side + _MARGIN_BOTTOM + _NOTE_LINE * (len(_note_lines(width)) - 1)
    parts = [_svg_open(width, height, title)]
    parts.append(
        f'<rect x="{_MARGIN_LEFT}" y="{_MARGIN_TOP}" width="{side}" height="{side}" '
        'fill="#fff" stroke="#888"/>'
    )
    for t, s in zip(*np.nonzero(comet), strict=True):
        r, g, b = _heat_rgb(float(levels[t, s]))
        x, y = _MARGIN_LEFT + int(s) * _CELL, _MARGIN_TOP + (bins - 1 - int(t)) * _CELL
        parts.append(
            f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" fill="#{r:02x}{g:02x}{b:02x}">'
            f"<title>turnout {int(t)}-{int(t) + 1}%, leader share {int(s)}-{int(s) + 1}%: "
            f"{int(comet[t, s])} voters</title></rect>"
        )
    for pct in range(0, 101, 20):
        x = _MARGIN_LEFT + pct * side // 100
        y = _MARGIN_TOP + side - pct * side // 100
        parts.append(f'<text x="{x}" y="{_MARGIN_TOP + side + 16}" text-anchor="middle">{pct}%</text>')
        parts.append(f'<text x="{_MARGIN_LEFT - 6}" y="{y + 4}" text-anchor="end">{pct}%</text>')
    parts.append(
        f'<text x="{_MARGIN_LEFT + side // 2}" y="{_MARGIN_TOP + side + 34}" text-anchor="middle">'
        "leader's share of valid list votes</text>"
    )
    parts.append(
        f'<text x="14" y="{_MARGIN_TOP + side // 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_MARGIN_TOP + side // 2})">turnout (ballots cast / registered)</text>'
    )
    parts.append(_note(width, height))
    parts.append("</svg>\n")
    return "\n".join(parts)


def _bar_heights(histogram: IntArray) -> IntArray:
    top = int(histogram.max()) if histogram.size else 0
    heights: IntArray = (
        (histogram * _BAR_HEIGHT + top - 1) // top if top > 0 else np.zeros(histogram.size, dtype=np.int64)
    )
    return heights


def histogram_png(histogram: IntArray) -> bytes:
    """One pixel column per 0.1-point bin (0 to 100%), bars from the bottom."""
    heights = _bar_heights(histogram)
    pixels = np.full((_BAR_HEIGHT, histogram.size, 3), 255, dtype=np.uint8)
    for x, h in enumerate(heights.tolist()):
        if h:
            pixels[_BAR_HEIGHT - h :, x] = (60, 90, 160)
    return png_bytes(pixels)


def histogram_svg(histogram: IntArray, *, title: str, axis: str) -> str:
    heights = _bar_heights(histogram)
    width = _MARGIN_LEFT + histogram.size + 20
    height = _MARGIN_TOP + _BAR_HEIGHT + _MARGIN_BOTTOM + _NOTE_LINE * (len(_note_lines(width)) - 1)
    base = _MARGIN_TOP + _BAR_HEIGHT
    parts = [_svg_open(width, height, title)]
    # One path of vertical strokes: a thousand bars stay a small file.
    strokes = "".join(f"M{_MARGIN_LEFT + x + 0.5} {base}v-{h}" for x, h in enumerate(heights.tolist()) if h)
    if strokes:
        parts.append(f'<path d="{strokes}" stroke="#3c5aa0" stroke-width="1" fill="none"/>')
    parts.append(
        f'<line x1="{_MARGIN_LEFT}" y1="{base}" x2="{_MARGIN_LEFT + histogram.size}" y2="{base}" '
        'stroke="#888"/>'
    )
    for pct in range(0, 101, 10):
        parts.append(
            f'<text x="{_MARGIN_LEFT + pct * 10}" y="{base + 16}" text-anchor="middle">{pct}%</text>'
        )
    parts.append(
        f'<text x="{_MARGIN_LEFT + histogram.size // 2}" y="{base + 34}" text-anchor="middle">'
        f"{escape(axis)} (stations per 0.1-point bin; integer percents are every tenth bin)</text>"
    )
    parts.append(
        f'<text x="{_MARGIN_LEFT - 6}" y="{_MARGIN_TOP + 4}" text-anchor="end">'
        f"{int(histogram.max(initial=0))}</text>"
    )
    parts.append(_note(width, height))
    parts.append("</svg>\n")
    return "\n".join(parts)


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">\n'
        f"<title>{escape(title)}</title>\n"
        f'<rect width="{width}" height="{height}" fill="#fff"/>\n'
        f'<text x="{_MARGIN_LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>'
    )


def _note_lines(width: int) -> list[str]:
    # The note must be read whole: wrapped to the chart's width (10 px sans-serif, ~5.5 px a character).
    return textwrap.wrap(SCREENING_NOTE, width=max(40, (width - 16) * 2 // 11))


def _note(width: int, height: int) -> str:
    lines = _note_lines(width)
    first = height - 6 - _NOTE_LINE * (len(lines) - 1)
    return "\n".join(
        f'<text x="8" y="{first + _NOTE_LINE * i}" font-size="10" fill="#a00">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
