"""The HTML matrix renders in a real browser (headless Debian chromium) and Allure's fallback path."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from dra_conformance import host_packages
from reports import allure as allure_mod
from reports.build import merge_runs

DATA = Path(__file__).with_name("data")
CHROMIUM = host_packages.needs("the matrix screenshot test", {"chromium": "chromium"})


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered rows of an 8-bit RGB(A) non-interlaced PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unsupported PNG (depth {depth}, colour type {color})"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r) for r in rows]


def test_matrix_html_screenshot_is_not_blank(tmp_path: Path) -> None:
    CHROMIUM.ensure()
    browser = shutil.which("chromium")
    for name in ("run-1.34", "run-1.35", "run-crashed"):
        shutil.copytree(DATA / name, tmp_path / name)
    merge_runs([tmp_path / n for n in ("run-1.34", "run-1.35", "run-crashed")], tmp_path / "merged")
    shot = tmp_path / "matrix.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={shot}", "--window-size=1280,900",
                    (tmp_path / "merged" / "matrix.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1280, 900)
    bpp = len(rows[0]) // width
    pixels = [row[i:i + 3] for row in rows[::4] for i in range(0, len(row), bpp * 4)]
    colours = set(pixels)
    inked = sum(1 for p in pixels if p != b"\xff\xff\xff") / len(pixels)
    assert len(colours) > 20, "the page rendered more than a flat background"
    assert inked > 0.05, f"only {inked:.1%} of the page is not white"
    # The status colours of the matrix cells (pass green / fail red backgrounds) are on screen.
    assert b"\xda\xfb\xe1" in colours and b"\xff\xeb\xe9" in colours


def test_allure_without_java_and_apt_is_one_line_and_no_failure(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no java, no npm, no apt-get
    monkeypatch.setattr(host_packages, "present", lambda probe: False)
    with pytest.raises(allure_mod.AllureUnavailable) as exc:
        allure_mod.render_allure(results, tmp_path / "allure-report")
    assert "openjdk-17-jre-headless" in str(exc.value) and "\n" not in str(exc.value)


def test_allure_without_results_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(allure_mod.AllureUnavailable, match="no Allure results"):
        allure_mod.render_allure(tmp_path / "missing", tmp_path / "allure-report")
