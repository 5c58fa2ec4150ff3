"""The linter the test command runs: ruff, configured in pyproject.toml (line length 120; rules E, F, W)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ruff():
    """The ruff of this environment (the dev extra installs it), or a loud failure naming the fix."""
    beside_python = Path(sys.executable).with_name("ruff")
    found = str(beside_python) if beside_python.is_file() else shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed; install the dev extra (pip install -e '.[dev]')", pytrace=False)
    return found


def test_the_code_and_the_chapters_pass_the_linter():
    done = subprocess.run([_ruff(), "check", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_linter_fails_on_a_line_too_long(tmp_path):
    # the check above can fail: the project's configuration rejects a 121-character line
    (tmp_path / "long.py").write_text("x = " + repr("a" * 115) + "\n")
    done = subprocess.run([_ruff(), "check", "--config", str(ROOT / "pyproject.toml"), "--output-format", "concise",
                           str(tmp_path / "long.py")], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and "E501" in done.stdout, done.stdout + done.stderr
