"""The built book, page by page, in a real headless browser with the network cut off.

The session fixture builds the book from the working tree (``make book-assets``, then
``jupyter-book build`` with warnings as errors into a temporary folder, never touching
``_build/html``), serves it on 127.0.0.1 and opens every page of ``_toc.yml`` in headless
Chromium. Any request to another host is blocked and reported. Each page must:

* load (HTTP 200) with no console error and no request leaving the machine;
* have its math typeset by the book's own MathJax: every ``.math`` element holds an
  ``mjx-container``, no MathJax error, no raw ``$$``, ``\\(`` or ``\\[`` left in the prose;
* show every image (``naturalWidth > 0``);
* have every same-origin link resolve (HTTP 200, and the ``#anchor`` exists on the target);
* link to the previous and next pages of the table of contents;
* show no traceback or error in a cell output (cells tagged ``raises-exception`` may);
* on notebook pages, offer Colab and Binder launch buttons for that very notebook, built from
  the repository URL in ``_config.yml``.

Every page is opened again at a phone's size (390 x 844 CSS pixels), where it must:

* not scroll sideways (``document.scrollingElement.scrollWidth <= viewport width + 1``);
* open the book's navigation with the visible ☰ button (the primary sidebar shows, with a link
  to the page itself) and close it with Escape;
* where the page has a table of contents, open it with the visible page-contents button.

On a laptop screen (1366 x 768 and 1024 x 768), ☰ collapses and restores the primary sidebar.

A screenshot of each page's first screen (and of its first figure, ``*__figure.png``) is
saved in ``_build/screenshots/``; the phone's, with the navigation open, in
``_build/screenshots/phone/``.
CSS transitions and animations are switched off in the pages the tests open (``NO_TRANSITIONS``): the
tests check where the sidebars end up, not how they slide, and waiting for each slide (0.2 s, after
each Escape among others) cost 13 of the file's 102 s on a 2-core machine (2026-12-08).
Set ``CNN_BOOK_HTML=_build/html`` to check an existing build instead of building one.
The browser is Debian's Chromium driven by Playwright; without them the tests are skipped.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from booktools.book import repo_url, toc_files
from booktools.site import LinkChecker, serve

ROOT = Path(__file__).resolve().parents[2]
PAGES = toc_files(ROOT)
CHROMIUM = os.environ.get("CNN_BOOK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "_build" / "screenshots"
HOW_TO_ENABLE = (
    "To run the browser tests, install Chromium and Playwright's Python package: "
    "`apt-get install chromium` (as root; it provides /usr/bin/chromium) and "
    "`.venv/bin/pip install -r requirements.txt -c constraints.txt` (or `pip install playwright`)."
)


def _no_browser() -> str | None:
    """Why no browser can be had here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM}"
    return None


def _build_book(out: Path) -> Path:
    """Build the book from the working tree into ``out``; returns its html folder."""
    fetch = subprocess.run(["make", "--no-print-directory", "book-assets"], cwd=ROOT,
                           capture_output=True, text=True)
    if fetch.returncode:
        pytest.fail(f"`make book-assets` (fetching MathJax) failed:\n{fetch.stdout}\n{fetch.stderr}")
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb) if jb.exists() else (shutil.which("jupyter-book") or "jupyter-book"),
           "build", str(ROOT), "--path-output", str(out), "--builder", "html", "-W", "-n", "--keep-going"]
    build = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if build.returncode:
        log = (build.stdout + build.stderr)[-6000:]
        pytest.fail(f"The book does not build (warnings are errors):\n{log}")
    return out / "_build" / "html"


def _shared_build(tmp_path_factory) -> Path:
    """The book built once for the whole test session: the first test worker that needs it builds
    it while the others wait, then they all serve that build (the browser walks of this file and
    the explorer pages of test_explorer_page.py often run in different workers). A build that
    failed is not reused: the next worker builds again, and fails the same way."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, shared by its workers
    out, done = root / "shared-book", root / "shared-book.built"
    with open(root / "shared-book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            html = _build_book(out)
            done.write_text(str(html), encoding="utf-8")
    return Path(done.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """(base URL of the served book, the html folder)."""
    missing = _no_browser()
    if missing:
        pytest.skip(f"Browser test skipped: {missing}. {HOW_TO_ENABLE}")
    existing = os.environ.get("CNN_BOOK_HTML")
    html = Path(existing).resolve() if existing else _shared_build(tmp_path_factory)
    assert (html / "index.html").exists(), f"no book in {html}"
    with serve(html) as base:
        yield base, html


@pytest.fixture(scope="session")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, proxy=OFFLINE_PROXY)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def links(site):
    return LinkChecker(site[0])


def _launch_urls(name: str) -> dict[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    branch = (config.get("repository") or {}).get("branch", "main")
    owner_repo = urlsplit(repo_url(ROOT)).path.strip("/").removesuffix(".git")
    return {
        "Colab": f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{name}.ipynb",
        "Binder": f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{name}.ipynb",
    }


# The start of every script below: wait until MathJax has typeset, every image has loaded (or
# failed) and the fonts are ready, so that what is measured is the page a reader sees.
WAIT_FOR_PAGE = r"""  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(ok => {
    img.addEventListener("load", ok); img.addEventListener("error", ok); })));
  await document.fonts.ready;
"""

# Runs in the page once it has loaded: waits for MathJax and every image, then reports.
INSPECT = r"""async () => {
""" + WAIT_FOR_PAGE + r"""  const main = document.querySelector("main") || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight")
       .forEach(e => e.remove());
  const short = s => s.replace(/\s+/g, " ").trim().slice(0, 160);
  const cells = [...document.querySelectorAll("div.cell")]
    .filter(cell => !cell.classList.contains("tag_raises-exception"));
  const errors = [];
  cells.forEach((cell, i) => cell.querySelectorAll(".cell_output").forEach(out => {
    const text = out.textContent;
    const red = [...out.querySelectorAll("[class*=ansi-red]")].map(e => e.textContent).join(" ");
    if (out.matches(".traceback, .error") || out.querySelector(".traceback")
        || /Traceback \(most recent call last\)/.test(text)
        || /\b\w*(Error|Exception)\b/.test(red)) errors.push(`cell ${i + 1}: ${short(text)}`);
  }));
  return {
    mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
    math: document.querySelectorAll(".math").length,
    untypeset: [...document.querySelectorAll(".math")]
      .filter(e => !e.querySelector("mjx-container")).map(e => short(e.textContent)),
    containers: document.querySelectorAll("mjx-container").length,
    mathErrors: [...document.querySelectorAll("mjx-merror")]
      .map(e => e.getAttribute("data-mjx-error") || short(e.textContent)),
    prose: prose.textContent,
    brokenImages: images.filter(img => !(img.naturalWidth > 0)).map(img => img.getAttribute("src")),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    prev: (document.querySelector(".prev-next-area a.left-prev") || {}).href || null,
    next: (document.querySelector(".prev-next-area a.right-next") || {}).href || null,
    errors: [...new Set(errors)],
  };
}"""

RAW_MATH = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{")


# Every request to another host goes to this proxy, a closed port on this machine, and fails there
# (Chromium never sends loopback addresses to a proxy), so nothing leaves the machine; each page's
# "request" events report such requests. Not Playwright's page.route, which would block them
# itself but switches the browser's cache off: every page then downloaded and compiled MathJax
# again, and the desktop walk took 25-30 s of page loads instead of 12.5-13 (2026-12-08).
OFFLINE_PROXY = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"}


def _local(url: str) -> bool:
    """Whether ``url`` stays on this machine: the book's server, or no network at all (data:)."""
    parts = urlsplit(url)
    return parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname == "127.0.0.1"


NO_TRANSITIONS = """document.addEventListener("DOMContentLoaded", () => {
  const style = document.createElement("style");
  style.textContent = "*, *::before, *::after { transition: none !important; animation: none !important; }";
  document.head.append(style);
});"""


def _new_page(browser, base: str, width: int, height: int):
    """(page, requests that tried to leave the machine, console errors): a fresh page of the
    given viewport size that blocks every request to a host other than 127.0.0.1."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.add_init_script(NO_TRANSITIONS)
    page.set_default_timeout(30_000)
    outside, console = [], []

    def on_request(request):
        if not _local(request.url):
            outside.append(request.url)

    page.on("request", on_request)

    def on_console(msg):
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            if urlsplit(where).path == "/favicon.ico":  # asked for by the browser itself, not by the
                return  # page, at the server's root, where the book is not (it has no favicon)
            console.append(f"{msg.text} ({where.removeprefix(base)})" if where else msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda err: console.append(f"uncaught: {err}"))
    return page, outside, console


class _Tab:
    """One page of a given size, reused from test to test (opening a fresh page for each of the
    book's pages takes two to three times as long). ``goto`` forgets the previous page's
    console errors and blocked requests."""

    def __init__(self, browser, base: str, width: int, height: int):
        self._args = (browser, base, width, height)
        self.page = None

    def goto(self, url: str):
        if self.page is None or self.page.is_closed():
            self.page, self.outside, self.console = _new_page(*self._args)
        self.outside.clear()
        self.console.clear()
        return self.page.goto(url, wait_until="load")

    def close(self):
        if self.page is not None and not self.page.is_closed():
            self.page.close()


@pytest.fixture(scope="session")
def desktop(site, browser):
    tab = _Tab(browser, site[0], 1280, 900)
    yield tab
    tab.close()


@pytest.mark.parametrize("name", PAGES)
def test_page_in_browser(name, site, desktop, links):
    base, html = site
    index = PAGES.index(name)
    url = urljoin(base, f"{name}.html")
    assert (html / f"{name}.html").exists(), f"{name} is in _toc.yml but {name}.html was not built"

    response = desktop.goto(url)
    page, outside, console = desktop.page, desktop.outside, desktop.console
    found = page.evaluate(INSPECT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name.replace('/', '__')}.png"
    page.screenshot(path=str(shot))
    figure = page.locator("main img:not([src*='_static/'])")
    if figure.count():  # and the first figure on the page, to see that plots render
        figure.first.scroll_into_view_if_needed()
        page.screenshot(path=str(shot.with_name(shot.stem + "__figure.png")))

    problems = []
    if response is None or response.status != 200:
        problems.append(f"page did not load: {response and response.status}")
    problems += [f"request left the machine (blocked): {u}" for u in dict.fromkeys(outside)]
    problems += [f"console error: {c}" for c in console]

    if found["math"]:
        if not found["mathjax"] or not found["containers"]:
            problems.append(f"MathJax did not typeset the page's {found['math']} formulas")
        problems += [f"formula not typeset: {m}" for m in found["untypeset"][:5]]
    problems += [f"MathJax error: {m}" for m in found["mathErrors"]]
    for raw in sorted(set(RAW_MATH.findall(found["prose"]))):
        at = found["prose"].find(raw)
        problems.append(f"raw math {raw!r} in the text: ...{found['prose'][max(0, at - 60):at + 60]!r}...")

    problems += [f"image did not load: {src}" for src in found["brokenImages"]]

    for link in dict.fromkeys(found["links"]):
        if links.is_internal(link):
            why = links.problem(link)
            if why:
                problems.append(f"broken link {link.removeprefix(base)}: {why}")

    for side, neighbour in (("prev", index - 1), ("next", index + 1)):
        if 0 <= neighbour < len(PAGES):
            expected = urljoin(base, f"{PAGES[neighbour]}.html")
            got = found[side] and found[side].split("#")[0]
            if got != expected:
                problems.append(f"{side} link is {found[side]!r}, expected {expected!r}")

    problems += [f"error in output, {e}" for e in found["errors"]]

    if (ROOT / f"{name}.ipynb").exists():
        for service, expected in _launch_urls(name).items():
            if expected not in found["links"]:
                problems.append(f"no {service} launch button to {expected}")

    assert not problems, f"{url} (screenshot {shot}):\n  " + "\n  ".join(problems)


PHONE = (390, 844)

# After MathJax, fonts and images: how wide the page scrolls, and what sticks out (elements
# whose right edge passes the viewport and that no narrower scrolling box clips).
OVERFLOW = r"""async () => {
""" + WAIT_FOR_PAGE + r"""  const width = window.innerWidth;
  const scrollWidth = document.scrollingElement.scrollWidth;
  const wide = [];
  if (scrollWidth > width + 1) for (const e of document.querySelectorAll("body *")) {
    const box = e.getBoundingClientRect();
    if (box.right <= width + 1 || !box.width) continue;
    if (getComputedStyle(e).visibility === "hidden") continue;
    let clipped = false;
    for (let p = e.parentElement; p && !clipped; p = p.parentElement)
      clipped = /auto|scroll|hidden|clip/.test(getComputedStyle(p).overflowX)
                && p.getBoundingClientRect().right <= width + 1;
    if (!clipped) wide.push(`<${e.tagName.toLowerCase()} class="${e.getAttribute("class") || ""}"> `
      + `to x=${Math.round(box.right)}: ${e.textContent.replace(/\s+/g, " ").trim().slice(0, 60)}`);
  }
  return {scrollWidth, width, wide: wide.slice(0, 5)};
}"""

# Whether an element is shown on screen: laid out, not hidden, and inside the viewport.
ON_SCREEN = """(e) => { const box = e.getBoundingClientRect(), style = getComputedStyle(e);
  return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.opacity !== "0"
    && box.right > 0 && box.left < innerWidth && box.bottom > 0 && box.top < innerHeight; }"""


def _on_screen(locator) -> bool:
    return locator.count() > 0 and locator.first.evaluate(ON_SCREEN)


def _shown(selector: str) -> str:
    """A page function: whether the first element matching ``selector`` is on screen."""
    return (f"() => {{ const e = document.querySelector({selector!r}); "
            f"return !!e && ({ON_SCREEN})(e); }}")


def _hidden(selector: str) -> str:
    return f"() => !({_shown(selector)})()"


def _becomes(page, condition: str, timeout: float = 5_000) -> bool:
    """Whether the page function ``condition`` turns true within ``timeout`` milliseconds."""
    from playwright.sync_api import TimeoutError as Timeout

    try:
        page.wait_for_function(condition, timeout=timeout)
    except Timeout:
        return False
    return True


def _visible_button(page, selector: str):
    """The first visible element matching ``selector``, or None."""
    return next((b for b in page.locator(selector).all() if b.is_visible()), None)


@pytest.fixture(scope="session")
def phone(site, browser):
    tab = _Tab(browser, site[0], *PHONE)
    yield tab
    tab.close()


@pytest.mark.parametrize("name", PAGES)
def test_page_on_a_phone(name, site, phone):
    """At 390 x 844: nothing scrolls sideways, ☰ opens the navigation, the page-contents
    button opens the page's table of contents."""
    url = urljoin(site[0], f"{name}.html")
    shot = SCREENSHOTS / "phone" / f"{name.replace('/', '__')}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    problems = []
    phone.goto(url)
    page = phone.page
    fit = page.evaluate(OVERFLOW)
    if fit["scrollWidth"] > fit["width"] + 1:
        problems.append(f"the page scrolls sideways: {fit['scrollWidth']} px wide on a "
                        f"{fit['width']}-px screen; sticking out: {fit['wide']}")
    page.screenshot(path=str(shot))

    menu = _visible_button(page, ".primary-toggle")
    if menu is None:
        problems.append("no visible ☰ (navigation) button")
    elif _on_screen(page.locator(".bd-sidebar-primary")):
        problems.append("the navigation is on screen before ☰ is pressed")
    else:
        menu.click()
        if not _becomes(page, _shown(".bd-sidebar-primary .bd-docs-nav")):
            problems.append("☰ does not open the navigation (the primary sidebar stays hidden)")
        else:
            here = page.locator('.bd-sidebar-primary .bd-docs-nav a[href="#"]')  # this page
            if here.count():
                here.first.scroll_into_view_if_needed()
            if not _on_screen(here):
                problems.append("the open navigation shows no link to this page")
            page.screenshot(path=str(shot.with_name(shot.stem + "__menu.png")))
            page.keyboard.press("Escape")
            if not _becomes(page, _hidden(".bd-sidebar-primary .bd-docs-nav")):
                problems.append("Escape does not close the navigation")

    if page.locator(".bd-sidebar-secondary nav.page-toc a").count():
        contents = _visible_button(page, ".secondary-toggle")
        if contents is None:
            problems.append("the page has a table of contents but no visible button for it")
        else:
            contents.click()
            if not _becomes(page, _shown(".bd-sidebar-secondary nav.page-toc a")):
                problems.append("the page-contents button does not show the page's contents")
            else:
                page.screenshot(path=str(shot.with_name(shot.stem + "__contents.png")))
                page.keyboard.press("Escape")
                if not _becomes(page, _hidden(".bd-sidebar-secondary nav.page-toc a")):
                    problems.append("Escape does not close the page's contents")
    problems += [f"request left the machine (blocked): {u}" for u in dict.fromkeys(phone.outside)]
    problems += [f"console error: {c}" for c in phone.console]
    assert not problems, f"{url} at {PHONE[0]}x{PHONE[1]} (screenshot {shot}):\n  " + \
        "\n  ".join(problems)


@pytest.mark.parametrize("width, height", [(1366, 768), (1024, 768)])
def test_sidebar_toggles_on_a_laptop(site, browser, width, height):
    """☰ collapses the primary sidebar and brings it back; where the page's contents are not
    shown beside the text, their button opens them."""
    base, _ = site
    name = next(n for n in PAGES if n.startswith("chapters/"))
    page, outside, console = _new_page(browser, base, width, height)
    sidebar, article = page.locator("#pst-primary-sidebar"), page.locator(".bd-article-container")
    problems = []
    try:
        page.goto(urljoin(base, f"{name}.html"), wait_until="load")
        menu = _visible_button(page, ".primary-toggle")
        if not _on_screen(sidebar):
            problems.append("the navigation is not beside the text")
        elif menu is None:
            problems.append("no visible ☰ button")
        else:
            narrow = article.bounding_box()["width"]
            menu.click()
            if not _becomes(page, _hidden("#pst-primary-sidebar")):
                problems.append("☰ does not collapse the navigation")
            elif page.locator("dialog[open]").count():
                problems.append("☰ opened a dialog instead of collapsing the navigation")
            elif not article.bounding_box()["width"] > narrow:
                problems.append("collapsing the navigation does not widen the text")
            menu.click()
            if not _becomes(page, _shown("#pst-primary-sidebar .bd-docs-nav")):
                problems.append("☰ again does not bring the navigation back")
        contents = _visible_button(page, ".secondary-toggle")
        if contents is not None:
            contents.click()
            if not _becomes(page, _shown(".bd-sidebar-secondary nav.page-toc a")):
                problems.append("the page-contents button does not show the page's contents")
        page.screenshot(path=str(SCREENSHOTS / f"laptop-{width}x{height}.png"))
    finally:
        page.close()
    problems += [f"request left the machine (blocked): {u}" for u in dict.fromkeys(outside)]
    problems += [f"console error: {c}" for c in console]
    assert not problems, f"{name} at {width}x{height}:\n  " + "\n  ".join(problems)


def test_math_renders_from_a_file_url(site, browser):
    """Opened straight from disk (file://), a page with math still finds the book's MathJax."""
    _, html = site
    name = next(n for n in PAGES if 'class="math' in (html / f"{n}.html").read_text(encoding="utf-8"))
    page = browser.new_page()
    console = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto((html / f"{name}.html").as_uri(), wait_until="load")
        page.evaluate("async () => { await MathJax.startup.promise; }")
        containers = page.locator("mjx-container").count()
    finally:
        page.close()
    assert containers > 0 and not console, f"{name}.html from file://: {containers} formulas, {console}"
