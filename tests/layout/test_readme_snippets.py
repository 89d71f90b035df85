"""The Python snippets of every page a reader follows run as written: README.md, the experiment pages
(figures/*.md), tests/README.md and the package docstrings (sire_ref/**/__init__.py, proofs/__init__.py).
A page's snippets run in order, in one namespace (a later snippet may use what an earlier one defined,
as a reader following the page would). A snippet whose first line is `# needs: a, b` runs only where
those modules import; otherwise the test ends skipped, naming them (never a pass)."""
import ast
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ([ROOT / "README.md", ROOT / "tests" / "README.md"] + sorted((ROOT / "figures").glob("*.md"))
         + sorted((ROOT / "sire_ref").rglob("__init__.py")) + [ROOT / "proofs" / "__init__.py"])


def text_of(page):
    """A page's prose: the file itself, or a package's docstring."""
    return ast.get_docstring(ast.parse(page.read_text())) or "" if page.suffix == ".py" else page.read_text()


def snippets(page):
    return re.findall(r"```python\n(.*?)```", text_of(page), flags=re.S)


def test_the_snippets_are_found():
    assert len(snippets(ROOT / "sire_ref" / "core" / "__init__.py")) >= 2
    assert len(snippets(ROOT / "sire_ref" / "tools" / "__init__.py")) >= 3


@pytest.mark.parametrize("page", [p for p in PAGES if snippets(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_python_snippets_run(page):
    namespace, missing = {}, set()
    for i, block in enumerate(snippets(page)):
        needs = re.match(r"# needs: (.*)\n", block)
        absent = [m.strip() for m in needs.group(1).split(",")
                  if importlib.util.find_spec(m.strip()) is None] if needs else []
        if absent:
            missing.update(absent)
            continue
        try:
            exec(compile(block, f"{page.name} python block {i}", "exec"), namespace)
        except Exception as err:  # name the block, not just the line
            raise AssertionError(f"{page.relative_to(ROOT)} python block {i} fails:\n{block}") from err
    if missing:
        pytest.skip(f"snippets of {page.relative_to(ROOT)} that need {sorted(missing)} were not run: not installed")
