"""The in-page explorers (``book_static/conv-explorer.js``) in a real browser: chapter 02's
convolution explorer and, at the end of this file, chapter 03's pooling explorer (checked the same
way against ``helpers.scratch.pool``: every example, max and average, every window and stride,
each window's values and its maximum as the page steps through them, and a phone's screen).

The explorer runs in the static book itself (plain JavaScript, no kernel). Its numbers are
checked here against the book's reference, ``helpers.ops.conv2d``: for every preset (the
chapter's worked examples), for stride 2 and each padding mode, for a kernel typed into the
page, and for the sum of products it writes out at each window position. No expected output is
written in this file: they all come from ``conv2d`` on the data the page shows. At a phone's
size (390 x 844) no example, stride or padding may make the page scroll sideways.

Uses the ``site`` fixture of ``tests/test_browser.py`` (the book built from the working tree,
served on 127.0.0.1; ``CNN_BOOK_HTML=_build/html`` checks an existing build instead) and, like
it, blocks every request that would leave the machine and skips when no browser is available.
Its Chromium runs in a thread of its own: Playwright's sync API allows one instance per thread,
and ``test_browser.py``'s session-wide browser may be open in the main thread.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest

from helpers.scratch.kernels import KERNELS
from helpers.scratch.conv import conv2d
from helpers.scratch.pool import avg_pool2d, max_pool2d
from helpers.scratch.shapes import resolve_padding
from helpers.widgets.conv import DEFAULT_IMAGE
from test_browser import CHROMIUM, SCREENSHOTS, site  # noqa: F401 (site is a pytest fixture)

PAGE = "chapters/02_convolution"
ROOT_SELECTOR = ".conv-explorer.cx-mounted"

# Reads the explorer's state from the DOM (never from its JavaScript variables, except the
# presets' input data, which only the script holds).
READ = r"""(root) => {
  const grid = sel => [...root.querySelectorAll(sel + " tr")].map(tr =>
      [...tr.querySelectorAll("td")].map(td => ({
        row: +td.dataset.row, col: +td.dataset.col, value: td.dataset.value,
        text: td.textContent, pad: td.classList.contains("cx-pad"),
        window: td.classList.contains("cx-window"),
        current: td.classList.contains("cx-current")})));
  const sum = root.querySelector(".cx-sum");
  return {
    preset: root.querySelector("select.cx-preset").value,
    stride: root.querySelector("select.cx-stride").value,
    padding: root.querySelector("select.cx-padding").value,
    input: grid(".cx-input table"),
    output: grid(".cx-output table"),
    kernel: [...root.querySelectorAll(".cx-kernel-grid tr")].map(tr =>
      [...tr.querySelectorAll("input")].map(i => i.value)),
    sum: {row: +sum.dataset.row, col: +sum.dataset.col, value: sum.dataset.value,
          text: sum.textContent,
          terms: sum.querySelector(".cx-sum-terms").textContent,
          shown: sum.querySelector(".cx-sum-value").textContent},
    position: +root.querySelector("input.cx-position").value,
    positions: +root.querySelector("input.cx-position").max + 1,
  };
}"""


def _number(text: str) -> float:
    """A number as the page writes it (U+2212 minus, maybe in parentheses)."""
    return float(text.strip().strip("()").replace("\u2212", "-"))


def _padding_arg(choice: str):
    return int(choice) if choice.isdigit() else choice


class _Browser:
    """Headless Chromium driven from one worker thread; ``run(fn, *args)`` calls ``fn`` there."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explorer-browser")
        self.browser = self.run(self._start)

    def _start(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        return self._pw.chromium.launch(executable_path=CHROMIUM, headless=True)

    def run(self, fn, *args):
        return self._pool.submit(fn, *args).result()

    def close(self):
        try:
            self.run(lambda: (self.browser.close(), self._pw.stop()))
        finally:
            self._pool.shutdown()


@pytest.fixture(scope="module")
def chromium(site):  # noqa: F811 (the fixture imported above)
    driver = _Browser()
    try:
        yield driver
    finally:
        driver.close()


class _Explorer:
    """An explorer's chapter open in one page for the whole module; ``run(fn)`` calls ``fn(page)``."""

    def __init__(self, chromium, url, selector=ROOT_SELECTOR):
        self.chromium, self.console, self.outside, self.selector = chromium, [], [], selector
        self.page = chromium.run(self._open, url)

    def _open(self, url):
        page = self.chromium.browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)

        def route(request_route):
            if urlsplit(request_route.request.url).hostname == "127.0.0.1":
                request_route.continue_()
            else:
                self.outside.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: self.console.append(f"uncaught: {err}"))
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, f"{url} did not load"
        page.wait_for_selector(f"{self.selector} .cx-output td")
        return page

    def run(self, fn):
        return self.chromium.run(fn, self.page)


def _opened(site, chromium, page_name: str, *selector: str):  # noqa: F811
    """One explorer page kept open for a module's tests, closed after them."""
    ex = _Explorer(chromium, urljoin(site[0], f"{page_name}.html"), *selector)
    try:
        yield ex
    finally:
        chromium.run(ex.page.close)


@pytest.fixture(scope="module")
def explorer(site, chromium):  # noqa: F811
    yield from _opened(site, chromium, PAGE)


def _root(page):
    return page.locator(ROOT_SELECTOR).first


def _read(page) -> dict:
    return _root(page).evaluate(READ)


def _preset_data(page, number: int) -> dict:
    return page.evaluate(f"() => window.convExplorer.presets[{number - 1}]")


def _select(page, number: int, stride: int | None = None, padding: str | None = None) -> dict:
    root = _root(page)
    root.locator("select.cx-preset").select_option(str(number))
    if stride is not None:
        root.locator("select.cx-stride").select_option(str(stride))
    if padding is not None:
        root.locator("select.cx-padding").select_option(padding)
    return _read(page)


def _check_against_numpy(state: dict, image, kernel) -> np.ndarray:
    """The page's input and output grids against np.pad and helpers.ops.conv2d; returns the
    padded input."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    stride, padding = int(state["stride"]), _padding_arg(state["padding"])
    expected = conv2d(image, kernel, stride=stride, padding=padding)
    got = np.array([[float(c["value"]) for c in row] for row in state["output"]])
    where = f"preset {state['preset']}, stride {stride}, padding {padding!r}"
    assert got.shape == expected.shape, f"{where}: output {got.shape}, conv2d {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=where)
    for row in state["output"]:  # the written numbers agree with data-value
        for cell in row:
            assert _number(cell["text"]) == pytest.approx(float(cell["value"]), abs=1e-4), where

    (top, bottom), (left, right) = resolve_padding(padding, image.shape, kernel.shape,
                                                   (stride, stride))
    padded = np.pad(image, ((top, bottom), (left, right)))
    shown = np.array([[float(c["value"]) for c in row] for row in state["input"]])
    np.testing.assert_array_equal(shown, padded, err_msg=f"{where}: input grid")
    mask = np.ones_like(padded, dtype=bool)
    mask[top:top + image.shape[0], left:left + image.shape[1]] = False
    shaded = np.array([[c["pad"] for c in row] for row in state["input"]])
    np.testing.assert_array_equal(shaded, mask, err_msg=f"{where}: padding shading")
    return padded


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_each_preset_matches_conv2d(explorer, number):
    def check(page):
        data = _preset_data(page, number)
        state = _select(page, number)
        assert state["preset"] == str(number)
        assert [[float(v) for v in row] for row in state["kernel"]] == data["kernel"]
        _check_against_numpy(state, data["image"], data["kernel"])
        assert (state["sum"]["row"], state["sum"]["col"], state["position"]) == (0, 0, 0)

    explorer.run(check)


def test_presets_are_the_chapters_examples(explorer):
    """The data typed into the script agrees with the Python side where the book has it."""
    def check(page):
        presets = page.evaluate("() => window.convExplorer.presets")
        assert len(presets) == 5
        vertical = KERNELS["vertical edge"].tolist()
        for number in (1, 3, 4):
            assert presets[number - 1]["kernel"] == vertical
        assert presets[4]["kernel"] == KERNELS["sharpen"].tolist()
        assert presets[3]["image"] == DEFAULT_IMAGE.tolist()  # Example 4, the widget's image
        assert presets[0]["image"] == np.arange(1, 10).reshape(3, 3).tolist()
        assert presets[4]["padding"] == "same"

    explorer.run(check)


@pytest.mark.parametrize("number, stride, padding", [
    (4, 2, "0"), (4, 2, "1"), (3, 2, "same"), (2, 2, "full"), (3, 1, "full"), (1, 2, "same"),
])
def test_stride_and_padding_match_conv2d(explorer, number, stride, padding):
    """Stride 2 and every padding, including "same" with the extra zero at the end (6x6, S=2)."""
    def check(page):
        data = _preset_data(page, number)
        state = _select(page, number, stride=stride, padding=padding)
        assert (state["stride"], state["padding"]) == (str(stride), padding)
        _check_against_numpy(state, data["image"], data["kernel"])

    explorer.run(check)


def test_typed_kernel_matches_conv2d(explorer):
    def check(page):
        custom = [[0.5, -2, 1], [3, 0, -1], [1, 1, -0.25]]
        _select(page, 5)
        inputs = _root(page).locator("input.cx-kernel-input")
        for i, row in enumerate(custom):
            for j, v in enumerate(row):
                inputs.nth(3 * i + j).fill(str(v))
        state = _read(page)
        assert [[float(v) for v in row] for row in state["kernel"]] == custom
        _check_against_numpy(state, _preset_data(page, 5)["image"], custom)
        # A non-number is flagged and ignored; the last good kernel stays in force.
        inputs.nth(0).fill("abc")
        assert "cx-invalid" in (inputs.nth(0).get_attribute("class") or "")
        after = _read(page)
        assert [[c["value"] for c in r] for r in after["output"]] == \
               [[c["value"] for c in r] for r in state["output"]]

    explorer.run(check)


_TERM = re.compile(r"^(\(?\u2212?[\d.]+\)?)\u00B7(\(?\u2212?[\d.]+\)?)$")


@pytest.mark.parametrize("number, stride, padding", [(2, 1, "0"), (5, 1, "same"), (3, 2, "same")])
def test_stepping_writes_each_sum_of_products(explorer, number, stride, padding):
    """Next moves the window in reading order; the highlighted output cell and the written
    sum of products match NumPy at every position; the slider jumps."""
    def check(page):
        data = _preset_data(page, number)
        image = np.asarray(data["image"], dtype=float)
        kernel = np.asarray(data["kernel"], dtype=float)
        state = _select(page, number, stride=stride, padding=padding)
        padded = _check_against_numpy(state, image, kernel)
        expected = conv2d(image, kernel, stride=stride, padding=_padding_arg(padding))
        rows, cols = expected.shape
        assert state["positions"] == rows * cols
        nxt = _root(page).locator("button.cx-next")
        for position in range(rows * cols):
            if position:
                nxt.click()
                state = _read(page)
            r, c = divmod(position, cols)
            where = f"preset {number}, stride {stride}, padding {padding}, position {position}"
            assert state["position"] == position, where
            current = [(cell["row"], cell["col"]) for row in state["output"] for cell in row
                       if cell["current"]]
            assert current == [(r, c)], where
            assert (state["sum"]["row"], state["sum"]["col"]) == (r, c), where
            window = padded[r * stride:r * stride + 3, c * stride:c * stride + 3]
            framed = np.array([[cell["window"] for cell in row] for row in state["input"]])
            assert framed.sum() == 9 and framed[r * stride:r * stride + 3,
                                                c * stride:c * stride + 3].all(), where
            terms = state["sum"]["terms"].split(" + ")
            pairs = [_TERM.match(t) for t in terms]
            assert all(pairs), f"{where}: unreadable terms {terms}"
            got = np.array([[_number(m.group(1)), _number(m.group(2))] for m in pairs])
            np.testing.assert_allclose(got[:, 0], kernel.ravel(), err_msg=where)
            np.testing.assert_allclose(got[:, 1], window.ravel(), err_msg=where)
            value = float((kernel * window).sum())
            assert value == pytest.approx(expected[r, c])
            assert float(state["sum"]["value"]) == pytest.approx(value), where
            assert _number(state["sum"]["shown"]) == pytest.approx(value, abs=1e-4), where
            assert state["sum"]["text"].endswith(f"= {state['sum']['shown']}"), where
        assert _root(page).locator("button.cx-next").is_disabled()
        # The slider jumps straight to a position; Previous steps back from it.
        slider = _root(page).locator("input.cx-position")
        slider.evaluate("(s, v) => { s.value = v; s.dispatchEvent(new Event('input')); }", "1")
        assert _read(page)["sum"]["col"] == (1 if cols > 1 else 0)
        _root(page).locator("button.cx-prev").click()
        assert _read(page)["position"] == 0

    explorer.run(check)


# The explorer's controls that a screen reader could not name (no aria-label, label or text).
UNLABELLED = r"""(root) => [...root.querySelectorAll("select, input, button")].filter(e =>
  !(e.getAttribute("aria-label") || (e.id && root.querySelector(`label[for="${e.id}"]`))
    || (e.tagName === "BUTTON" && e.textContent.trim()))).map(e => e.outerHTML)"""


def test_controls_are_labelled(explorer):
    def check(page):
        unlabelled = _root(page).evaluate(UNLABELLED)
        assert not unlabelled

    explorer.run(check)


def test_explorer_screenshot_and_no_console_errors(explorer):
    def check(page):
        _select(page, 5)
        _root(page).locator("button.cx-next").click()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        _root(page).screenshot(path=str(SCREENSHOTS / "chapters__02_convolution__explorer.png"))

    explorer.run(check)
    assert not explorer.console, f"console errors on {PAGE}: {explorer.console}"
    assert not explorer.outside, f"requests left the machine: {explorer.outside}"


PHONE = (390, 844)

# How the explorer sits in a phone's page: the page's scroll width, the explorer's and its
# controls' right edges, and any grid panel that must scroll to show its whole table.
FIT = r"""(root) => ({
  width: document.documentElement.clientWidth,
  scrollWidth: document.scrollingElement.scrollWidth,
  right: root.getBoundingClientRect().right,
  controls: Math.max(...[...root.querySelectorAll("select, input, button")]
                     .map(e => e.getBoundingClientRect().right)),
  scrolled: [...root.querySelectorAll(".cx-panel")]
    .filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.querySelector("figcaption").textContent),
})"""


def _fit_problems(fit: dict, where: str) -> list[str]:
    """What a phone reader would suffer at one setting of an explorer (FIT's measurements)."""
    problems = []
    if fit["scrollWidth"] > fit["width"] + 1:
        problems.append(f"{where}: the page is {fit['scrollWidth']} px wide")
    if max(fit["right"], fit["controls"]) > fit["width"] + 1:
        problems.append(f"{where}: the explorer reaches x={max(fit['right'], fit['controls']):.0f}")
    if fit["scrolled"]:
        problems.append(f"{where}: {fit['scrolled']} must scroll")
    return problems


def _check_phone_fit(site, chromium, page_name: str, ready: str, settings, screenshot=None) -> None:  # noqa: F811
    """Open ``page_name`` at the phone viewport (network blocked), call ``settings(page)``: it yields
    ``(where, root)`` after each setting it makes; measure each; optionally ``screenshot(page)``."""
    url = urljoin(site[0], f"{page_name}.html")

    def visit():
        page = chromium.browser.new_page(viewport={"width": PHONE[0], "height": PHONE[1]})
        page.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname
                   == "127.0.0.1" else r.abort())
        problems = []
        try:
            page.goto(url, wait_until="load")
            page.wait_for_selector(ready)
            for where, root in settings(page):
                problems += _fit_problems(root.evaluate(FIT), where)
            if screenshot is not None:
                screenshot(page)
        finally:
            page.close()
        return problems

    problems = chromium.run(visit)
    assert not problems, f"at {PHONE[0]}x{PHONE[1]}:\n  " + "\n  ".join(problems)


def test_fits_a_phone_screen(site, chromium):  # noqa: F811
    """At 390 x 844, for every example, stride and padding: the page does not scroll sideways,
    the controls (the Example dropdown's long names included) stay inside the explorer and
    every grid is shown whole (a 10x10 padded input included)."""
    def settings(page):
        root = _root(page)
        for number in range(1, 6):
            for stride in (1, 2):
                for padding in ("0", "1", "same", "full"):
                    _select(page, number, stride=stride, padding=padding)
                    yield f"example {number}, stride {stride}, padding {padding}", root

    def screenshot(page):
        _select(page, 3, stride=1, padding="full")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        _root(page).screenshot(path=str(SCREENSHOTS / "chapters__02_convolution__explorer-phone.png"))

    _check_phone_fit(site, chromium, PAGE, f"{ROOT_SELECTOR} .cx-output td", settings, screenshot)


def test_works_from_a_file_url_and_only_on_its_page(site, chromium):  # noqa: F811
    """From disk (file://) the explorer still mounts; a page without one gets no error."""
    html = site[1]

    def visit():
        page = chromium.browser.new_page()
        console = []
        page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: console.append(f"uncaught: {err}"))
        try:
            page.goto((html / f"{PAGE}.html").as_uri(), wait_until="load")
            cells = page.locator(f"{ROOT_SELECTOR} .cx-output td").count()
            page.goto((html / "intro.html").as_uri(), wait_until="load")
            loaded = page.evaluate("() => !!window.convExplorer")
            mounted = page.locator(".cx-mounted").count()
        finally:
            page.close()
        return cells, loaded, mounted, console

    cells, loaded, mounted, console = chromium.run(visit)
    assert cells > 0, "the explorer did not mount from file://"
    assert loaded and mounted == 0 and not console, (loaded, mounted, console)


# --------------------------------------------------------------------------------------------
# Chapter 03's pooling explorer (the same script), checked against helpers.scratch.pool.

POOL_PAGE = "chapters/03_layers"
POOL_SELECTOR = ".pool-explorer.cx-mounted"

READ_POOL = r"""(root) => {
  const grid = sel => [...root.querySelectorAll(sel + " tr")].map(tr =>
      [...tr.querySelectorAll("td")].map(td => ({
        value: td.dataset.value, text: td.textContent,
        window: td.classList.contains("cx-window"),
        argmax: td.classList.contains("cx-argmax"),
        current: td.classList.contains("cx-current")})));
  const sum = root.querySelector(".cx-sum");
  return {
    preset: root.querySelector("select.cx-preset").value,
    mode: root.querySelector("select.cx-mode").value,
    size: root.querySelector("select.cx-size").value,
    stride: root.querySelector("select.cx-stride").value,
    sizes: [...root.querySelectorAll("select.cx-size option")].map(o => [+o.value, o.disabled]),
    input: grid(".cx-input table"),
    output: grid(".cx-output table"),
    sum: {row: +sum.dataset.row, col: +sum.dataset.col, value: sum.dataset.value,
          text: sum.textContent, terms: sum.querySelector(".cx-sum-terms").textContent,
          shown: sum.querySelector(".cx-sum-value").textContent},
    position: +root.querySelector("input.cx-position").value,
    positions: +root.querySelector("input.cx-position").max + 1,
  };
}"""


@pytest.fixture(scope="module")
def pool_explorer(site, chromium):  # noqa: F811
    yield from _opened(site, chromium, POOL_PAGE, POOL_SELECTOR)


def _pool_root(page):
    return page.locator(POOL_SELECTOR).first


def _pool_select(page, number: int, mode: str | None = None, size: int | None = None,
                 stride: int | None = None) -> dict:
    root = _pool_root(page)
    root.locator("select.cx-preset").select_option(str(number))
    if mode is not None:
        root.locator("select.cx-mode").select_option(mode)
    if size is not None:
        root.locator("select.cx-size").select_option(str(size))
    if stride is not None:
        root.locator("select.cx-stride").select_option(str(stride))
    return _pool_root(page).evaluate(READ_POOL)


def _pool_reference(image, mode: str, size: int, stride: int) -> np.ndarray:
    pool = max_pool2d if mode == "max" else avg_pool2d
    return pool(np.asarray(image, dtype=float), size, stride)


def _check_pool(state: dict, image) -> np.ndarray:
    mode, size, stride = state["mode"], int(state["size"]), int(state["stride"])
    expected = _pool_reference(image, mode, size, stride)
    got = np.array([[float(c["value"]) for c in row] for row in state["output"]])
    where = f"pool preset {state['preset']}, {mode}, window {size}, stride {stride}"
    assert got.shape == expected.shape, f"{where}: output {got.shape}, helpers {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, err_msg=where)
    for row in state["output"]:
        for cell in row:
            assert _number(cell["text"]) == pytest.approx(float(cell["value"]), abs=1e-4), where
    shown = np.array([[float(c["value"]) for c in row] for row in state["input"]])
    np.testing.assert_array_equal(shown, np.asarray(image, dtype=float), err_msg=f"{where}: input")
    return expected


def _pool_combinations(page) -> list[tuple[int, str, int, int]]:
    presets = page.evaluate("() => window.poolExplorer.presets")
    return [(n, mode, size, stride) for n, p in enumerate(presets, start=1)
            for mode in ("max", "average") for size in (1, 2, 3) for stride in (1, 2, 3)
            if size <= min(len(p["image"]), len(p["image"][0]))]


def test_pool_every_preset_mode_window_and_stride_matches_helpers(pool_explorer):
    """Every example, max and average, every window the input allows and every stride against
    helpers.scratch.pool; a window larger than the input is not offered."""
    def check(page):
        presets = page.evaluate("() => window.poolExplorer.presets")
        assert len(presets) == 4
        for number, data in enumerate(presets, start=1):
            state = _pool_select(page, number)
            assert (state["mode"], int(state["size"]), int(state["stride"])) == \
                   (data["mode"], data["size"], data["stride"])
            limit = min(len(data["image"]), len(data["image"][0]))
            assert state["sizes"] == [[f, f > limit] for f in (1, 2, 3)]
            _check_pool(state, data["image"])
        for number, mode, size, stride in _pool_combinations(page):
            state = _pool_select(page, number, mode, size, stride)
            assert (state["mode"], state["size"], state["stride"]) == (mode, str(size), str(stride))
            _check_pool(state, presets[number - 1]["image"])

    pool_explorer.run(check)


def test_pool_presets_are_the_lectures_examples(pool_explorer):
    """Example 1 is chapter 03's 4x4 input; 2 the full exercise's (Part V) feature map after the
    conv with bias -5 and ReLU, pooled to [[0, 10], [0, 10]]; 3 the max-pool backward cache;
    4 chapter 02's 5x5 image with overlapping 3x3 windows."""
    import json

    from booktools.book import ROOT

    chapter = json.loads((ROOT / f"{POOL_PAGE}.ipynb").read_text(encoding="utf-8"))
    source = next("".join(c["source"]) for c in chapter["cells"] if "x4 = np.array(" in "".join(c["source"]))
    namespace: dict = {"np": np}
    exec(next(line for line in source.splitlines() if line.startswith("x4 = ")), namespace)
    part_v = np.array([[0, 5, 5, 5, 5, 0], [0, 5, 5, 5, 5, 0], [0, 5, 0, 5, 5, 0],
                       [0, 5, 0, 5, 5, 0], [0, 5, 0, 5, 5, 0], [0, 5, 0, 5, 5, 0]], dtype=float)
    after_relu = np.maximum(conv2d(part_v, KERNELS["vertical edge"]) - 5, 0)

    def check(page):
        presets = page.evaluate("() => window.poolExplorer.presets")
        assert presets[0]["image"] == namespace["x4"].tolist()
        assert presets[1]["image"] == after_relu.tolist()
        assert presets[2]["image"] == [[1, 5], [2, 0]]
        assert presets[3]["image"] == DEFAULT_IMAGE.tolist()
        assert (presets[3]["size"], presets[3]["stride"]) == (3, 2)

    pool_explorer.run(check)


@pytest.mark.parametrize("number, mode, size, stride", [(1, "max", 2, 2), (1, "average", 3, 1),
                                                         (4, "max", 3, 2), (2, "average", 2, 1)])
def test_pool_stepping_writes_each_window(pool_explorer, number, mode, size, stride):
    """Next moves the window in reading order; the framed window, the marked maximum, the
    highlighted output cell and the written values match NumPy at every position."""
    def check(page):
        image = np.asarray(page.evaluate(f"() => window.poolExplorer.presets[{number - 1}].image"), dtype=float)
        state = _pool_select(page, number, mode, size, stride)
        expected = _check_pool(state, image)
        rows, cols = expected.shape
        assert state["positions"] == rows * cols
        for position in range(rows * cols):
            if position:
                _pool_root(page).locator("button.cx-next").click()
                state = _pool_root(page).evaluate(READ_POOL)
            r, c = divmod(position, cols)
            where = f"pool preset {number}, {mode}, window {size}, stride {stride}, position {position}"
            assert state["position"] == position, where
            current = [(i, j) for i, row in enumerate(state["output"]) for j, cell in enumerate(row)
                       if cell["current"]]
            assert current == [(r, c)] and (state["sum"]["row"], state["sum"]["col"]) == (r, c), where
            window = image[r * stride:r * stride + size, c * stride:c * stride + size]
            framed = np.array([[cell["window"] for cell in row] for row in state["input"]])
            assert framed.sum() == size * size and framed[r * stride:r * stride + size,
                                                          c * stride:c * stride + size].all(), where
            marked = [(i, j) for i, row in enumerate(state["input"]) for j, cell in enumerate(row)
                      if cell["argmax"]]
            if mode == "max":
                i, j = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
                assert marked == [(r * stride + i, c * stride + j)], where
            else:
                assert marked == [], where
            values = [_number(t) for t in state["sum"]["terms"].split(", ")]
            np.testing.assert_allclose(values, window.ravel(), err_msg=where)
            assert float(state["sum"]["value"]) == pytest.approx(expected[r, c]), where
            assert _number(state["sum"]["shown"]) == pytest.approx(expected[r, c], abs=1e-4), where
            assert state["sum"]["text"].endswith(f"= {state['sum']['shown']}"), where
        assert _pool_root(page).locator("button.cx-next").is_disabled()

    pool_explorer.run(check)


def test_pool_controls_are_labelled_and_no_console_errors(pool_explorer):
    def check(page):
        unlabelled = _pool_root(page).evaluate(UNLABELLED)
        assert not unlabelled
        _pool_select(page, 1, "max", 2, 2)
        _pool_root(page).locator("button.cx-next").click()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        _pool_root(page).screenshot(path=str(SCREENSHOTS / "chapters__03_layers__pool-explorer.png"))

    pool_explorer.run(check)
    assert not pool_explorer.console, f"console errors on {POOL_PAGE}: {pool_explorer.console}"
    assert not pool_explorer.outside, f"requests left the machine: {pool_explorer.outside}"


def test_pool_explorer_fits_a_phone_screen(site, chromium):  # noqa: F811
    """At 390 x 844, for every example, mode, window and stride the page does not scroll
    sideways and every grid is shown whole."""
    def settings(page):
        root = _pool_root(page)
        for number, mode, size, stride in _pool_combinations(page):
            _pool_select(page, number, mode, size, stride)
            yield f"example {number}, {mode}, window {size}, stride {stride}", root

    _check_phone_fit(site, chromium, POOL_PAGE, f"{POOL_SELECTOR} .cx-output td", settings)
