"""`python -m service --help`: every setting the service reads from its environment, its default and what it does,
rendered from the Settings fields themselves so the help cannot drift from what is read."""

import textwrap

from pydantic import SecretStr
from pydantic_settings import BaseSettings

USAGE = """usage: python -m service [--help]

Serves the GARCH volatility API with uvicorn; every setting comes from an environment variable:"""
WIDTH = 118


def describe_default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    return str(value)


def settings_help(settings: type[BaseSettings]) -> str:
    """One line per setting: variable, default, description; the defaults computed here (WEB_CONCURRENCY's is this
    machine's CPU count)."""
    rows = [
        (name.upper(), describe_default(field.get_default(call_default_factory=True)), field.description or "")
        for name, field in settings.model_fields.items()
    ]
    lines = [
        f"  {name} (default: {default})\n"
        + textwrap.fill(text, WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6)
        for name, default, text in rows
    ]
    return "\n".join([USAGE, *lines, "", "Once up: GET /health, GET /docs (the API, interactive), GET /openapi.json."])
