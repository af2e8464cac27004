"""Sphinx extension for the book build (``_config.yml``: ``sphinx.extra_extensions``).

Sphinx 7.4 adds every inline ``<script>`` that an extension registers after the builder starts
twice (once as ``_JavaScript(None)``, once as ``_JavaScript('')``, which do not compare equal).
The second ``const THEBE_JS_URL = ...`` from sphinx-thebe then throws "Identifier 'THEBE_JS_URL'
has already been declared" in every page's console. This drops the repeats from each page.
"""

from __future__ import annotations

__all__ = ["unique_scripts", "setup"]


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


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)  # after every other extension
    return {"parallel_read_safe": True, "parallel_write_safe": True}
