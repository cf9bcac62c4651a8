"""External tools the selected tests need, checked once collection is done and before the first test runs.

A suite that needs a program pip does not install (Azurite from npm, Prometheus from Debian) says so in one line
naming the command that installs it, instead of failing test by test deep in the run. Each plugin that runs such a
tool declares it with `require` in its `pytest_configure`; only tools that a selected test needs are checked.

Under xdist the controller does not collect: each worker (all collect the same tests) reports the line as a
collection error and hands the controller no tests, so nothing runs and the line is shown once.
"""

import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class RequiredTool:
    """A program some tests run: whether it is here, and the command that installs it."""

    name: str
    is_installed: Callable[[], bool]
    install: str
    needed_by: Callable[[pytest.Item], bool]


TOOLS_KEY = pytest.StashKey[list[RequiredTool]]()


def require(config: pytest.Config, tool: RequiredTool) -> None:
    """Declare a tool for the pre-check (from a plugin's pytest_configure)."""
    config.stash.setdefault(TOOLS_KEY, []).append(tool)


def requests_fixture(item: pytest.Item, name: str) -> bool:
    """Whether `item` uses fixture `name`: in its closure, or asked for by name from a fixture it uses.

    A fixture that needs another only for some of its params (`request.getfixturevalue("azurite")` for its "blob"
    param) does not put it in the closure; its code names it, which is what is looked for here. Such a test counts
    for every param: over-asking only matters when the tool is missing, and then installing it is the fix anyway.
    """
    if name in getattr(item, "fixturenames", ()):
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        name in getattr(getattr(definition.func, "__code__", None), "co_consts", ())
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )


def module_uses(item: pytest.Item, *objects: object) -> bool:
    """Whether the test's module imports one of `objects` (for tests that run a tool through a function call)."""
    module = getattr(item, "module", None)
    if not isinstance(module, types.ModuleType):
        return False
    return any(value is target for value in vars(module).values() for target in objects)


def missing_tools(items: Sequence[pytest.Item], tools: Sequence[RequiredTool]) -> list[RequiredTool]:
    """Tools that a selected test needs and that are not installed, each once."""
    return [tool for tool in tools if any(tool.needed_by(item) for item in items) and not tool.is_installed()]


def message(missing: Sequence[RequiredTool]) -> str:
    listed = "; ".join(f"{tool.name} is not installed (install it: {tool.install})" for tool in missing)
    return f"the selected tests need tools that are missing: {listed}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """After `-m`/`-k` deselection: stop the session before the first test if a tool it needs is missing."""
    declared: list[RequiredTool] = session.config.stash.get(TOOLS_KEY, [])
    missing = missing_tools(session.items, declared)
    if not missing:
        return
    if not hasattr(session.config, "workerinput"):  # not an xdist worker
        raise pytest.UsageError(message(missing))
    # Before xdist's own hook sends the controller this worker's tests: there are none to run.
    session.items.clear()
    report = pytest.CollectReport(nodeid="", outcome="failed", longrepr=message(missing), result=[])
    session.config.hook.pytest_collectreport(report=report)
