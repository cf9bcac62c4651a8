"""The harness as a pytest plugin: options and hooks, then fixtures by concern, each a plugin module of its own.

The project's root conftest.py loads it (`pytest_plugins = ["harness.pytest_plugin"]`); pytest rewrites the asserts
of every module listed here.
"""

pytest_plugins = [
    "harness.pytest_plugin.options",
    "harness.pytest_plugin.verify_mode",
    "harness.pytest_plugin.lifecycle",
    "harness.pytest_plugin.deployment",
    "harness.pytest_plugin.arm_emulator",
    "harness.pytest_plugin.monitoring",
    "harness.pytest_plugin.azurite",
]
