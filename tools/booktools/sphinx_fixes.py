"""Sphinx extension for the book build (``_config.yml``: ``sphinx.extra_extensions``).

Two fixes for the pinned Sphinx 7.4 / pydata-sphinx-theme 0.17.1 / sphinx-book-theme 1.3.0:

* Repeated inline scripts. Sphinx 7.4 adds every inline ``<script>`` that an extension registers
  after the builder starts twice (once as ``_JavaScript(None)``, once as ``_JavaScript('')``,
  which do not compare equal). The second ``const THEBE_JS_URL = ...`` from sphinx-thebe then
  throws "Identifier 'THEBE_JS_URL' has already been declared" in every page's console. This
  drops the repeats from each page.
* Sidebar toggles that do nothing (pydata-sphinx-theme #2451, sphinx-book-theme #988). The
  pydata theme renders a top navbar holding a second, hidden pair of ☰ / page-contents
  toggles whenever ``navbar_persistent`` is non-empty (by default it holds the search field).
  Both themes' scripts bind their click handlers to the *first* ``.primary-toggle`` /
  ``.secondary-toggle`` in the page, which is that hidden pair, so the visible buttons in the
  article header do nothing: no table of contents on a phone, no collapsing sidebar on a
  laptop. With ``navbar_persistent = []`` (and the book theme's empty navbar_start, _center and
  _end) the navbar is not rendered at all, so the handlers land on the visible buttons. Search
  stays in the article header (and Ctrl+K). This is what sphinx-book-theme's pull request
  #1000 does in its templates; no release with the fix supports Sphinx 7 (sphinx-book-theme
  1.4.0 needs Sphinx >= 8.2, which jupyter-book 1 does not allow).
"""

from __future__ import annotations

__all__ = ["unique_scripts", "without_navbar", "setup"]


def _key(script) -> tuple:
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def unique_scripts(scripts: list) -> list:
    """``scripts`` without repeats (same file, or same inline body and attributes), in order."""
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    return unique


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    if isinstance(context.get("script_files"), list):
        context["script_files"] = unique_scripts(context["script_files"])


def without_navbar(theme_options: dict) -> dict:
    """``theme_options`` with an empty ``navbar_persistent`` unless the book sets one itself."""
    options = dict(theme_options or {})
    options.setdefault("navbar_persistent", [])
    return options


def _drop_navbar(app, config) -> None:
    config.html_theme_options = without_navbar(config.html_theme_options)


def setup(app):
    app.connect("config-inited", _drop_navbar)
    app.connect("html-page-context", _dedupe, priority=900)  # after every other extension
    return {"parallel_read_safe": True, "parallel_write_safe": True}
