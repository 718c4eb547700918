"""`.ci/run` passes its arguments on to the test command, as the README promises."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUBS = {
    "pg_isready": "exit 0",
    "redis-cli": 'echo "redis-cli $*" >> "$CI_RUN_LOG"',
    "chromium": "exit 0",
}


def test_ci_run_passes_its_arguments_to_the_test_command(tmp_path: Path) -> None:
    """A copy of .ci/run beside a stand-in scripts/test.sh, with the services it checks
    answered by stand-ins on PATH: what reaches test.sh is what .ci/run was given."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "test.sh").write_text(
        'printf "test.sh %s|" "$@" >> "$CI_RUN_LOG"; echo "db=$DATABASE_URL" >> "$CI_RUN_LOG"\n'
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        stub = bin_dir / name
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    log = tmp_path / "log"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CI_RUN_LOG": str(log),
        "CI_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ci_run_test",
        "CI_REDIS_URL": "redis://127.0.0.1:6379/15",
    }

    subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run"), "-k", "webhook and not slow", "-x"],
        env=env, check=True, timeout=30,
    )  # fmt: skip

    calls = log.read_text()
    assert "test.sh -k|test.sh webhook and not slow|test.sh -x|" in calls
    assert "db=postgres://postgres@127.0.0.1:5432/ci_run_test" in calls
    assert "redis-cli -u redis://127.0.0.1:6379/15 flushdb" in calls  # its own db only
