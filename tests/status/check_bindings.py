#!/usr/bin/python3
"""Fails when a binding's copy of the status codes drifts from the status table.

Each binding keeps its own, documented, idiomatic list of the C ABI's codes (an IntEnum
and exception classes in Python, an enum in .NET). This reads those lists from the
sources and compares every name -> code pair with core/node/status_table.json: a code
missing, extra, renamed or renumbered in any of them is reported. A new binding is one
more entry in MAPPINGS (for Java: the enum parsed from its source, and the table's java
column).

Usage: check_bindings.py [--repo DIR]   (DIR defaults to this checkout)
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import status_table  # noqa: E402

Mapping = dict[str, int]


# --- Python: python/src/synod/_errors.py ------------------------------------------------

def _int_value(node: ast.expr) -> int | None:
    """The value of an integer literal, negative ones included."""
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return value if isinstance(value, int) else None


def _python_module(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def python_status_enum(path: Path) -> Mapping:
    """Status members -> values, from `class Status(enum.IntEnum)`."""
    for node in _python_module(path).body:
        if isinstance(node, ast.ClassDef) and node.name == "Status":
            return {target.id: _int_value(stmt.value)
                    for stmt in node.body if isinstance(stmt, ast.Assign)
                    for target in stmt.targets if isinstance(target, ast.Name)}
    raise ValueError(f"{path}: no class Status")


def python_error_classes(path: Path) -> Mapping:
    """Exception class -> code, from each class's `status = Status.NAME`."""
    codes = python_status_enum(path)
    classes = {}
    for node in _python_module(path).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt in node.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and \
                    isinstance(stmt.value, ast.Attribute) and \
                    isinstance(stmt.value.value, ast.Name) and \
                    stmt.value.value.id == "Status":
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == "status" for t in targets):
                    classes[node.name] = codes.get(stmt.value.attr)
    # SynodError's default (INTERNAL) is a fallback for unknown codes, not a mapping.
    classes.pop("SynodError", None)
    return classes


def python_error_from_status(path: Path) -> Mapping:
    """The classes error_from_status() can raise: those listed in the _BY_STATUS table."""
    classes = python_error_classes(path)
    for node in _python_module(path).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_BY_STATUS" for t in targets):
                names = [n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)
                         and n.id in classes]
                return {name: classes[name] for name in names}
    raise ValueError(f"{path}: no _BY_STATUS")


# --- .NET: dotnet/Synod/SynodStatus.cs -------------------------------------------------

def dotnet_enum(path: Path) -> Mapping:
    """SynodStatus members -> values, from `public enum SynodStatus { Name = -5, ... }`."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    body = re.search(r"\benum\s+SynodStatus\b[^{]*\{(.*?)\}", text, flags=re.S)
    if not body:
        raise ValueError(f"{path}: no enum SynodStatus")
    members = {}
    for item in filter(None, (part.strip() for part in body.group(1).split(","))):
        match = re.fullmatch(r"(\w+)\s*=\s*(-?\d+)", item)
        if not match:  # an implicit value would hide a renumbering: refuse it
            raise ValueError(f"{path}: SynodStatus member without an explicit value: {item!r}")
        members[match.group(1)] = int(match.group(2))
    return members


# --- The table of checks ---------------------------------------------------------------

@dataclass(frozen=True)
class BindingMapping:
    label: str
    source: str  # relative to the repository root
    read: Callable[[Path], Mapping]
    expected: Callable[[list[status_table.Row]], Mapping]


MAPPINGS = [
    BindingMapping("Python synod.Status", "python/src/synod/_errors.py", python_status_enum,
                   lambda rows: {r.c_suffix: r.code for r in rows}),
    BindingMapping("Python exception classes", "python/src/synod/_errors.py",
                   python_error_classes,
                   lambda rows: {r.python: r.code for r in rows if r.python}),
    BindingMapping("Python error_from_status (_BY_STATUS)", "python/src/synod/_errors.py",
                   python_error_from_status,
                   lambda rows: {r.python: r.code for r in rows if r.python}),
    BindingMapping(".NET SynodStatus", "dotnet/Synod/SynodStatus.cs", dotnet_enum,
                   lambda rows: {r.dotnet: r.code for r in rows}),
]


def compare(label: str, actual: Mapping, expected: Mapping) -> list[str]:
    problems = []
    for name in sorted(expected.keys() - actual.keys()):
        problems.append(f"{label}: {name} = {expected[name]} is missing")
    for name in sorted(actual.keys() - expected.keys()):
        problems.append(f"{label}: {name} = {actual[name]} is not in the table")
    for name in sorted(expected.keys() & actual.keys()):
        if actual[name] != expected[name]:
            problems.append(f"{label}: {name} is {actual[name]}, the table says {expected[name]}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=status_table.REPO)
    args = parser.parse_args(argv)
    table = args.repo / status_table.TABLE.relative_to(status_table.REPO)
    rows = status_table.load(table)
    problems = []
    for mapping in MAPPINGS:
        try:
            actual = mapping.read(args.repo / mapping.source)
        except (OSError, SyntaxError, ValueError) as e:
            problems.append(f"{mapping.label}: cannot read {mapping.source}: {e}")
            continue
        problems += compare(f"{mapping.label} ({mapping.source})", actual,
                            mapping.expected(rows))
    if problems:
        print(f"The bindings' status codes differ from {table}:", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print(f"{len(MAPPINGS)} binding mappings match {table} ({len(rows)} statuses)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
