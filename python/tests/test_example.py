"""examples/python runs to completion and tells its story."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def test_job_scheduler_example_runs_to_completion():
    run = subprocess.run([sys.executable, str(EXAMPLES / "job_scheduler.py")],
                         capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert run.returncode == 0, run.stdout + run.stderr
    assert "isolating node" in run.stdout
    assert "rejoined empty and caught up by snapshot" in run.stdout
    assert "all jobs done" in run.stdout
    assert run.stdout.count("ran by node") == 32
