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

A screenshot of each page's first screen (and of its first figure, ``*__figure.png``) is
saved in ``_build/screenshots/``.
Set ``CNN_BOOK_HTML=_build/html`` to check an existing build instead of building one.
The browser is Debian's Chromium driven by Playwright; without them the tests are skipped.
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """(base URL of the served book, the html folder)."""
    missing = _no_browser()
    if missing:
        pytest.skip(f"Browser test skipped: {missing}. {HOW_TO_ENABLE}")
    existing = os.environ.get("CNN_BOOK_HTML")
    html = Path(existing).resolve() if existing else _build_book(tmp_path_factory.mktemp("book"))
    assert (html / "index.html").exists(), f"no book in {html}"
    with serve(html) as base:
        yield base, html


@pytest.fixture(scope="session")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
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


# Runs in the page once it has loaded: waits for MathJax and every image, then reports.
INSPECT = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(ok => {
    img.addEventListener("load", ok); img.addEventListener("error", ok); })));
  await document.fonts.ready;
  const main = document.querySelector("main") || document.body;
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


@pytest.mark.parametrize("name", PAGES)
def test_page_in_browser(name, site, browser, links):
    base, html = site
    index = PAGES.index(name)
    url = urljoin(base, f"{name}.html")
    assert (html / f"{name}.html").exists(), f"{name} is in _toc.yml but {name}.html was not built"

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    outside, console = [], []

    def route(request_route):
        if urlsplit(request_route.request.url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    def on_console(msg):
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            console.append(f"{msg.text} ({where.removeprefix(base)})" if where else msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda err: console.append(f"uncaught: {err}"))
    try:
        response = page.goto(url, wait_until="load")
        found = page.evaluate(INSPECT)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{name.replace('/', '__')}.png"
        page.screenshot(path=str(shot))
        figure = page.locator("main img:not([src*='_static/'])")
        if figure.count():  # and the first figure on the page, to see that plots render
            figure.first.scroll_into_view_if_needed()
            page.screenshot(path=str(shot.with_name(shot.stem + "__figure.png")))
    finally:
        page.close()

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
