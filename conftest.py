"""The suites' options, hooks and fixtures all live in the harness (harness/pytest_plugin), loaded from here."""

pytest_plugins = ["harness.pytest_plugin"]
