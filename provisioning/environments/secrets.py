"""Which of a deployment's variables are secrets, and how a record keeps their names but never their values.

A state record may be read by anyone who can read the project directory, a backup, or a CI artifact; the values
come from the environment again whenever the record is used to start something.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.errors import DeploymentError

SECRET_VARIABLES = frozenset({"API_KEY", "MODEL_STORE_CONNECTION_STRING", "APPLICATIONINSIGHTS_CONNECTION_STRING"})


class MissingSecret(DeploymentError):
    """A recorded deployment needs a secret to start again that the environment does not hold."""


def recordable_env(env: Mapping[str, str], missing: Iterable[str] = ()) -> dict[str, Any]:
    """The `env` and `secret_variables` entries of a record: plain values, and only the names of the secrets."""
    return {
        "env": {name: value for name, value in env.items() if name not in SECRET_VARIABLES},
        "secret_variables": sorted({*(name for name in env if name in SECRET_VARIABLES), *missing}),
    }


def recorded_env(state: Mapping[str, Any], secrets: Mapping[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """A record's env with its secrets' values taken from `secrets` again, and the secrets `secrets` lacks.

    A record written before secrets were left out still holds their values in `env`; those count as present."""
    env = dict(state["env"])
    secrets = secrets or {}
    missing = []
    for name in state.get("secret_variables", []):
        if secrets.get(name):
            env[name] = secrets[name]
        elif name not in env:
            missing.append(name)
    return env, missing


def require_secrets(missing: list[str], environment: str) -> None:
    """Refuse to start a recorded deployment without the secrets it was deployed with (it would run without them:
    an API that was keyed would answer everyone)."""
    if missing:
        names = " and ".join(missing)
        raise MissingSecret(
            f"{names} not set: the recorded {environment} deployment was deployed with it, and its record holds no "
            f"secret values; set it again (export {missing[0]}=...), or --action teardown"
        )
