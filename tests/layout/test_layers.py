"""The package's floors are its folders: nothing imports from a folder above its own, and there is
no import cycle.

Floors, bottom up (a module may import its own folder and the ones below; the floor of a module is
the folder it sits in, directly under sire_ref/):
    0 base         where arrays live, argument checks, atomic files, BLAS thread pools
    1 nn, data     layers, losses, optimizers; data sets
    2 kernels      the numba twins of the cells (loaded by the cells on first use)
    3 core         the paper's math: cells (Eq. 2.1-2.2), samplers, R_SUB / R_SIRE (Eq. 4.1, 4.4),
                   the parity construction (Eq. 3.2), invariance checks (Theorem 5, Lemma 6)
    4 models       the recurrent set model, DeepSets, the point-set models, the CNN
    5 training     the loop, checkpoints, diagnostics of a trained model
    6 experiments  the paper's Section 6, and runner/ (command line, sweeps, reports, ledger)
    7 tools        gradcheck, bench, gpucheck, diagnose, testing, interop, crosscheck
The top of sire_ref/ holds folders only, plus __init__.py and __main__.py (`python -m sire_ref <command>`,
above every floor). Imports are read from the source with ast (function-level imports included), so a
lazy import that climbs a floor is caught too.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "sire_ref"
FLOORS = {"base": 0, "nn": 1, "data": 1, "kernels": 2, "core": 3, "models": 4, "training": 5,
          "experiments": 6, "tools": 7, "__main__": 8}


def _top(module_path):
    """'sire_ref.core.cells.gru' -> 'cells' (the package-level name that decides the floor)."""
    parts = module_path.split(".")
    return parts[1] if len(parts) > 1 else None


def _module_name(path):
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts), parts[-1] == "__init__"


def imports_of(path):
    """Absolute sire_ref module names imported anywhere in the file at `path`."""
    name, is_package = _module_name(path)
    package = name if is_package else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sire_ref"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("sire_ref"):
                names = [f"{target}.{a.name}" for a in node.names] if not node.module or target == "sire_ref" \
                    else [target]
                found.update(names)
    return found


def _edges():
    for path in sorted(ROOT.rglob("*.py")):
        yield _module_name(path)[0], path, imports_of(path)


def violations(floors=FLOORS):
    out = []
    for name, path, imported in _edges():
        own = _top(name)
        if own is None:                       # sire_ref/__init__.py
            continue
        for target in imported:
            other = _top(target)
            if other is not None and floors[other] > floors[own]:
                out.append(f"{name} (floor {floors[own]}) imports {target} (floor {floors[other]})")
    return out


def test_every_module_has_a_floor():
    tops = {_top(name) for name, _, _ in _edges()} - {None}
    assert tops <= set(FLOORS), f"modules without a floor: {sorted(tops - set(FLOORS))}"


def test_the_top_holds_folders_only():
    loose = sorted(p.name for p in ROOT.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], f"modules at the top of sire_ref/ (each belongs in a floor's folder): {loose}"
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(FLOORS) - {"__main__"}, f"folders without a floor: {sorted(folders - set(FLOORS))}"


@pytest.mark.parametrize("folder", sorted(set(FLOORS) - {"__main__"}))
def test_each_floor_says_its_purpose(folder):
    doc = ast.get_docstring(ast.parse((ROOT / folder / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 5, f"sire_ref/{folder}/__init__.py needs a docstring saying what the floor holds"


def test_no_import_climbs_a_floor():
    assert violations() == []


def test_the_check_sees_a_climbing_import():
    """Planted: pretend core sat below nn (the cells import nn.activations.sigmoid)."""
    planted = dict(FLOORS, nn=4)
    assert any("sire_ref.core.cells.gru" in v and "nn" in v for v in violations(planted))


def test_no_import_cycle_between_modules():
    graph = {name: {t for t in imported} for name, _, imported in _edges()}
    names = set(graph)
    # A target "pkg.mod.func" counts as an edge to the longest known module prefix.
    def resolve(t):
        while t and t not in names:
            t = t.rsplit(".", 1)[0] if "." in t else ""
        return t
    graph = {n: {resolve(t) for t in ts} - {"", n} for n, ts in graph.items()}
    # Packages re-export their children; an __init__ importing its own submodule is not a cycle.
    graph = {n: {t for t in ts if not t.startswith(n + ".")} for n, ts in graph.items()}
    state = {}

    def visit(n, stack):
        state[n] = "open"
        for t in graph[n]:
            if state.get(t) == "open":
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t, stack + [t])
        state[n] = "done"

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])


def test_version_is_the_one_in_pyproject():
    import re

    import sire_ref
    pyproject = (ROOT.parent / "pyproject.toml").read_text()
    assert sire_ref.__version__ == re.search(r'^version = "(.*)"', pyproject, flags=re.M).group(1)
