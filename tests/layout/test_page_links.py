"""Every relative link and image of the README, the experiment pages (figures/*.md) and tests/README.md
points at a file of the repository: pages moved between folders keep no dead links."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "tests" / "README.md"] + sorted((ROOT / "figures").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def dead_links(page):
    targets = [t for t in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", t)]
    return [t for t in targets if not (page.parent / t.split("#")[0]).exists()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert dead_links(page) == []


def test_a_dead_link_is_seen(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "here.png").write_bytes(b"")
    page.write_text("![ok](here.png) [gone](missing.md) [web](https://example.org)")
    assert dead_links(page) == ["missing.md"]
