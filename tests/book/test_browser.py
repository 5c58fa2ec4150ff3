"""The built HTML book in headless Chromium: pages, console, images, links, MathJax, Colab badges, search.

The book (fixture ``book`` in conftest.py, built once per session, or reused from
``SPECBOOK_BUILT_BOOK``) is served over a local HTTP server and opened with selenium in the
Debian packages ``chromium`` and ``chromium-driver``. Without them the tests are skipped.

Screenshots of a few pages go to ``test-artifacts/screenshots/`` at the repository root, or to
``$SPECBOOK_ARTIFACTS/screenshots/`` when that variable is set.

The machine that runs the tests may be offline: a resource on another host that fails to load
is not a failure here (the end of the report lists those the book asks for); whatever the book
needs from such a host must still work, and the MathJax test fails when the formulas are not
rendered, wherever MathJax was meant to come from.
"""
import functools
import html.parser
import importlib.util
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PACKAGES = "chromium chromium-driver"
CHROME_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
    "--window-size=1280,1000", "--hide-scrollbars", "--disable-dev-shm-usage",
]
THEOREM_PAGE = "notebooks/02_band_ci_theorem1.html"
CHAPTER = re.compile(r"notebooks/(\d\d[a-z]?_[^/]+)\.html")
FAVICON = "/favicon.ico"
FULL_PAGE_MAX_HEIGHT = 12000  # pixels
PAGE_TIMEOUT = 30  # seconds, for a page, its images, MathJax and search results


def _find(*names):
    return next((found for name in names if (found := shutil.which(name))), None)


CHROMIUM = _find("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = _find("chromedriver")
_MISSING = [name for name, path in [("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)] if not path]

# Checked before any fixture runs, so that a missing browser does not cost a book build first.
pytestmark = [
    pytest.mark.xdist_group("book"),  # the same worker as test_book.py, so the book is built once
    pytest.mark.slow,
    pytest.mark.skipif(bool(_MISSING), reason=f"{' and '.join(_MISSING)} not on PATH: install the Debian packages "
                       f"{DEBIAN_PACKAGES} (apt-get install -y --no-install-recommends {DEBIAN_PACKAGES})"),
    pytest.mark.skipif(importlib.util.find_spec("selenium") is None,
                       reason="selenium is not installed (pip install -e '.[dev]')"),
]

# Installed before any script of every page: remembers the URL of each resource that failed to load.
RECORD_FAILED_LOADS = """
window.__failedLoads = [];
window.addEventListener('error', function (event) {
  var target = event.target;
  if (target && target !== window && (target.src || target.href)) {
    window.__failedLoads.push(target.src || target.href);
  }
}, true);
"""

# MathJax 3 is ready when its startup promise resolves; it never comes when its script does not load.
WAIT_FOR_MATHJAX = """
var done = arguments[arguments.length - 1];
var seconds = arguments[0];
var deadline = Date.now() + seconds * 1000;
var script = Array.from(document.scripts).find(function (s) { return /mathjax/i.test(s.src); });
function failed() {
  return script && (window.__failedLoads || []).indexOf(script.src) >= 0;
}
(function poll() {
  var mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(function () { done({state: 'ready', src: script ? script.src : null}); },
                            function (e) { done({state: 'startup failed: ' + e, src: script ? script.src : null}); });
  } else if (!script && !(mj && mj.startup)) {
    done({state: 'no MathJax script on the page', src: null});
  } else if (failed()) {
    done({state: 'its script did not load', src: script.src});
  } else if (Date.now() > deadline) {
    done({state: 'not started after ' + seconds + ' s', src: script ? script.src : null});
  } else {
    setTimeout(poll, 100);
  }
})();
"""


class _Handler(SimpleHTTPRequestHandler):
    """Serves the book's folder and remembers the status of every response."""

    def log_request(self, code="-", size="-"):
        self.server.responses.append((self.command, urllib.parse.unquote(self.path), int(code)))

    def log_message(self, format, *args):  # no noise on stderr
        pass


@pytest.fixture(scope="module")
def site(book):
    """Base URL of the book on a local HTTP server; ``site.responses`` lists (method, path, status)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(book)))
    server.daemon_threads = True
    server.responses = []
    thread = threading.Thread(target=server.serve_forever, name="book-http", daemon=True)
    thread.start()
    host, port = server.server_address[:2]

    class Site:
        url = f"http://{host}:{port}/"
        netloc = f"{host}:{port}"
        root = book
        responses = server.responses

    yield Site
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(report_lines):
    """Headless Chromium driven by chromedriver, both from PATH; the time it ran goes to the report."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    start = time.perf_counter()
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(PAGE_TIMEOUT)
        driver.set_script_timeout(PAGE_TIMEOUT + 5)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_FAILED_LOADS})
        driver.pages_opened = 0
        yield driver
    finally:
        version = driver.capabilities.get("browserVersion", "?")
        pages = driver.pages_opened
        driver.quit()
        report_lines.append(f"browser part: {time.perf_counter() - start:.1f} s in Chromium {version} "
                            f"({pages} page loads)")


@pytest.fixture(scope="module")
def offline(report_lines):
    """External URLs the book asked for that did not load (offline), by URL: the pages that asked."""
    found = {}
    yield found
    for url, pages in sorted(found.items()):
        report_lines.append(f"external resource that did not load (not counted as a failure): {url} "
                            f"(asked for by {len(pages)} page(s), e.g. {sorted(pages)[0]})")


@pytest.fixture(scope="module")
def screenshots(report_lines):
    """Saves a screenshot: ``screenshots(browser, name)`` of the window, ``full=True`` of the whole page.

    A whole page is cut at ``FULL_PAGE_MAX_HEIGHT`` pixels.
    """
    folder = Path(os.environ.get("SPECBOOK_ARTIFACTS") or ROOT / "test-artifacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []

    def save(driver, name, full=False):
        path = folder / f"{name}.png"
        if full:  # a window as tall as the page, for one shot
            window = driver.get_window_size()
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(window["width"], min(height + 200, FULL_PAGE_MAX_HEIGHT))
            try:
                driver.save_screenshot(str(path))
            finally:
                driver.set_window_size(window["width"], window["height"])
        else:
            driver.save_screenshot(str(path))
        saved.append(path.name)

    yield save
    if saved:
        report_lines.append(f"screenshots in {folder}: {', '.join(saved)}")


def pages_of(book: Path):
    """Every HTML page of the book but the generated index, the search page and the theme's files."""
    pages = []
    for path in sorted(book.rglob("*.html")):
        relative = path.relative_to(book).as_posix()
        if (relative in ("genindex.html", "search.html")
                or any(part.startswith("_") for part in path.relative_to(book).parts)):
            continue
        pages.append(relative)
    return pages


def chapter_pages(book: Path):
    return [page for page in pages_of(book) if CHAPTER.fullmatch(page)]


def open_page(driver, site, page):
    """Loads ``page`` (relative to the book's root) and waits for the document and its images."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(site.url + page)
    driver.pages_opened += 1
    wait = WebDriverWait(driver, PAGE_TIMEOUT)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    if driver.execute_script("return !!document.querySelector('meta[http-equiv=refresh i]')"):  # index.html
        wait.until(lambda d: d.current_url != site.url + page
                   and d.execute_script("return document.readyState") == "complete")
    # lazy images load only near the viewport: ask for all of them now
    driver.execute_script("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    wait.until(lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)"))


def is_local(url, site):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == site.netloc


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.anchors.add(value)


@functools.lru_cache(maxsize=None)
def anchors_in(path: Path):
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.anchors)


def http_status(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_every_page_loads_without_console_errors_broken_images_or_broken_links(
        book, site, browser, offline, screenshots, report_lines):
    pages = pages_of(book)
    assert "index.html" in pages and THEOREM_PAGE in pages and len(pages) >= 10, pages
    problems = []
    checked_links = {}  # URL without its fragment -> HTTP status
    links = anchors = images = 0
    for page in pages:
        open_page(browser, site, page)
        here = browser.current_url  # index.html redirects to the first page
        # the console: nothing SEVERE but resources on other hosts (offline machine)
        failed_loads = browser.execute_script("return window.__failedLoads || []")
        for entry in browser.get_log("browser"):
            if entry["level"] != "SEVERE":
                continue
            url = entry["message"].split(" ", 1)[0]
            if entry.get("source") == "network" and url.startswith("http") and not is_local(url, site):
                offline.setdefault(url, set()).add(page)
                continue
            if entry.get("source") == "network" and is_local(url, site) and urllib.parse.urlsplit(url).path == FAVICON:
                continue  # Chromium's own request, not the book's (see below)
            problems.append(f"{page}: console: {entry['message']}")
        for url in failed_loads:
            if not is_local(url, site):
                offline.setdefault(url, set()).add(page)
        # images: loaded, and not empty
        for src, complete, width in browser.execute_script(
                "return Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth])"):
            if not is_local(src, site) and not src.startswith("data:"):
                if not (complete and width > 0):
                    offline.setdefault(src, set()).add(page)
                continue
            images += 1
            if not (complete and width > 0):
                problems.append(f"{page}: image does not load: {src}")
        # links within the book: to an existing page, and to an existing anchor
        for raw, url in browser.execute_script(
                "return Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href])"):
            if not is_local(url, site):
                continue
            links += 1
            target, _, fragment = url.partition("#")
            if target not in checked_links:
                checked_links[target] = http_status(target)
            if checked_links[target] != 200:
                problems.append(f"{page}: link {raw!r} -> HTTP {checked_links[target]}")
                continue
            fragment = urllib.parse.unquote(fragment)
            if not fragment:
                continue
            anchors += 1
            if target == here.partition("#")[0]:
                found = browser.execute_script(
                    "return !!(document.getElementById(arguments[0]) "
                    "|| document.getElementsByName(arguments[0]).length)",
                    fragment)
            else:
                path = urllib.parse.unquote(urllib.parse.urlsplit(target).path).lstrip("/")
                file = book / path
                if file.is_dir():
                    file = file / "index.html"
                found = file.suffix != ".html" or fragment in anchors_in(file)
            if not found:
                problems.append(f"{page}: link {raw!r}: no anchor #{fragment} there")
        if page == "index.html":
            screenshots(browser, "index")
        elif page == "notebooks/09_pixels_to_tasks.html":
            screenshots(browser, "09_pixels_to_tasks", full=True)  # with its figures
    # and nothing the pages asked our server for was missing (stylesheets, scripts, fonts, images);
    # Chromium asks for /favicon.ico by itself when a page names no icon: not the book's request
    missing = [(method, path, status) for method, path, status in site.responses if status >= 400]
    if any(path == FAVICON for _, path, _ in missing):
        report_lines.append(f"Chromium asked for {FAVICON}, which the book does not have (not counted as a failure; "
                            "html.favicon in _config.yml would give it one)")
    problems += [f"HTTP {status} for {method} {path}" for method, path, status in missing if path != FAVICON]
    report_lines.append(f"checked {len(pages)} pages: {images} images, {links} links within the book "
                        f"({len(checked_links)} distinct targets, {anchors} to an anchor)")
    assert not problems, f"{len(problems)} problem(s) in {len(pages)} pages:\n" + "\n".join(dict.fromkeys(problems))


def test_mathjax_renders_the_theorem(site, browser, screenshots):
    open_page(browser, site, THEOREM_PAGE)
    theorems = browser.find_elements("css selector", "div.proof.theorem")
    assert theorems, f"no theorem box (div.proof.theorem) on {THEOREM_PAGE}"
    mathjax = browser.execute_async_script(WAIT_FOR_MATHJAX, PAGE_TIMEOUT)
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", theorems[0])
    screenshots(browser, "02_band_ci_theorem1_theorem")
    assert mathjax["state"] == "ready", (
        f"MathJax did not start on {THEOREM_PAGE}: {mathjax['state']} (script: {mathjax['src']}); "
        "on an offline machine MathJax must be served with the book, not from a CDN")
    rendered = theorems[0].find_elements("css selector", "mjx-container")
    assert rendered, f"MathJax started but rendered nothing in the theorem box of {THEOREM_PAGE}"
    errors = browser.execute_script(
        "return Array.from(document.querySelectorAll('mjx-merror'))"
        ".map(e => e.getAttribute('data-mjx-error') || e.textContent)")
    assert not errors, f"TeX errors on {THEOREM_PAGE}: {errors}"


def test_every_chapter_has_one_colab_badge_for_its_notebook(book, site, browser):
    from specbook.harness import colab

    repository = re.fullmatch(r"(?:git\+)?https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", colab.REPOSITORY)
    assert repository, f"specbook.harness.colab.REPOSITORY is not a GitHub repository: {colab.REPOSITORY}"
    owner, name = repository.groups()
    pattern = re.compile(re.escape(f"https://colab.research.google.com/github/{owner}/{name}/blob/{colab.REVISION}/notebooks/")
                         + r"(?P<stem>[^/]+)\.ipynb")
    chapters = chapter_pages(book)
    assert len(chapters) >= 10, chapters
    problems = []
    for page in chapters:
        stem = CHAPTER.fullmatch(page).group(1)
        open_page(browser, site, page)
        badges = browser.execute_script("""
            return Array.from(document.querySelectorAll('a.colab-badge')).map(a => {
              const img = a.querySelector('img');
              return {href: a.getAttribute('href'), img: img && {src: img.getAttribute('src'), url: img.src,
                      alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0}};
            })""")
        if len(badges) != 1:
            problems.append(f"{page}: {len(badges)} Colab badges (a.colab-badge), expected 1")
            continue
        badge = badges[0]
        match = pattern.fullmatch(badge["href"] or "")
        if not match:
            problems.append(f"{page}: badge links to {badge['href']!r}, expected {pattern.pattern}")
        elif match["stem"] != stem:
            problems.append(f"{page}: badge opens {match['stem']}.ipynb, not {stem}.ipynb")
        if not (ROOT / "notebooks" / f"{stem}.ipynb").is_file():
            problems.append(f"{page}: notebooks/{stem}.ipynb is not in the repository")
        image = badge["img"]
        if not image:
            problems.append(f"{page}: the badge has no <img>")
            continue
        if (not image["src"] or re.match(r"[a-z]+:|/", image["src"])
                or image["url"] != site.url + "_static/colab-badge.svg"):
            problems.append(f"{page}: badge image {image['src']!r} is not a relative link to _static/colab-badge.svg")
        if image["alt"] != "Open In Colab":
            problems.append(f"{page}: badge image has alt {image['alt']!r}, expected 'Open In Colab'")
        if not image["loaded"]:
            problems.append(f"{page}: badge image {image['src']!r} does not load")
    assert not problems, "\n".join(problems)


def test_search_finds_a_chapter(site, browser, screenshots):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, site, "search.html?q=collider")
    results = []

    def chapter_results(driver):
        results[:] = driver.execute_script(
            "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href)")
        return any(CHAPTER.search(urllib.parse.urlsplit(url).path) for url in results)

    try:
        WebDriverWait(browser, PAGE_TIMEOUT).until(chapter_results)
    except TimeoutException:
        summary = browser.execute_script(
            "const r = document.getElementById('search-results'); "
            "return r ? r.innerText.slice(0, 300) : 'no #search-results'")
        pytest.fail(f"searching 'collider' listed no chapter page within {PAGE_TIMEOUT} s: {results[:5]} ({summary!r})")
    finally:
        screenshots(browser, "search_collider")
