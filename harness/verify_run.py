"""A verify run as a user starts one (`pytest -m "contract or integration" --api-url URL [--api-key KEY]`), in a
subprocess with reports and temporary directories of its own, for the tests that check what such a run does."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300.0
SELECTION = "contract or integration"


def run_verify(
    url: str, api_key: str | None, directory: Path, *, selection: str = SELECTION
) -> subprocess.CompletedProcess[str]:
    """Run it to the end; its reports go to `directory`/reports (read them there), its output is returned."""
    # --option=value throughout: before the plugin's options are known, a separate value looks like a path to
    # pytest and can move its rootdir away from the project's.
    command = [sys.executable, "-m", "pytest", "-m", selection, f"--api-url={url}"]
    command += [f"--api-key={api_key}"] if api_key else []
    command += ["-p", "no:cacheprovider", "-q", "-rs", f"--reports-dir={directory / 'reports'}"]
    command += [f"--basetemp={directory / 'tmp'}"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
