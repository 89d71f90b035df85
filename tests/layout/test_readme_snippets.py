"""The README's Python snippets run as written, in order, in one namespace (a later snippet may use
what an earlier one defined, as a reader following the README would). A snippet whose first line is
`# needs: a, b` runs only where those modules import; otherwise the test ends skipped, naming them
(never a pass)."""
import importlib.util
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_snippets_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3, "the README's snippets were not found"
    namespace, missing = {}, set()
    for i, block in enumerate(blocks):
        needs = re.match(r"# needs: (.*)\n", block)
        absent = [m.strip() for m in needs.group(1).split(",")
                  if importlib.util.find_spec(m.strip()) is None] if needs else []
        if absent:
            missing.update(absent)
            continue
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as err:  # name the block, not just the line
            raise AssertionError(f"README python block {i} fails:\n{block}") from err
    if missing:
        pytest.skip(f"README snippets that need {sorted(missing)} were not run: not installed")
