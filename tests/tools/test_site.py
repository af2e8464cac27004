"""booktools.site: the little web server and link checker behind the browser test."""

import pytest

from booktools.site import LinkChecker, ids_in, serve


def test_ids_in_finds_every_anchor_form():
    html = """<h1 id="top">x</h1><a name='old'></a><div id=bare class="c"></div><p data-id="no">"""
    assert ids_in(html) == {"top", "old", "bare"}


def test_serve_and_check_links(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text('<p id="here">home</p>', encoding="utf-8")
    (tmp_path / "sub" / "page.html").write_text('<h2 id="sec-1">s</h2>', encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    with serve(tmp_path) as base:
        assert base.startswith("http://127.0.0.1:") and base.endswith("/")
        links = LinkChecker(base)
        assert links.is_internal(base + "sub/page.html")
        assert not links.is_internal("https://example.org/sub/page.html")
        assert links.problem(base + "sub/page.html#sec-1") is None
        assert links.problem(base + "logo.png") is None
        assert links.problem(base + "#here") is None
        assert links.problem(base + "sub/page.html#missing") == "no anchor #missing on the target page"
        assert links.problem(base + "nothing.html") == "HTTP 404"


def test_serve_refuses_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        with serve(tmp_path / "absent"):
            pass


def test_sphinx_fixes_drops_repeated_scripts():
    from sphinx.builders.html._assets import _JavaScript

    from booktools.sphinx_fixes import unique_scripts

    body = {"body": "const THEBE_JS_URL = 1"}
    scripts = [_JavaScript("a.js"), _JavaScript(None, **body), _JavaScript("b.js"),
               _JavaScript("", **body), _JavaScript("a.js"), _JavaScript(None, body="other")]
    assert [(s.filename, s.attributes.get("body")) for s in unique_scripts(scripts)] == [
        ("a.js", None), (None, "const THEBE_JS_URL = 1"), ("b.js", None), (None, "other")]
