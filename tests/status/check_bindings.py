#!/usr/bin/python3
"""Fails when a binding's copy of the status codes drifts from the status table.

Each binding keeps its own, documented, idiomatic list of the C ABI's codes (an IntEnum
and exception classes in Python, an enum in .NET). This reads those lists from the
sources and compares every name -> code pair with core/node/status_table.json: a code
missing, extra, renamed or renumbered in any of them is reported. A new binding is one
more entry in MAPPINGS.

Java's status classes are generated from the table at build time (scripts/status_table.py
java); with --java DIR, the generated sources in DIR are checked as well: the Status enum,
and the exception class StatusExceptions makes for each code, with the status each class
declares.

Usage: check_bindings.py [--repo DIR] [--java DIR]   (--repo defaults to this checkout)
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


# --- Java: the generated io.synod sources ----------------------------------------------

def _java_text(path: Path) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)


def java_status_enum(directory: Path) -> Mapping:
    """Status members -> codes, from `public enum Status { NAME(code, "text"), ... }`."""
    text = _java_text(directory / "Status.java")
    body = re.search(r"\benum\s+Status\s*\{(.*?);", text, flags=re.S)
    if not body:
        raise ValueError(f"{directory}/Status.java: no enum Status")
    return {name: int(code) for name, code in
            re.findall(r"\b([A-Z_]+)\s*\(\s*(-?\d+)\s*,", body.group(1))}


def java_exceptions(directory: Path) -> Mapping:
    """Exception class -> code: the class StatusExceptions.of() makes for each code, which
    must also declare that code's status (super(Status.NAME, ...)) in its own source."""
    codes = java_status_enum(directory)
    made = re.findall(r"case\s+(-?\d+)\s*:\s*return\s+new\s+(\w+)\s*\(",
                      _java_text(directory / "StatusExceptions.java"))
    classes = {}
    for code, name in made:
        declared = re.search(r"super\(\s*Status\.(\w+)\s*,",
                             _java_text(directory / f"{name}.java"))
        if not declared or codes.get(declared.group(1)) != int(code):
            raise ValueError(f"{name}.java declares status "
                             f"{declared.group(1) if declared else '(none)'}, but "
                             f"StatusExceptions makes it for code {code}")
        classes[name] = int(code)
    return classes


# --- The table of checks ---------------------------------------------------------------

@dataclass(frozen=True)
class BindingMapping:
    label: str
    source: str  # relative to the repository root (Java: to the --java directory)
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


JAVA_MAPPINGS = [
    BindingMapping("Java io.synod.Status", "Status.java", java_status_enum,
                   lambda rows: {r.c_suffix: r.code for r in rows}),
    BindingMapping("Java exception classes", "StatusExceptions.java", java_exceptions,
                   lambda rows: {r.java: r.code for r in rows if r.java}),
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
    parser.add_argument("--java", type=Path,
                        help="the generated Java status sources (build/java/generated/...)")
    args = parser.parse_args(argv)
    table = args.repo / status_table.TABLE.relative_to(status_table.REPO)
    rows = status_table.load(table)
    # Each binding's sources live in the repository; Java's are generated into --java.
    checks = [(mapping, args.repo / mapping.source, mapping.source) for mapping in MAPPINGS]
    if args.java is not None:
        checks += [(mapping, args.java, args.java / mapping.source)
                   for mapping in JAVA_MAPPINGS]
    problems = []
    for mapping, location, shown in checks:
        try:
            actual = mapping.read(location)
        except (OSError, SyntaxError, ValueError) as e:
            problems.append(f"{mapping.label}: cannot read {shown}: {e}")
            continue
        problems += compare(f"{mapping.label} ({shown})", actual, mapping.expected(rows))
    if problems:
        print(f"The bindings' status codes differ from {table}:", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print(f"{len(checks)} binding mappings match {table} ({len(rows)} statuses)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
