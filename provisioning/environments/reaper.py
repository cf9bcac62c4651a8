"""A session's reaper: waits for the session's owner to exit, then removes what the session left.

Started detached (its own session, so a signal to the owner's process group does not reach it) by the first
process of a harness session that provisions a deployment. After a clean teardown there is nothing left and it
simply exits with its owner; after SIGKILL it is the only thing that can still clean up:

    python -m provisioning.environments.reaper OWNER_PID:START SESSION
"""

import os
import select
import subprocess
import sys
from pathlib import Path

from provisioning.environments.leftovers import remove_leftovers
from provisioning.environments.ownership import Owner


def wait_for_exit(owner: Owner) -> None:
    """Block until `owner` has exited, without polling: a pidfd becomes readable when its process ends."""
    try:
        pidfd = os.pidfd_open(owner.pid)
    except ProcessLookupError:
        return
    try:
        if owner.alive():  # the pid could have been reused before the pidfd was opened
            select.select([pidfd], [], [])
    finally:
        os.close(pidfd)


def start_reaper(owner: Owner, session: str, log: Path) -> int:
    """Start the reaper for `session` detached from this process; returns its pid."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "provisioning.environments.reaper", owner.token, session],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    return process.pid


def main(argv: list[str]) -> int:
    owner = Owner.parse(argv[0]) if argv else None
    if owner is None or len(argv) != 2:
        print("usage: python -m provisioning.environments.reaper OWNER_PID:START SESSION", file=sys.stderr)
        return 2
    wait_for_exit(owner)
    for leftover in remove_leftovers(argv[1]):
        print(f"reaper: removed {leftover}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
