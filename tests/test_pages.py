"""The built book as a reader sees it: every page loaded in headless Chromium.

Run after `make book` (``make pages`` does both). Checks every page: images load, no raw TeX is left (MathJax is
served from the build), internal links and glossary references resolve; every chapter shows its scorecard and its
exercises. A screenshot of each chapter page is saved under ``_build/screenshots/`` for review.
"""

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from lrlab import book

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
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


def _chromium(*args: str, timeout: int = 60) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout)
    return proc.stdout


def dom(page: Path) -> str:
    """The page's DOM after its scripts ran (MathJax typesets before the dump)."""
    return _chromium("--virtual-time-budget=8000", "--dump-dom", page.as_uri())


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


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_page_renders_with_math_images_and_links(page):
    html = dom(page)
    assert "<body" in html, f"{page} did not load"
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
            assert url.fragment in _ids(target.read_text()), f"{page.name}: missing anchor {href}"
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
def test_chapter_shows_scorecard_exercises_and_figures(chapter):
    page = HTML / "chapters" / f"{chapter}.html"
    assert page.is_file(), f"{chapter} missing from the book"
    html = dom(page)
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
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    _chromium("--virtual-time-budget=8000", "--window-size=1280,2400", f"--screenshot={shots / chapter}.png",
              page.as_uri())
    assert (shots / f"{chapter}.png").stat().st_size > 10_000, "screenshot"


def _term_links(html: str) -> list[str]:
    return re.findall(r'<a[^>]+href="([^"]*glossary\.html#term-[^"]*)"', html)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_terms_link_to_glossary_entries(chapter):
    page = HTML / "chapters" / f"{chapter}.html"
    links = _term_links(page.read_text())
    assert len(set(links)) >= 4, f"{chapter}: key terms link to the glossary"
    glossary = HTML / "book" / "glossary.html"
    ids = _ids(glossary.read_text())
    for href in links:
        url = urlparse(href)
        assert (page.parent / unquote(url.path)).resolve() == glossary.resolve(), href
        assert url.fragment in ids, f"{chapter}: glossary anchor {url.fragment} missing"


def test_every_glossary_reference_in_the_book_resolves():
    glossary = HTML / "book" / "glossary.html"
    ids = _ids(glossary.read_text())
    for page in _pages():
        for href in _term_links(page.read_text()):
            assert urlparse(href).fragment in ids, f"{page.name}: {href} has no glossary entry"


def test_teaching_page_renders_runtimes_and_experiments():
    page = HTML / "book" / "teaching.html"
    assert page.is_file(), "book/teaching is not in the built book"
    html = dom(page)
    assert "<table" in html, "the run-time table"
    text = re.sub(r"<[^>]+>", "", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
    text = " ".join(text.split())
    for chapter in CHAPTERS:
        assert f"lrlab run {chapter}" in text, f"teaching page: no in-class experiment for {chapter}"
        assert f"chapters/{chapter}.html" in html, f"teaching page: no link to {chapter}"
        assert re.search(rf"{chapter}\s+(not measured|[0-9])", text), f"teaching page: no run time for {chapter}"
    assert "learning goals" in text
    assert "Traceback" not in text, "a cell of the teaching page failed"
