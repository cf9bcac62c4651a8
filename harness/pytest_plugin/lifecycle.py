"""The session's life against the outside world (a pytest plugin): SIGTERM, which a cancelled or timed-out CI job
sends, tears the deployment down as Ctrl-C does; and a session starts by removing what earlier sessions that died
with SIGKILL left behind (their reaper normally does that first; see provisioning/environments/leftovers.py)."""

import pytest

from provisioning.environments.leftovers import remove_leftovers
from provisioning.termination import handle_sigterm_as_interrupt


def pytest_configure(config: pytest.Config) -> None:
    handle_sigterm_as_interrupt()


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return  # the controller sweeps, once
    removed = remove_leftovers()
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for leftover in removed:
        if reporter is not None:
            reporter.write_line(f"garch-mlops: removed what a dead session left: {leftover}")
