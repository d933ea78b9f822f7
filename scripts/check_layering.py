#!/usr/bin/python3
"""Checks each component's #includes against the layering of the design.

The design ("Code organisation") says: env and raft include nothing of ours; system ->
raft; storage -> raft; transport -> raft, env; metrics -> nothing; node -> all of those;
capi -> node; bindings -> synod.h only. ALLOWED below is that list, with what the
design does not name spelled out. Every #include (and SWIG %include) of every source
file under a component is mapped to the component it names; an include of ours that
is not allowed fails the check, naming the file and line.

Usage: check_layering.py [--repo DIR]   (DIR defaults to this checkout)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Component -> the directories that hold it, relative to the repository root.
COMPONENTS = {
    "env": ["core/env"],
    "raft": ["core/raft"],  # with core/raft/testing, the in-memory cluster of the tests
    "system": ["core/system"],
    "storage": ["core/storage"],
    "transport": ["core/transport"],
    "metrics": ["core/metrics"],
    "proto": ["core/proto"],
    "node": ["core/node"],
    "capi": ["capi"],
    # Native code of the language bindings: the SWIG interface, the Python module, and
    # whatever native parts Java and .NET grow (.NET has none today: it calls libsynod
    # through LibraryImport).
    "bindings": ["bindings", "python/native", "java", "dotnet"],
}

# Component -> the components it may include. "synod.h" stands for the C ABI's one
# public header, the only thing of ours a binding may include.
ALLOWED = {
    "env": set(),
    "raft": set(),
    "system": {"raft"},
    "storage": {"raft"},
    # proto is not named by the design: the wire messages it generates are used by the
    # transport alone (the codec and both network transports), as today.
    "transport": {"raft", "env", "proto"},
    "metrics": set(),
    "proto": set(),
    "node": {"env", "raft", "system", "storage", "transport", "metrics"},
    "capi": {"node"},
    "bindings": {"synod.h"},
}

# Includes allowed for now, each with the reason it will go. The check fails once one is
# no longer used, so that the list only ever shrinks.
TEMPORARY: dict[str, set[str]] = {}

SOURCE_SUFFIXES = {".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".i"}
INCLUDE = re.compile(r'^\s*[#%]\s*include\s*([<"])([^>"]+)[>"]', re.M)
PROTO_HEADER = re.compile(r"synod/[\w/.]+\.pb\.h")


def component_of_path(path: Path, repo: Path) -> str | None:
    relative = path.resolve().relative_to(repo.resolve()).as_posix()
    for component, roots in COMPONENTS.items():
        if any(relative == root or relative.startswith(root + "/") for root in roots):
            return component
    return None


class Layering:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        # Every include directory of ours: an include that resolves in one of them names
        # that directory's component, even one written without the synod/ prefix.
        self.include_dirs = sorted(
            p for roots in COMPONENTS.values() for root in roots
            for p in (repo / root).glob("**/") if p.name in ("include", "src"))

    def target(self, source: Path, bracket: str, name: str) -> str | None:
        """The component `name` names, "synod.h" for the public C header, or None
        when the include is not ours."""
        if name == "synod.h":
            return "synod.h"
        if PROTO_HEADER.fullmatch(name):
            return "proto"
        match = re.match(r"synod/(\w+)/", name)
        if match and match.group(1) in COMPONENTS:
            return match.group(1)
        if bracket == '"' and (source.parent / name).is_file():
            return component_of_path(source.parent / name, self.repo)
        for directory in self.include_dirs:
            if (directory / name).is_file():
                return component_of_path(directory / name, self.repo)
        if name.startswith("synod"):
            raise ValueError(f"{name} looks like ours but names no component")
        return None  # the standard library or a third-party package

    def sources(self):
        for component, roots in COMPONENTS.items():
            for root in roots:
                for path in sorted((self.repo / root).rglob("*")):
                    if path.suffix in SOURCE_SUFFIXES and path.is_file():
                        yield component, path

    def check(self) -> list[str]:
        problems = []
        used_temporary: dict[str, set[str]] = {c: set() for c in TEMPORARY}
        for component, path in self.sources():
            text = path.read_text(encoding="utf-8", errors="replace")
            for match in INCLUDE.finditer(text):
                bracket, name = match.groups()
                line = text.count("\n", 0, match.start()) + 1
                where = f"{path.relative_to(self.repo)}:{line}"
                try:
                    target = self.target(path, bracket, name)
                except ValueError as e:
                    problems.append(f"{where}: {e}")
                    continue
                if target is None or target == component:
                    continue
                if target == "synod.h" and component == "capi":
                    continue  # its own public header
                if target in ALLOWED[component]:
                    continue
                if target in TEMPORARY.get(component, set()):
                    used_temporary[component].add(target)
                    continue
                allowed = ", ".join(sorted(ALLOWED[component])) or "nothing of ours"
                problems.append(f"{where}: {component} includes {name} ({target}); "
                                f"{component} may include {allowed}")
        for component, targets in TEMPORARY.items():
            for target in sorted(targets - used_temporary[component]):
                problems.append(f"{component} no longer includes {target}: remove it from "
                                f"TEMPORARY in {Path(__file__).name}")
        return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    args = parser.parse_args(argv)
    layering = Layering(args.repo.resolve())
    problems = layering.check()
    if problems:
        print("Layering violations (see the design's \"Code organisation\"):", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    count = sum(1 for _ in layering.sources())
    print(f"{count} source files follow the layering")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
