"""The layering check fails on violations: each case plants one in a copy of the tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKER = REPO / "scripts" / "check_layering.py"
sys.path.insert(0, str(CHECKER.parent))
import check_layering  # noqa: E402


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for roots in check_layering.COMPONENTS.values():
        for root in roots:
            if (REPO / root).is_dir():
                shutil.copytree(REPO / root, tmp_path / root,
                                ignore=shutil.ignore_patterns("bin", "obj", "__pycache__"))
    return tmp_path


def check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), "--repo", str(repo)],
                          capture_output=True, text=True)


def plant(path: Path, include: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else ""
    path.write_text(f"#include {include}\n{old}")


def test_the_copy_passes(repo: Path) -> None:
    result = check(repo)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("source, include, report", [
    ("core/raft/src/raft.cc", '"synod/env/clock.h"', "raft includes synod/env/clock.h (env)"),
    ("core/env/include/synod/env/clock.h", '<synod/raft/types.h>',
     "env includes synod/raft/types.h (raft)"),
    ("core/storage/src/log_store.cc", '"../../transport/src/wire_codec.h"',
     "storage includes ../../transport/src/wire_codec.h (transport)"),
    ("core/transport/src/security.cc", '"records.h"', "transport includes records.h (storage)"),
    ("core/transport/src/security.cc", '"synod/node/node_host.h"',
     "transport includes synod/node/node_host.h (node)"),
    ("core/storage/src/log_store.cc", '"synod/wire.pb.h"', "(proto)"),
    ("core/node/src/node_host.cc", '"synod.h"', "node includes synod.h"),
    ("python/native/synod_module.cc", '"synod/node/node_host.h"',
     "bindings includes synod/node/node_host.h (node)"),
    ("bindings/synod.i", '"synod_status.h"', "bindings includes synod_status.h (capi)"),
    ("core/metrics/src/counters.cc", '"synod/raft/types.h"', "metrics includes"),
    ("core/system/src/system.cc", '"synod/storage/log_store.h"', "system includes"),
])
def test_a_planted_violation_fails(repo: Path, source: str, include: str, report: str) -> None:
    plant(repo / source, include)
    result = check(repo)
    assert result.returncode == 1
    assert report in result.stderr, result.stderr


def test_allowed_includes_pass(repo: Path) -> None:
    plant(repo / "core/system/src/system.cc", '"synod/raft/raw_node.h"')
    plant(repo / "core/node/src/node_host.cc", '"synod/env/thread_pool.h"')
    plant(repo / "bindings/synod.i", '"synod.h"')
    result = check(repo)
    assert result.returncode == 0, result.stderr
