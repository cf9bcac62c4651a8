"""Where a secret value must never be: a plain environment value in an ARM body, or any file a run leaves."""

import re
from collections.abc import Iterable
from pathlib import Path

# Names the service or the platform treat as secrets, and values that are credentials whatever their name.
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING)$", re.I)
SECRET_VALUE = re.compile(r"(AccountKey=|InstrumentationKey=|SharedAccessSignature=|[?&]sig=)", re.I)
MAX_FILE_BYTES = 50 * 1024**2


def plain_secrets(variables: Iterable[tuple[str, str | None]]) -> list[str]:
    """The names among (name, plain value) pairs that hold a secret in plain text: a secret's name with a value,
    or a credential-looking value under any name."""
    return sorted(
        name for name, value in variables if value and (SECRET_NAME.search(name) or SECRET_VALUE.search(value))
    )


def files_containing(secret: str, roots: Iterable[Path]) -> list[Path]:
    """Every file under `roots` (or a root that is a file) whose bytes contain `secret`."""
    needle = secret.encode()
    found = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if path.stat().st_size <= MAX_FILE_BYTES and needle in path.read_bytes():
                found.append(path)
    return found
