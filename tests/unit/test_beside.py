"""scripts/beside.sh, how make test puts another Python's unit suite beside a live stage: the two run at the same
time, either one failing fails the whole, and Ctrl-C or SIGTERM stops both rather than leaving one running."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.waiting import wait_until

pytestmark = pytest.mark.unit

BESIDE = Path(__file__).resolve().parents[2] / "scripts" / "beside.sh"


def wait_for_file(path: Path) -> str:
    """A shell snippet: wait up to 20 s for path to exist, and fail if it never does."""
    return f"for i in $(seq 200); do [ -e {path} ] && exit 0; sleep 0.1; done; exit 9"


def is_running(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def run(beside: str, *main: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(BESIDE), beside, *main], capture_output=True, text=True, timeout=60)


def test_both_commands_run_at_the_same_time(tmp_path: Path) -> None:
    # Each waits for a mark the other leaves: run one after the other, the first would give up after 20 s.
    main_started, beside_started = tmp_path / "main", tmp_path / "beside"
    result = run(
        f"touch {beside_started}; {wait_for_file(main_started)}",
        "bash",
        "-c",
        f"touch {main_started}; {wait_for_file(beside_started)}",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("beside_exit", "main_exit", "expected"),
    [(0, 0, 0), (3, 0, 3), (0, 4, 4), (3, 4, 4)],
)
def test_the_exit_code_is_the_main_commands_or_else_the_other_ones(
    beside_exit: int, main_exit: int, expected: int
) -> None:
    result = run(f"sleep 0.2; exit {beside_exit}", "bash", "-c", f"exit {main_exit}")
    assert result.returncode == expected
    failure_line = f"beside.sh: 'sleep 0.2; exit {beside_exit}' failed (exit {beside_exit})"
    assert (failure_line in result.stderr.splitlines()) == (beside_exit != 0)


def test_with_nothing_beside_it_runs_the_main_command_alone() -> None:
    result = run("", "bash", "-c", "echo alone; exit 5")
    assert (result.returncode, result.stdout) == (5, "alone\n")


def test_no_main_command_is_a_one_line_error() -> None:
    result = run("true")
    assert (result.returncode, result.stderr) == (2, "beside.sh: no main command given\n")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_stops_both_commands(tmp_path: Path, signum: signal.Signals) -> None:
    # Each records its pid, then sleeps far longer than the test waits; an interrupt must end both.
    sleeper = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"
    pid_files = [tmp_path / "beside.pid", tmp_path / "main.pid"]
    script = subprocess.Popen(
        [
            "bash",
            str(BESIDE),
            f'exec {sys.executable} -c "{sleeper}" {pid_files[0]}',
            sys.executable,
            "-c",
            sleeper,
            str(pid_files[1]),
        ],
        start_new_session=True,  # as make runs it: SIGINT not ignored, as it is for a background job of a script
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(
        lambda: all(path.exists() and path.read_text() for path in pid_files),
        what="both commands to record their pids", where=str(tmp_path), timeout_s=20,
    )  # fmt: skip
    pids = [int(path.read_text()) for path in pid_files]

    os.kill(script.pid, signum)
    assert script.wait(timeout=20) != 0
    wait_until(
        lambda: not any(is_running(pid) for pid in pids), what=f"processes {pids} to end after the interrupt",
        timeout_s=10,
    )  # fmt: skip
