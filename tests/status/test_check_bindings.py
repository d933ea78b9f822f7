"""The status checks fail on drift: each case plants one in a copy of the sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKER = REPO / "tests" / "status" / "check_bindings.py"
GENERATOR = REPO / "scripts" / "status_table.py"
SOURCES = ["core/node/status_table.json", "python/src/synod/_errors.py",
           "dotnet/Synod/SynodStatus.cs", "capi/include/synod_status.h"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for source in SOURCES:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / source, tmp_path / source)
    return tmp_path


def check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), "--repo", str(repo)],
                          capture_output=True, text=True)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_copy_passes(repo: Path) -> None:
    result = check(repo)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("source, old, new, report", [
    ("python/src/synod/_errors.py", "QUEUE_FULL = -6", "QUEUE_FULL = -7",
     "QUEUE_FULL is -7, the table says -6"),
    ("python/src/synod/_errors.py", "    CONF_CHANGE_PENDING = -16\n", "",
     "CONF_CHANGE_PENDING = -16 is missing"),
    ("python/src/synod/_errors.py", "status = Status.DROPPED", "status = Status.TIMEOUT",
     "DroppedError is -7, the table says -10"),
    ("python/src/synod/_errors.py", "InternalError, ConfChangePendingError,",
     "InternalError,", "(_BY_STATUS) (python/src/synod/_errors.py): ConfChangePendingError"),
    ("dotnet/Synod/SynodStatus.cs", "NoMemory = -14", "OutOfMemory = -14",
     "OutOfMemory = -14 is not in the table"),
    ("dotnet/Synod/SynodStatus.cs", "Internal = -15,", "Internal,",
     "without an explicit value"),
    ("core/node/status_table.json", '"code": -16', '"code": -99',
     "CONF_CHANGE_PENDING is -16, the table says -99"),
])
def test_drift_is_reported(repo: Path, source: str, old: str, new: str, report: str) -> None:
    edit(repo / source, old, new)
    result = check(repo)
    assert result.returncode == 1
    assert report in result.stderr


def test_a_stale_c_header_is_reported(repo: Path) -> None:
    table = repo / "core/node/status_table.json"
    header = repo / "capi/include/synod_status.h"
    command = [sys.executable, str(GENERATOR), "check-c-header", str(header),
               "--table", str(table)]
    assert subprocess.run(command, capture_output=True).returncode == 0
    edit(table, "retry after results arrive.", "retry later.")
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1
    assert "is stale" in result.stderr


def test_the_table_refuses_a_repeated_code(repo: Path) -> None:
    table = repo / "core/node/status_table.json"
    edit(table, '"code": -16', '"code": -15')
    result = subprocess.run([sys.executable, str(GENERATOR), "c-header",
                             str(repo / "out.h"), "--table", str(table)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "code values repeated: -15" in result.stderr


@pytest.fixture
def java(repo: Path) -> Path:
    """The Java status sources, generated from the copied table as the build does."""
    directory = repo / "java-generated"
    subprocess.run([sys.executable, str(GENERATOR), "java", str(directory),
                    "--table", str(repo / "core/node/status_table.json")], check=True)
    return directory


def check_java(repo: Path, java: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), "--repo", str(repo), "--java", str(java)],
                          capture_output=True, text=True)


def test_the_generated_java_passes(repo: Path, java: Path) -> None:
    result = check_java(repo, java)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("source, old, new, report", [
    ("Status.java", "QUEUE_FULL(-6,", "QUEUE_FULL(-7,", "QUEUE_FULL is -7, the table says -6"),
    ("StatusExceptions.java", "case -10: return new DroppedException(message);\n", "",
     "DroppedException = -10 is missing"),
    ("StatusExceptions.java", "case -3: return new NoLeaderException(",
     "case -3: return new NotLeaderException(", "NotLeaderException.java declares status"),
    ("DroppedException.java", "super(Status.DROPPED,", "super(Status.TIMEOUT,",
     "DroppedException.java declares status TIMEOUT"),
])
def test_java_drift_is_reported(repo: Path, java: Path, source: str, old: str, new: str,
                                report: str) -> None:
    edit(java / source, old, new)
    result = check_java(repo, java)
    assert result.returncode == 1
    assert report in result.stderr


def test_stale_generated_java_is_reported(repo: Path, java: Path) -> None:
    # The table renamed a class after the sources were generated.
    table = repo / "core/node/status_table.json"
    edit(table, '"java": "ConfChangePendingException"', '"java": "ChangePendingException"')
    result = check_java(repo, java)
    assert result.returncode == 1
    assert "ChangePendingException = -16 is missing" in result.stderr
