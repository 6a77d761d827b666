"""The HTML report in a real headless browser (Chromium): it loads with no console messages or
script errors, and every embedded figure decodes, is laid out on the page and is not blank.

Chromium comes from the system packages (``.ci/run`` installs the Debian ``chromium`` package
when it is missing). Without a browser these tests FAIL; they are skipped only when
``EVALINT_NO_BROWSER=1`` is set explicitly. ``EVALINT_CHROMIUM`` names another binary.

How: a copy of the report gets a probe script as the first element of ``<head>``. The probe
records script errors, failed resource loads (capture-phase ``error`` events) and
``console.error``/``console.warn`` calls; on ``load`` it measures every ``<img>``
(``complete``, ``naturalWidth``/``naturalHeight``, the laid-out size) and draws it on a canvas
to count non-white pixels, then writes the findings as JSON into the DOM, which Chromium's
``--dump-dom`` prints. Every console message Chromium logs for the page (``--enable-logging``)
is also read from stderr: the report itself has no scripts, so any message is a failure.
The probe is shown to catch a script error, a corrupt embedded PNG, a blank figure and a
missing external image.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = r"""<script id="evalint-probe">
(function () {
  var problems = [];
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) {
      problems.push('resource failed to load: <' + t.tagName.toLowerCase() + '> ' +
                    String(t.currentSrc || t.src || t.href || '').slice(-80));
    } else {
      problems.push('script error: ' + e.message);
    }
  }, true);
  ['error', 'warn'].forEach(function (level) {
    var orig = console[level];
    console[level] = function () {
      problems.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' '));
      return orig.apply(console, arguments);
    };
  });
  window.addEventListener('load', function () {
    // the page as it opens (every <details> collapsed): where the summary ends, how tall the page is
    var summary = document.getElementById('summary');
    var sr = summary ? summary.getBoundingClientRect() : null;
    var layout = {width: document.documentElement.clientWidth,
                  page_height: document.documentElement.scrollHeight,
                  summary_bottom: sr ? sr.bottom + window.scrollY : null,
                  summary_images: summary ? Array.prototype.map.call(summary.querySelectorAll('img'),
                      function (i) { return {alt: i.alt, height: i.getBoundingClientRect().height}; }) : [],
                  details: document.querySelectorAll('details').length,
                  details_open: document.querySelectorAll('details[open]').length};
    // then every detail opened, so each figure can be measured
    Array.prototype.forEach.call(document.querySelectorAll('details'), function (d) { d.open = true; });
    layout.page_height_open = document.documentElement.scrollHeight;
    var images = Array.prototype.map.call(document.images, function (img) {
      var r = img.getBoundingClientRect();
      var info = {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
                  shown_width: r.width, shown_height: r.height, ink: null};
      if (img.complete && img.naturalWidth > 0) {
        var c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        var ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        var d = ctx.getImageData(0, 0, c.width, c.height).data, n = 0;
        for (var k = 0; k < d.length; k += 4) {
          if (d[k + 3] > 0 && (d[k] < 200 || d[k + 1] < 200 || d[k + 2] < 200)) { n++; }
        }
        info.ink = n / (c.width * c.height);
      }
      return info;
    });
    var headings = Array.prototype.map.call(document.querySelectorAll('h2'), function (h) { return h.textContent; });
    var out = document.createElement('pre');
    out.id = 'evalint-probe-result';
    out.textContent = JSON.stringify({problems: problems, images: images, headings: headings,
                                      title: document.title, layout: layout});
    document.body.appendChild(out);
  });
})();
</script>"""

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                  "--window-size=1280,1500", "--hide-scrollbars")
CONSOLE_LINE = re.compile(r"CONSOLE[(:]\d*\)?\]?\s*(.*)")
#: seconds to load one page (the demo report takes about 2 s)
TIMEOUT = 60
#: a figure counts as drawn when at least this share of its pixels is not (near) white
MIN_INK = 0.01
SECTIONS = ["Summary", "Question", "Data", "Design choices", "Results and verdicts", "Figures", "Threats and flags",
            "Provenance"]
#: the reader's first screen at 1280 px wide: the summary must end within it
FIRST_SCREEN_PX = 1500
#: the whole page with every <details> collapsed
MAX_PAGE_PX = 8000


def chromium() -> str:
    """Path of the headless browser; fails (does not skip) when there is none."""
    explicit = os.environ.get("EVALINT_CHROMIUM")
    found = explicit or next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                                    "google-chrome")) if p), None)
    if found:
        return found
    if os.environ.get("EVALINT_NO_BROWSER") == "1":
        pytest.skip("EVALINT_NO_BROWSER=1: headless-browser test of the HTML report skipped on request")
    pytest.fail("No Chromium on PATH: the HTML report must be tested in a real browser. Install it "
                "(Debian: apt-get install -y --no-install-recommends chromium; .ci/run does this), set "
                "EVALINT_CHROMIUM=/path/to/chrome, or set EVALINT_NO_BROWSER=1 to skip explicitly.")


def load_in_browser(html_path: Path, workdir: Path) -> tuple[dict | None, list[str], str]:
    """Open a probed copy of ``html_path`` in headless Chromium.

    Returns ``(probe findings or None, console messages, stderr)``.
    """
    text = html_path.read_text(encoding="utf-8")
    head = text.find("<head>")
    assert head >= 0, "the report has no <head>"
    probed = workdir / ("probed_" + html_path.name)
    probed.write_text(text[: head + 6] + PROBE + text[head + 6:], encoding="utf-8")
    profile = workdir / f"profile_{html_path.stem}"
    profile.mkdir(exist_ok=True)
    # own process group, so a hung browser is stopped with all its child processes
    proc = subprocess.Popen([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                             probed.resolve().as_uri()], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        stderr += f"\n(evalint test: Chromium stopped after {TIMEOUT} s)"
    console = [m.group(1) for line in stderr.splitlines() if (m := CONSOLE_LINE.search(line))]
    found = re.search(r"<pre id=\"evalint-probe-result\">(.*?)</pre>", stdout, flags=re.DOTALL)
    if not found:
        return None, console, stderr
    raw = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(raw), console, proc.stderr


def problems_of(html_path: Path, workdir: Path, expect_images: int | None = None) -> list[str]:
    """Everything wrong with the page in the browser (empty list: loads cleanly, figures drawn)."""
    probe, console, stderr = load_in_browser(html_path, workdir)
    if probe is None:
        return ["the page did not finish loading (no probe result in the DOM); Chromium stderr tail: "
                + stderr[-1500:]]
    out = [f"console: {m}" for m in console] + list(probe["problems"])
    images = probe["images"]
    if expect_images is not None and len(images) != expect_images:
        out.append(f"{len(images)} images in the page, expected {expect_images}")
    for i, im in enumerate(images):
        name = f"figure {i + 1} ({im['alt']})"
        if not im["complete"] or im["width"] == 0 or im["height"] == 0:
            out.append(f"{name} did not decode (naturalWidth {im['width']})")
            continue
        if im["shown_width"] < 50 or im["shown_height"] < 50:
            out.append(f"{name} is not laid out ({im['shown_width']:.0f} x {im['shown_height']:.0f} px)")
        if im["ink"] is None or im["ink"] < MIN_INK:
            out.append(f"{name} is blank ({im['ink']!r} of pixels drawn)")
    missing = [s for s in SECTIONS if s not in probe["headings"]]
    if missing:
        out.append(f"sections missing: {missing}")
    return out


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The `evalint demo` report: 4 designs x 3 outcomes, every figure type."""
    from evalint.demo import run_demo

    chromium()  # no browser: fail (or skip on request) before the demo runs
    out = tmp_path_factory.mktemp("browser_demo")
    run_demo(out, seed=2022, quiet=True)
    return out / "report.html"


def _variant(report: Path, tmp_path: Path, name: str, edit) -> Path:
    p = tmp_path / name
    p.write_text(edit(report.read_text(encoding="utf-8")), encoding="utf-8")
    return p


def _png(color: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, 3), facecolor=color)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=color)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


# ----------------------------------------------------------------------------- the real report
def test_report_loads_cleanly_and_every_figure_renders(report, tmp_path):
    html = report.read_text(encoding="utf-8")
    n_img = html.count("<img ")
    assert n_img >= 11  # forest plot; ITS, event study, synthetic for each of 3 outcomes; calendar
    assert "<script" not in html.lower()  # a static report: nothing to run, nothing to fetch
    probe, console, _ = load_in_browser(report, tmp_path)
    assert probe is not None
    assert console == [] and probe["problems"] == []
    assert len(probe["images"]) == n_img
    assert probe["title"].startswith("Evaluation: discharge_pilot_2023")
    assert problems_of(report, tmp_path, expect_images=n_img) == []
    for im in probe["images"]:
        assert im["width"] > 300 and im["height"] > 150 and im["ink"] > MIN_INK, im


def test_summary_fits_the_first_screen_with_the_forest_plot_and_the_page_is_short(report, tmp_path):
    probe, _, stderr = load_in_browser(report, tmp_path)
    assert probe is not None, stderr[-800:]
    lay = probe["layout"]
    assert lay["width"] == 1280
    assert probe["headings"][0] == "Summary"  # the answer first
    assert lay["summary_bottom"] is not None and lay["summary_bottom"] <= FIRST_SCREEN_PX, lay
    forest = [i for i in lay["summary_images"] if i["alt"].startswith("Forest plot")]
    assert len(forest) == 1 and forest[0]["height"] > 150, lay["summary_images"]
    assert lay["details"] >= 8 and lay["details_open"] == 0  # details present, collapsed when the page opens
    assert lay["page_height"] < MAX_PAGE_PX, lay
    assert lay["page_height_open"] > lay["page_height"] + 3000  # the figures and flag tables are in the details


def test_layout_check_catches_a_summary_pushed_off_the_first_screen(report, tmp_path):
    tall = _variant(report, tmp_path, "tall_summary.html",
                    lambda h: h.replace("<section id='summary'><h2>Summary</h2>",
                                        "<section id='summary'><h2>Summary</h2><div style='height:1600px'></div>", 1))
    probe, _, _ = load_in_browser(tall, tmp_path)
    assert probe["layout"]["summary_bottom"] > FIRST_SCREEN_PX
    long_page = _variant(report, tmp_path, "open_details.html", lambda h: h.replace("<details>", "<details open>"))
    probe, _, _ = load_in_browser(long_page, tmp_path)
    assert probe["layout"]["details_open"] > 0 and probe["layout"]["page_height"] > 12_000


# ----------------------------------------------------------------------------- the check can fail
def test_browser_check_catches_a_script_error(report, tmp_path):
    broken = _variant(report, tmp_path, "js_error.html",
                      lambda h: h.replace("</body>", "<script>evalintUndefinedFunction();</script></body>"))
    found = problems_of(broken, tmp_path)
    assert any("evalintUndefinedFunction" in p for p in found), found
    assert any(p.startswith("console:") for p in found), found  # also seen in Chromium's console log


def test_browser_check_catches_a_console_error(report, tmp_path):
    noisy = _variant(report, tmp_path, "console_error.html",
                     lambda h: h.replace("</body>", "<script>console.error('evalint-bad-thing')</script></body>"))
    found = problems_of(noisy, tmp_path)
    assert any("evalint-bad-thing" in p for p in found), found


def test_browser_check_catches_a_corrupt_embedded_image(report, tmp_path):
    marker = "data:image/png;base64,"

    def corrupt(h: str) -> str:
        i = h.index(marker) + len(marker)
        # keep the PNG signature, garble the image header and everything after it
        return h[:i + 16] + "QUJDREVGR0hJSktMTU5PUA" * 8 + h[h.index("'", i):]

    bad = _variant(report, tmp_path, "corrupt_png.html", corrupt)
    found = problems_of(bad, tmp_path)
    assert any("figure 1" in p and "did not decode" in p for p in found), found
    assert not any("figure 2 " in p for p in found), found  # only the corrupted figure


def test_browser_check_catches_a_blank_figure_and_a_missing_image(report, tmp_path):
    marker = "data:image/png;base64,"
    white = _png("white")

    def blank(h: str) -> str:
        i = h.index(marker) + len(marker)
        return h[:i] + white + h[h.index("'", i):]

    found = problems_of(_variant(report, tmp_path, "blank.html", blank), tmp_path)
    assert any("figure 1" in p and "blank" in p for p in found), found
    found = problems_of(_variant(report, tmp_path, "missing.html",
                                 lambda h: h.replace("</body>", "<img src='no_such_figure.png' alt='x'></body>")),
                        tmp_path)
    assert any("resource failed to load" in p and "no_such_figure.png" in p for p in found), found
    assert any("did not decode" in p for p in found), found


def test_browser_check_catches_a_page_that_is_not_the_report(tmp_path):
    page = tmp_path / "other.html"
    page.write_text("<!DOCTYPE html><html><head><title>x</title></head><body><h2>Question</h2></body></html>",
                    encoding="utf-8")
    found = problems_of(page, tmp_path)
    assert any("sections missing" in p and "Provenance" in p for p in found), found
    assert problems_of(page, tmp_path, expect_images=1)[0] == "0 images in the page, expected 1"


def test_browser_check_reports_a_page_that_never_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "TIMEOUT", 5)
    hung = tmp_path / "hung.html"
    hung.write_text("<html><head></head><body><script>while (true) {}</script></body></html>", encoding="utf-8")
    found = problems_of(hung, tmp_path)
    assert len(found) == 1 and "did not finish loading" in found[0] and "stopped after 5 s" in found[0], found
