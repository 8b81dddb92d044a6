"""The built book as a reader sees it: every page loaded in headless Chromium.

Run after `make book` (``make pages`` does both). Checks every page: images load, no raw TeX is left (MathJax is
served from the build), internal links and glossary references resolve, no JavaScript error reaches the console;
every chapter shows its scorecard and its exercises, and its verdicts stay readable in the theme's dark mode.
Screenshots of each chapter page, light and dark, are saved under ``_build/screenshots/`` for review.

Every check drives one Chromium per test process over the DevTools protocol (``--remote-debugging-pipe``,
:class:`Browser`, which needs no library beyond the standard one): a page is loaded once per check, typeset by
MathJax, and read back as its DOM, its console errors, its computed colours or a screenshot.
"""

import base64
import contextlib
import functools
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from lrlab import book

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"  # kept for review, not compared
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _pages() -> list[Path]:
    """Every page the table of contents lists, as built."""
    return [HTML / f"{f}.html" for f in book.toc_files(ROOT)]


@pytest.fixture(scope="module", autouse=True)
def _built():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    if not (HTML / "index.html").is_file():
        pytest.fail("the book is not built: run `make book` first")
    SHOTS.mkdir(parents=True, exist_ok=True)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.imgs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "img" and a.get("src"):
            self.imgs.append(a["src"])


@functools.cache
def _ids_of(page: Path) -> frozenset[str]:
    """The anchors of a built page, read once: the API page alone links to its own anchors thousands of times."""
    return frozenset(re.findall(r'\bid="([^"]+)"', page.read_text()))


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_page_renders_with_math_images_links_and_no_javascript_errors(browser, page):
    html, errors = browser.render(page)
    assert "<body" in html, f"{page} did not load"
    assert not errors, f"{page.relative_to(HTML)}: JavaScript errors in the console: {errors}"
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    text = re.sub(r"<mjx-container.*?</mjx-container>", "", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    assert not re.search(r"\\\(|\\\[|\$\$|\\frac|\\eta\b|\\mathrm", text), f"raw TeX left on {page.name}"
    if 'class="math' in page.read_text():
        assert "mjx-container" in html, f"MathJax did not typeset {page.name}"
    parser = _Links()
    parser.feed(html)
    for src in parser.imgs:
        if src.startswith("data:"):
            continue
        target = (page.parent / unquote(urlparse(src).path)).resolve()
        assert target.is_file() and target.stat().st_size > 0, f"{page.name}: image {src} does not load"
    for href in parser.hrefs:
        url = urlparse(href)
        if url.scheme in ("http", "https", "mailto", "javascript") or url.netloc:
            continue
        target = (page.parent / unquote(url.path)).resolve() if url.path else page
        assert target.exists(), f"{page.name}: broken internal link {href}"
        if url.fragment and target.suffix == ".html":
            assert url.fragment in _ids_of(target), f"{page.name}: missing anchor {href}"
    assert "undefined label" not in text.lower() and "??" not in text
    prose = re.sub(r"<(pre|code)[^>]*>.*?</\1>", "", html, flags=re.S)
    prose = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", prose, flags=re.S)
    prose = re.sub(r"<mjx-container.*?</mjx-container>", "", prose, flags=re.S)
    prose = re.sub(r"<[^>]+>", "\n", prose)
    raw = [m.group(0).strip() for m in re.finditer(
        r"\|\s*[-—–]{1,}\s*\||^[ \t]*\|[^\n]*\|[^\n]*\|[ \t]*$|\{(?:cite|term|numref|eq|glue|ref)(?::[a-z]+)?\}`|"
        r"(?<![\w$])\$[^$\s][^$\n]{0,80}\$(?![\w$])", prose, flags=re.M)]
    assert not raw, f"{page.name}: raw markdown left on the page: {raw[:3]}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_shows_scorecard_exercises_and_figures(browser, chapter):
    page = HTML / "chapters" / f"{chapter}.html"
    assert page.is_file(), f"{chapter} missing from the book"
    html, _ = browser.render(page, screenshot=SHOTS / f"{chapter}.png")
    assert "lrlab-scorecard" in html and html.count("lrlab-verdict") >= 3, "scorecard"
    assert html.count('class="admonition exercise') >= 3 or html.count("exercise") >= 3, "exercises"
    assert "solution" in html, "solutions"
    assert len(re.findall(r"<figure", html)) >= 2, "captioned figures"
    assert len(re.findall(r'<img[^>]+src="[^"]*_images/', html)) >= 2, "figures rendered as images"
    assert "&lt;Figure size" not in html, "a figure was rendered as its text repr"
    assert "Provenance" in html
    claims = html[html.find('id="claims-under-test"'):]
    assert re.search(r"<li>\s*<p>\s*<strong>C1</strong>", claims), "the claims list renders from the claim table"
    assert re.search(r'<table[^>]*>.*?commit.*?wall time', html[html.find('id="provenance"'):], re.S), (
        "the provenance record renders as a table")
    badge = html.find('class="lrlab-badge')
    assert badge != -1 and "lrlab-badge-icon" in html, "the run-time badge"
    assert badge < html.find('id="claims-under-test"'), "the badge sits under the introduction, above the claims"
    assert "lrlab.timings" not in html, "the badge's code cell is hidden (remove-input)"
    assert re.search(r"quick <b>[^<]+</b> · book <b>[^<]+</b>|not measured yet", html), "the badge shows the times"
    assert (SHOTS / f"{chapter}.png").stat().st_size > 10_000, "screenshot"


def _term_links(html: str) -> list[str]:
    return re.findall(r'<a[^>]+href="([^"]*glossary\.html#term-[^"]*)"', html)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_terms_link_to_glossary_entries(chapter):
    page = HTML / "chapters" / f"{chapter}.html"
    links = _term_links(page.read_text())
    assert len(set(links)) >= 4, f"{chapter}: key terms link to the glossary"
    glossary = HTML / "book" / "glossary.html"
    ids = _ids_of(glossary)
    for href in links:
        url = urlparse(href)
        assert (page.parent / unquote(url.path)).resolve() == glossary.resolve(), href
        assert url.fragment in ids, f"{chapter}: glossary anchor {url.fragment} missing"


def test_every_glossary_reference_in_the_book_resolves():
    glossary = HTML / "book" / "glossary.html"
    ids = _ids_of(glossary)
    for page in _pages():
        for href in _term_links(page.read_text()):
            assert urlparse(href).fragment in ids, f"{page.name}: {href} has no glossary entry"


def test_teaching_page_renders_runtimes_and_experiments(browser):
    page = HTML / "book" / "teaching.html"
    assert page.is_file(), "book/teaching is not in the built book"
    html, _ = browser.render(page)
    assert "<table" in html, "the run-time table"
    text = re.sub(r"<[^>]+>", "", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
    text = " ".join(text.split())
    for chapter in CHAPTERS:
        assert f"lrlab run {chapter}" in text, f"teaching page: no in-class experiment for {chapter}"
        assert f"chapters/{chapter}.html" in html, f"teaching page: no link to {chapter}"
        assert re.search(rf"{chapter}\s+(not measured|[0-9])", text), f"teaching page: no run time for {chapter}"
    assert "learning goals" in text
    assert "Traceback" not in text, "a cell of the teaching page failed"


# ---- the DevTools protocol: console errors, dark mode, computed colours -------------------------------------------


class Browser:
    """One headless Chromium driven over ``--remote-debugging-pipe``: JSON messages ended by NUL, our commands on
    its file descriptor 3, its answers and events on 4."""

    def __init__(self):
        self.profile = tempfile.TemporaryDirectory()
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{out_w}', CHROMIUM, *FLAGS, "--remote-debugging-pipe",
             f"--user-data-dir={self.profile.name}", "about:blank"],
            pass_fds=(cmd_r, out_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self.cmd, self.out = cmd_w, out_r
        self.buffer, self.last_id, self.events = b"", 0, []

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            if select.select([self.out], [], [], left)[0]:
                chunk = os.read(self.out, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed its DevTools pipe")
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.cmd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self.last_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._message(deadline))

    def open(self, url: str, dark: bool = False, width: int = 1280, height: int = 2400) -> "Tab":
        """A new tab showing ``url`` once loaded and typeset; ``dark``: the theme's dark mode (the reader's
        saved choice, ``localStorage.mode``, and the system's ``prefers-color-scheme``)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        mode = "dark" if dark else "light"
        self.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": mode}]},
                  session)
        self.send("Page.addScriptToEvaluateOnNewDocument",
                  {"source": f"try {{ localStorage.setItem('mode', '{mode}'); }} catch (e) {{}}"}, session)
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        tab = Tab(self, target, session)
        tab.evaluate("(async () => { const m = window.MathJax && window.MathJax.startup;"
                     " if (m && m.promise) { await m.promise; }"
                     " await new Promise(r => setTimeout(r, 300)); })()")
        return tab

    def render(self, page: Path, screenshot: Path | None = None) -> tuple[str, list[str]]:
        """``page`` as a reader's browser leaves it, loaded and typeset: its DOM and its console errors, and, where
        ``screenshot`` names a file, the top of the page saved there."""
        tab = self.open(page.as_uri())
        try:
            html = tab.evaluate("document.documentElement.outerHTML")
            if screenshot is not None:
                tab.screenshot(screenshot)
            return html, tab.errors()
        finally:
            tab.close()

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd)
        os.close(self.out)
        self.profile.cleanup()


class Tab:
    def __init__(self, browser: Browser, target: str, session: str):
        self.browser, self.target, self.session = browser, target, session

    def evaluate(self, expression: str):
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                        "returnByValue": True}, self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}…: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """What reached the console as an error: uncaught exceptions, ``console.error``/``console.assert``, and
        the browser's own errors (a script, image or stylesheet that failed to load)."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = params["exceptionDetails"]
                text = (d.get("exception") or {}).get("description") or d.get("text", "")
                found.append(f"{text.splitlines()[0] if text else 'exception'} "
                             f"({d.get('url', '')}:{d.get('lineNumber', 0) + 1})")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                found.append(f"console.{params['type']}: {args}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                found.append(f"{entry.get('text', '')} ({entry.get('url', '')})")
        return found

    def screenshot(self, path: Path, top: float = 0, width: int = 1280, height: int = 2400) -> None:
        shot = self.browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": max(0.0, top), "width": width, "height": height, "scale": 1}}, self.session)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
        self.browser.events = [e for e in self.browser.events if e.get("sessionId") != self.session]


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def test_the_console_check_catches_errors(browser, tmp_path):
    """The check below would see a broken page: an uncaught exception, console.error, a script that is missing."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><html><head><title>bad</title></head><body><p>text</p>"
                    "<script>console.log('fine')</script><script>throw new Error('injected')</script>"
                    "<script>console.error('also injected')</script><script src='missing.js'></script></body></html>")
    tab = browser.open(page.as_uri())
    errors = tab.errors()
    tab.close()
    assert len(errors) == 3, errors  # in any order: the missing script may be reported first
    assert any("Error: injected" in e and "bad.html:1" in e for e in errors), errors
    assert "console.error: also injected" in errors
    assert any("missing.js" in e and "ERR_FILE_NOT_FOUND" in e for e in errors), errors
    good = tmp_path / "good.html"
    good.write_text("<!doctype html><html><body><script>console.log('fine'); console.warn('a warning')</script>")
    tab = browser.open(good.as_uri())
    assert tab.errors() == [], "a log or a warning is not an error"
    tab.close()


_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def _rgba(css: str) -> tuple[float, float, float, float]:
    m = _RGB.fullmatch(css.strip())
    assert m, f"a colour the test cannot read: {css!r}"
    alpha = m.group(4) or "1"
    a = float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha)
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), a


def _over(top: tuple, below: tuple) -> tuple:
    """``top`` composited over the opaque colour ``below``."""
    a = top[3]
    return tuple(top[i] * a + below[i] * (1 - a) for i in range(3)) + (1.0,)


def _luminance(rgb: tuple) -> float:
    """WCAG 2 relative luminance of an sRGB colour with channels in 0–255."""
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple, b: tuple) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_ratio_is_wcags():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert _over((255, 0, 0, 0.5), (0, 0, 255, 1)) == (127.5, 0, 127.5, 1.0)


VERDICT_COLOURS_JS = """
[...document.querySelectorAll('.lrlab-verdict')].map(el => {
  const layers = [];
  for (let n = el; n; n = n.parentElement) { layers.push(getComputedStyle(n).backgroundColor); }
  return {text: el.textContent.trim(), color: getComputedStyle(el).color, backgrounds: layers};
})
"""


def verdict_contrasts(tab: Tab) -> list[tuple[str, float, str, str]]:
    """(verdict, contrast ratio, text colour, background) of every verdict on the page, as the browser computes
    them: the text colour after every style sheet, the background composited from the verdict up to the page."""
    out = []
    for v in tab.evaluate(VERDICT_COLOURS_JS):
        bg = (255.0, 255.0, 255.0, 1.0)  # the canvas under everything
        for layer in reversed(v["backgrounds"]):
            bg = _over(_rgba(layer), bg)
        fg = _rgba(v["color"])
        out.append((v["text"], contrast(_over(fg, bg), bg), v["color"], "rgb({:.0f}, {:.0f}, {:.0f})".format(*bg[:3])))
    return out


@pytest.mark.parametrize("mode", ["dark", "light"])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_verdicts_are_readable_in_light_and_dark_mode(browser, chapter, mode):
    """Every verdict's colour against the page behind it: a contrast ratio of at least 3 (WCAG's minimum for
    large or bold text; the verdicts are bold). A screenshot of the scorecard in dark mode is kept for review."""
    page = HTML / "chapters" / f"{chapter}.html"
    tab = browser.open(page.as_uri(), dark=mode == "dark")
    try:
        assert tab.evaluate("document.documentElement.dataset.theme") == mode, f"the theme is not in {mode} mode"
        found = verdict_contrasts(tab)
        assert len(found) >= 3, f"{chapter}: the scorecard shows its verdicts"
        low = [f for f in found if f[1] < 3]
        assert not low, f"{chapter}, {mode} mode: verdicts hard to read (verdict, ratio, colour, background): {low}"
        if mode == "dark":
            top = tab.evaluate("(() => { const t = document.querySelector('.lrlab-scorecard');"
                               " return t ? t.getBoundingClientRect().top + window.scrollY - 600 : 0; })()")
            tab.screenshot(SHOTS / f"{chapter}-dark.png", top=top)
            assert (SHOTS / f"{chapter}-dark.png").stat().st_size > 10_000, "dark screenshot"
    finally:
        tab.close()
