"""The package's floors: nothing imports from a floor above its own, and there is no import cycle.

Floors, bottom up (a module may import its own floor and the ones below):
    0 backend, validate, io, threads  arrays, checks, atomic files, BLAS thread pools
    1 nn                              layers, losses, optimizers, encoders
    2 cells, kernels                  the recurrent cells (Eq. 2.1-2.2) and their numba twins
    3 samples, constructions          SIRE / SUB draws; hand-built networks (Eq. 3.2)
    4 regularizers, invariance        R_SIRE (Eq. 4.4), R_SUB (Eq. 4.1); exhaustive gaps and bounds
    5 models, convnet, pointsets      set models (Eq. 1.1, 2.2); the CNN and point-cloud DeepSets
      data                            data sets
    6 train, checkpoint, interop,     the training loop; framework maps; how invariant a
      diagnostics                     trained model is
    7 experiments                     the paper's Section 6
    8 tools, crosscheck               gradcheck, bench, gpucheck, diagnose, testing; bring-your-own checks
The entry-point shims sire_ref/{bench,gradcheck,gpucheck,diagnose}.py sit at the top (floor 9).
Read from the source with ast (function-level imports included), so a lazy import that
climbs a floor is caught too.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "sire_ref"
FLOORS = {"backend": 0, "validate": 0, "io": 0, "threads": 0, "nn": 1, "cells": 2, "kernels": 2, "samples": 3,
          "constructions": 3, "regularizers": 4, "invariance": 4, "models": 5, "convnet": 5, "pointsets": 5, "data": 5, "train": 6, "checkpoint": 6, "diagnostics": 6,
          "interop": 6, "experiments": 7, "tools": 8, "crosscheck": 8, "bench": 9, "gradcheck": 9, "gpucheck": 9,
          "diagnose": 9}


def _top(module_path):
    """'sire_ref.cells.gru' -> 'cells' (the package-level name that decides the floor)."""
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


def test_no_import_climbs_a_floor():
    assert violations() == []


def test_the_check_sees_a_climbing_import():
    """Planted: pretend cells sat below nn (they import nn.activations.sigmoid)."""
    planted = dict(FLOORS, nn=3)
    assert any("sire_ref.cells.gru" in v and "nn" in v for v in violations(planted))


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
