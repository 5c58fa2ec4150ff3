"""The book as a PDF: the staged sources of :mod:`specbook.harness.book` as one HTML page (Sphinx's
``singlehtml``), printed by headless Chromium over the DevTools protocol.

``make pdf`` (``python -m specbook pdf``) uses the run and the staged sources of ``make book``:
after a book build nothing is executed again. Nothing is downloaded: MathJax is served with the
book, and the Chromium is the system's (Debian package ``chromium``).
"""
from __future__ import annotations

import base64
import fcntl
import functools
import json
import os
import re
import select
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from .book import BuildResult, _jupyter_book, _run_and_stage

__all__ = ["PdfBuild", "build_pdf", "count_pdf_pages", "find_chromium"]


#: Where :func:`build_pdf` writes the PDF, inside the build folder.
PDF_NAME = Path("pdf") / "specbook.pdf"
#: Executables tried for Chromium, in order (Debian's package ``chromium`` installs the first).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_MISSING = ("Chromium was not found on PATH (tried: {names}); the PDF is printed by headless Chromium: "
                    "install the Debian package chromium (apt-get install -y --no-install-recommends chromium), "
                    "or set SPECBOOK_CHROMIUM to a Chromium or Chrome executable")
#: Seconds allowed to load the page, to typeset its mathematics and load its images, and to print it.
PDF_TIMEOUTS = {"load": 180, "prepare": 600, "print": 900}
#: Paper (A4, inches) and margins of the PDF; every page has "page / pages" at its foot.
PDF_PAGE = {"paperWidth": 8.27, "paperHeight": 11.69, "marginTop": 0.6, "marginBottom": 0.7,
            "marginLeft": 0.6, "marginRight": 0.6}
_FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
           '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')

# Run in the page before printing: every chapter on a new page, collapsed cells and solutions open,
# code wrapped instead of cut at the margin, every image loaded, and MathJax done typesetting.
_PREPARE_FOR_PRINT = r"""
(async (seconds) => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.headerlink').forEach(a => a.remove());
  document.querySelectorAll('span[id^="document-"]').forEach(s => {
    let next = s.nextElementSibling;
    while (next && next.tagName === 'SPAN') next = next.nextElementSibling;
    if (next) next.style.breakBefore = 'page';
  });
  const style = document.createElement('style');
  style.textContent = '@media print { pre { white-space: pre-wrap !important; overflow-wrap: anywhere; } }';
  document.head.appendChild(style);
  document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; });
  const timeout = new Promise(r => setTimeout(() => r('timeout'), seconds * 1000));
  const images = Promise.all(Array.from(document.images).map(
    i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  if (await Promise.race([images, timeout]) === 'timeout') return {state: 'images did not load in ' + seconds + ' s'};
  const mj = window.MathJax;
  const wanted = Array.from(document.scripts).some(s => /mathjax/i.test(s.src));
  let state = wanted ? 'its script did not load or did not start' : 'no MathJax on the page';
  if (mj && mj.startup && mj.startup.promise) {
    state = await Promise.race([
      mj.startup.promise.then(() => 'ready', e => 'failed: ' + e),  // resolves once the page is typeset
      timeout.then(() => 'not done after ' + seconds + ' s')]);
  }
  return {state: state, page: location.pathname,
          math: document.querySelectorAll('mjx-container').length,
          math_errors: document.querySelectorAll('mjx-merror').length,
          images: document.images.length,
          broken_images: Array.from(document.images).filter(i => !i.naturalWidth).map(i => i.src)};
})
"""


@dataclass(kw_only=True)
class PdfBuild(BuildResult):
    """What :func:`build_pdf` did: the attributes of :class:`~specbook.harness.book.BuildResult`
    (``log`` is jupyter-book's output, then what the printing step found; ``returncode`` is also 1 when
    printing failed: MathJax not done, an image that did not load, Chromium's error) and

    Attributes
    ----------
    pdf : Path
        The PDF (``<out>/pdf/specbook.pdf``); written (or replaced) only when the build succeeds.
    pages : int
        Pages of the PDF (0 when none was written).
    """

    pdf: Path
    pages: int = 0


def find_chromium() -> str:
    """The Chromium executable that prints the PDF: ``$SPECBOOK_CHROMIUM``, else the first of
    :data:`CHROMIUM_NAMES` on PATH. Raises FileNotFoundError, saying what to install, when there is none."""
    chosen = os.environ.get("SPECBOOK_CHROMIUM")
    if chosen:
        found = shutil.which(chosen)
        if not found:
            raise FileNotFoundError(f"SPECBOOK_CHROMIUM={chosen}: no such executable")
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(CHROMIUM_MISSING.format(names=", ".join(CHROMIUM_NAMES)))


def build_pdf(root=".", out="_build", *, profile="book", seed=0, jobs=None, progress=True) -> PdfBuild:
    """Execute what changed (the run :func:`specbook.harness.book.build_book` uses) and print the book to
    ``<out>/pdf/specbook.pdf``.

    Steps 1 to 3 are those of :func:`specbook.harness.book.build_book` (same run folder ``<out>/run``, same staged
    sources ``<out>/source``; after ``make book`` nothing is executed again). Then jupyter-book
    renders the staged sources as a single HTML page (Sphinx's ``singlehtml`` builder, in
    ``<out>/jb-pdf``), and headless Chromium, driven over the DevTools protocol through a pipe,
    opens it from a local HTTP server, opens every collapsed cell and solution, waits for the
    images and for MathJax (served with the book) to finish, and prints it to PDF with an outline
    (bookmarks) of the chapters and sections. The printed table of contents is the book's own,
    on the first page. Nothing is downloaded.

    Parameters
    ----------
    out : str or Path, default="_build"
        The build folder: ``run/``, ``source/``, ``jb-pdf/`` and ``pdf/`` go there.
    root, profile, seed, jobs, progress
        As for :func:`specbook.harness.book.build_book`.

    Returns
    -------
    PdfBuild

    Raises
    ------
    FileNotFoundError
        Chromium is not installed (before anything is executed).
    """
    chromium = find_chromium()
    root, out = Path(root).resolve(), Path(out).resolve()
    pdf = out / PDF_NAME
    run, source = _run_and_stage(root, out, profile=profile, seed=seed, jobs=jobs, progress=progress)
    if source is None:
        return PdfBuild(run=run, pdf=pdf, returncode=1)
    output = out / "jb-pdf"
    config = output / "_config.yml"
    _write_if_changed(config, _pdf_config(source / "_config.yml"))
    done = _jupyter_book(source, output, "singlehtml", "--config", str(config))
    log = done.stdout + done.stderr
    if done.returncode != 0:
        return PdfBuild(run=run, pdf=pdf, returncode=done.returncode, log=log)
    site = output / "_build" / "singlehtml"
    # Sphinx writes the one page as <root document>.html, with every link relative to the site's root.
    root_doc = yaml.safe_load((source / "_toc.yml").read_text())["root"]
    page = site / "specbook-print.html"
    page.write_bytes((site / f"{root_doc}.html").read_bytes())
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_suffix(".pdf.part")
    try:
        found = _print_to_pdf(chromium, site, page.name, partial)
    except (RuntimeError, TimeoutError, OSError) as exc:
        partial.unlink(missing_ok=True)
        return PdfBuild(run=run, pdf=pdf, returncode=1, log=f"{log}\nerror: printing the book failed: {exc}")
    problems = _print_problems(found)
    if problems:
        partial.unlink(missing_ok=True)
        return PdfBuild(run=run, pdf=pdf, returncode=1,
                        log=f"{log}\nerror: the page was not ready to print: {problems}")
    partial.replace(pdf)
    pages = count_pdf_pages(pdf)
    summary = (f"printed {page.name} with {Path(chromium).name}: {found['math']} formulas typeset by MathJax, "
               f"{found['images']} images; {pages} pages in {pdf}")
    return PdfBuild(run=run, pdf=pdf, returncode=0, pages=pages, log=f"{log}\n{summary}")


def count_pdf_pages(path) -> int:
    """Pages of a PDF as Chromium writes it (each page object is written out, uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", Path(path).read_bytes()))


def _write_if_changed(path: Path, text: str) -> None:
    if not (path.is_file() and path.read_text() == text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _pdf_config(staged: Path) -> str:
    """The staged configuration, plus this module as a Sphinx extension (see :func:`setup`)."""
    settings = yaml.safe_load(staged.read_text())
    extensions = settings.setdefault("sphinx", {}).setdefault("extra_extensions", [])
    if __name__ not in extensions:
        extensions.append(__name__)
    return yaml.safe_dump(settings, sort_keys=False)


def _print_problems(found: dict) -> str:
    problems = []
    if found.get("state") not in ("ready", "no MathJax on the page"):
        problems.append(f"MathJax: {found.get('state')}")
    if found.get("math_errors"):
        problems.append(f"{found['math_errors']} formula(s) MathJax could not typeset")
    if found.get("broken_images"):
        problems.append(f"{len(found['broken_images'])} image(s) did not load, e.g. {found['broken_images'][0]}")
    return "; ".join(problems)


def setup(app):
    """Sphinx extension used by the PDF build only (``singlehtml``): the proof boxes render there too.

    sphinx-proof registers its HTML renderers for the builder ``html``; Sphinx falls back to them
    for ``singlehtml`` only when no extension registered anything under that name, and
    sphinx-exercise does. Every ``html`` renderer that ``singlehtml`` lacks is copied over once all
    extensions are loaded.
    """
    def fill(app):
        handlers = app.registry.translation_handlers
        single = handlers.setdefault("singlehtml", {})
        for name, pair in handlers.get("html", {}).items():
            single.setdefault(name, pair)

    app.connect("builder-inited", fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # no noise on stderr
        pass


def _print_to_pdf(chromium: str, site: Path, page: str, pdf: Path) -> dict:
    """Print ``site/page``, served over HTTP on 127.0.0.1, to `pdf`; returns what the page reported."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    server.daemon_threads = True
    try:
        with _Chromium(chromium) as browser:
            thread = threading.Thread(target=server.serve_forever, name="specbook-pdf-http", daemon=True)
            thread.start()
            try:
                target = browser.call("Target.createTarget", url="about:blank")["targetId"]
                session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
                browser.call("Page.enable", session=session)
                browser.forget_events()  # about:blank's
                browser.call("Page.navigate", session=session, url=f"http://127.0.0.1:{server.server_address[1]}/{page}")
                browser.wait_for("Page.loadEventFired", PDF_TIMEOUTS["load"])
                seconds = PDF_TIMEOUTS["prepare"]
                found = browser.call("Runtime.evaluate", session=session, timeout=seconds + 30,
                                     expression=f"({_PREPARE_FOR_PRINT})({seconds})",
                                     awaitPromise=True, returnByValue=True)
                if "exceptionDetails" in found:
                    raise RuntimeError(f"preparing the page failed: {found['exceptionDetails']}")
                found = found["result"]["value"]
                if not found["page"].endswith(f"/{page}"):
                    raise RuntimeError(f"Chromium shows {found['page']}, not {page}")
                if _print_problems(found):
                    return found
                printed = browser.call("Page.printToPDF", session=session, timeout=PDF_TIMEOUTS["print"],
                                       printBackground=True, generateDocumentOutline=True,
                                       displayHeaderFooter=True, headerTemplate="<span></span>",
                                       footerTemplate=_FOOTER, **PDF_PAGE)
                pdf.write_bytes(base64.b64decode(printed["data"]))
                return found
            finally:
                server.shutdown()
    finally:
        server.server_close()


class _Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

    No driver and no web socket: the browser reads commands on its file descriptor 3 and writes
    replies and events on 4, each message JSON ended by a NUL byte.
    """

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
             "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
             "--remote-debugging-pipe")

    def __init__(self, executable: str):
        self.executable = executable

    def __enter__(self):
        self._profile = tempfile.TemporaryDirectory(prefix="specbook-chromium-")
        self._stderr = tempfile.TemporaryFile()
        self._status = None
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # The child's ends, copied above 9 so that placing them at 3 and 4 cannot overwrite one with the other.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_read, replies_write)]
        os.close(commands_read)
        os.close(replies_write)
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        arguments = [self.executable, *self.FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"]
        try:  # posix_spawn, not fork: safe beside other threads (a progress bar's, an HTTP server's)
            self.pid = os.posix_spawn(self.executable, arguments, os.environ, file_actions=[
                (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                (os.POSIX_SPAWN_DUP2, self._stderr.fileno(), 2),
                (os.POSIX_SPAWN_DUP2, ends[0], 3), (os.POSIX_SPAWN_DUP2, ends[1], 4)])
        except OSError:
            os.close(self._commands)
            os.close(self._replies)
            self._stderr.close()
            self._profile.cleanup()
            raise
        finally:
            for fd in (*ends, null):
                os.close(fd)
        self._buffer, self._id, self._events = b"", 0, []
        return self

    def __exit__(self, *exc):
        try:
            if self._poll() is None:
                try:
                    self.call("Browser.close", timeout=10)
                except (RuntimeError, TimeoutError, OSError):
                    pass
                self._wait(10)
        finally:
            os.close(self._commands)
            os.close(self._replies)
            self._stderr.close()
            self._profile.cleanup()

    def _poll(self):
        """Chromium's exit status, or None while it runs."""
        if self._status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._status = os.waitstatus_to_exitcode(status)
        return self._status

    def _wait(self, seconds: float):
        """Chromium's exit status, killing it when it has not exited after `seconds`."""
        deadline = time.monotonic() + seconds
        while self._poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._status is None:
            os.kill(self.pid, signal.SIGKILL)
            self._status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self._status

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._replies], [], [], left)
            if ready:
                chunk = os.read(self._replies, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (status {self._wait(10)}): {self._stderr_tail()}")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params) -> dict:
        """Send one command and wait for its reply (events that arrive meanwhile are kept)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            data = json.dumps(message).encode() + b"\0"
            while data:
                data = data[os.write(self._commands, data):]
        except BrokenPipeError:
            raise RuntimeError(f"Chromium exited (status {self._wait(10)}): {self._stderr_tail()}") from None
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            self._events.append(reply)

    def forget_events(self) -> None:
        self._events.clear()

    def wait_for(self, event: str, timeout: float) -> dict:
        for index, seen in enumerate(self._events):
            if seen.get("method") == event:
                return self._events.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get("method") == event:
                return message
            self._events.append(message)
