"""The dashboards in a real browser: headless Chromium, no JavaScript errors, every panel drawn.

Chromium (Debian package ``chromium``; ``.ci/run`` installs it) runs as a plain
subprocess: ``--dump-dom`` gives the DOM after the scripts ran (the page records
JavaScript errors in ``<html data-js-errors>``, and each panel holds plotly's
``.main-svg`` once drawn), ``--enable-logging=stderr`` gives the console, and
``--screenshot`` a PNG decoded here with zlib to check that it is not blank.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import threading
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import automl.reports as reports
from automl.reports._dashboard import write_report
from automl.reports._server import make_server
from tests.reports.test_dashboard_support import N_TRIALS, make_study_dir


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


CHROMIUM = _find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium; .ci/run does)",
)

#: Seconds one browser run may take (the page itself needs ~5 s on an idle machine).
TIMEOUT_S = 120
WINDOW = (1400, 3000)


def run_chromium(url: str, profile: Path, *, screenshot: Path | None = None) -> SimpleNamespace:
    """Load ``url`` headless; return the DOM after scripts ran and the console messages."""
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--mute-audio",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--dump-dom",
    ]
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    proc = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return SimpleNamespace(dom=proc.stdout, console=console_messages(proc.stderr))


_CONSOLE = re.compile(r':CONSOLE[^\]]*\] "(?P<msg>.*)", source: (?P<src>.*)$', re.M)


def console_messages(stderr: str) -> list[str]:
    return [m.group("msg") for m in _CONSOLE.finditer(stderr)]


def console_errors(messages: list[str]) -> list[str]:
    return [
        m for m in messages if re.search(r"Uncaught|Error|Failed to load|Refused to|Unhandled", m)
    ]


def panels(dom: str) -> dict[str, str]:
    """Panel title -> its HTML, for the figure panels (those holding a plot)."""
    found = {}
    for chunk in dom.split("<section ")[1:]:
        title = re.search(r'data-panel="([^"]*)"', chunk)
        if title and 'class="plot' in chunk:
            found[title.group(1)] = chunk
    return found


def assert_all_drawn(dom: str, titles: list[str]) -> None:
    import html

    root = re.search(r"<html[^>]*>", dom).group(0)
    assert 'data-js-errors="0"' in root, re.search(r'id="automl-js-errors"[^>]*>([^<]*)', dom)
    assert f'data-panels-total="{len(titles)}"' in root
    assert f'data-panels-rendered="{len(titles)}"' in root
    drawn = panels(dom)
    assert sorted(drawn) == sorted(html.escape(t) for t in titles)
    for title, chunk in drawn.items():
        assert 'data-rendered="true"' in chunk, title
        assert 'class="main-svg"' in chunk, title
        assert f"<h2>{title}</h2>" in chunk


# ---------------------------------------------------------------------------
# PNG, decoded with the standard library (+ numpy for the easy filters)


def decode_png(path: Path) -> np.ndarray:
    """RGB(A) pixels of an 8-bit, non-interlaced PNG as an (h, w, channels) uint8 array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert depth == 8 and interlace == 0 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum per channel
            row = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint64)
            row = (row % 256).astype(np.uint8).reshape(stride)
        elif kind == 2:  # Up
            row = line + prev
        else:  # Average / Paeth: byte by byte
            row = _unfilter_slow(kind, line.tobytes(), prev.tobytes(), bpp)
        out[y] = row
        prev = row
    return out.reshape(height, width, bpp)


def _unfilter_slow(kind: int, line: bytes, prev: bytes, bpp: int) -> np.ndarray:
    row = bytearray(line)
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            row[i] = (row[i] + ((a + b) >> 1)) & 0xFF
        else:
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            row[i] = (row[i] + pred) & 0xFF
    return np.frombuffer(bytes(row), dtype=np.uint8)


def assert_not_blank(path: Path) -> dict:
    pixels = decode_png(path)[..., :3]
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    rgb = pixels.astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    colors = np.unique(packed)
    non_white = float(np.mean(pixels.min(axis=2) < 235))  # not white, not the page background
    white = float(np.mean(packed == 0xFFFFFF))
    stats = dict(colors=len(colors), non_white=non_white, white=white)
    assert tuple(pixels[0, 0]) == (0xF4, 0xF6, 0xF9), stats  # page background: decoded right
    assert len(colors) > 200, stats  # plots, text, colour scales
    assert white > 0.2, stats  # the panels and cards
    assert non_white > 0.02, stats  # lines, markers, text
    return stats


# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = make_study_dir(tmp_path_factory.mktemp("browser") / "run", name="browser <study>")
    figures = reports.dashboard_figures(reports.load_study_data(out))
    with pytest.MonkeyPatch.context() as mp:  # the figures take seconds: build them once
        mp.setattr(reports, "dashboard_figures", lambda data: figures)
        report = write_report(out)
    return SimpleNamespace(out=out, report=report, titles=list(figures))


def test_report_from_disk(study, tmp_path):
    shot = tmp_path / "report.png"
    result = run_chromium(study.report.resolve().as_uri(), tmp_path / "profile", screenshot=shot)
    assert console_errors(result.console) == []
    assert len(study.titles) >= 8
    assert_all_drawn(result.dom, study.titles)
    assert 'id="trials-table"' in result.dom
    assert_not_blank(shot)


def test_live_server_page(study, tmp_path):
    server = make_server(study.out, port=0, refresh_s=2.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        shot = tmp_path / "live.png"
        result = run_chromium(server.url, tmp_path / "profile", screenshot=shot)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert console_errors(result.console) == []
    assert_all_drawn(result.dom, study.titles)
    # the poll of /api/version ran and found the study unchanged (no reload loop)
    status = re.search(
        r'id="live-status" data-live-state="(\w+)"><span class="dot"></span>'
        r'<span class="live-text">([^<]*)<',
        result.dom,
    )
    assert status and status.group(1) == "ok" and f"{N_TRIALS} finished" in status.group(2), status
    assert_not_blank(shot)


def test_sorting_and_error_detection(study, tmp_path):
    """Click a header twice in the browser; a deliberate error must be caught both ways.

    The trials table alone, in the dashboard's page shell (same scripts, no plotly.js).
    """
    from automl.reports._html import _page, _table_section_html

    table = reports.trials_table(reports.load_study_data(study.out))
    body = _table_section_html("Trials", table, table_id="trials-table")
    probe = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var th = Array.prototype.find.call(document.querySelectorAll("#trials-table th"),
                                     function (h) { return h.textContent === "value"; });
  th.click(); th.click();
  var col = Number(th.getAttribute("data-col"));
  var values = Array.prototype.map.call(document.querySelectorAll("#trials-table tbody tr"),
    function (r) { return r.cells[col].getAttribute("data-value") || ""; });
  document.documentElement.setAttribute("data-probe", th.getAttribute("aria-sort") + "|" + values.join(","));
  setTimeout(function () { throw new Error("deliberate probe error"); }, 0);
});
</script>"""
    page = tmp_path / "table.html"
    page.write_text(_page(title="probe", body=body + probe, figures={}), encoding="utf-8")
    result = run_chromium(page.as_uri(), tmp_path / "profile")
    sort, values = re.search(r'data-probe="([^|"]*)\|([^"]*)"', result.dom).groups()
    assert sort == "descending"
    numbers = [float(v) for v in values.split(",") if v]
    assert len(numbers) == 6 and numbers == sorted(numbers, reverse=True)
    assert values.count(",") == N_TRIALS - 1  # pruned and failed trials (no value) last
    assert 'data-js-errors="1"' in re.search(r"<html[^>]*>", result.dom).group(0)
    assert "deliberate probe error" in result.dom  # shown in <pre id=automl-js-errors>
    assert any("deliberate probe error" in m for m in console_errors(result.console))
