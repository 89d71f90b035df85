"""The README's Python snippets run as written, in order, in one namespace (a later snippet may use
what an earlier one defined, as a reader following the README would)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_snippets_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3, "the README's snippets were not found"
    namespace = {}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as err:  # name the block, not just the line
            raise AssertionError(f"README python block {i} fails:\n{block}") from err
