"""Serving and checking the built HTML book (what ``tests/test_browser.py`` uses).

``serve(folder)`` serves a folder on 127.0.0.1 in a background thread; ``LinkChecker`` tells
whether a same-origin link resolves (HTTP 200, and its ``#anchor`` exists on the target page).
Standard library only, so the book's readers never need it installed.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

__all__ = ["serve", "ids_in", "LinkChecker"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def serve(folder: str | Path):
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port); yields the base URL ending in ``/``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


_ID = re.compile(r"""\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)


def ids_in(html: str) -> set[str]:
    """Every ``id``/``name`` attribute value in an HTML document (the anchors a link can target)."""
    return {a or b or c for a, b, c in _ID.findall(html)}


class LinkChecker:
    """Checks same-origin links against a server, fetching each target page once."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
        self.timeout = timeout
        self._pages: dict[str, tuple[int, str]] = {}

    def is_internal(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def fetch(self, url: str) -> tuple[int, str]:
        """(HTTP status, text) of ``url`` without its fragment; text is '' for non-HTML files."""
        url = urldefrag(url)[0]
        if url not in self._pages:
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as response:
                    body = response.read()
                    kind = response.headers.get_content_type()
                    text = body.decode("utf-8", "replace") if kind == "text/html" else ""
                    self._pages[url] = (response.status, text)
            except urllib.error.HTTPError as err:
                self._pages[url] = (err.code, "")
            except OSError as err:
                self._pages[url] = (0, str(err))
        return self._pages[url]

    def problem(self, url: str) -> str | None:
        """Why the internal link ``url`` is broken, or None when it resolves."""
        status, text = self.fetch(url)
        if status != 200:
            return f"HTTP {status or 'error'}"
        fragment = unquote(urldefrag(url)[1])
        if fragment and fragment not in ids_in(text):
            return f"no anchor #{fragment} on the target page"
        return None
