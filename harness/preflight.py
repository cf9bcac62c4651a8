"""The pre-flight of a verify run (`--api-url`): before any test, one look at /health and one authenticated call,
so a wrong URL, a server that is not this API or a missing key ends the run in one line instead of a traceback per
test. What it finds (URL, version, the models served and their versions) heads the run and goes into its report.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.synthetic_traffic import verification_headers

TIMEOUT_S = 10.0
PROTECTED_PATH = "/models/list"
"""The cheapest route behind API_KEY: it tells whether the key (or its absence) is accepted."""


class PreflightFailed(Exception):
    """The deployment cannot be verified; the message is the one line the user reads (what, where, what to try)."""


@dataclass(frozen=True)
class ServedModel:
    name: str
    version: str | None
    digest: str | None

    def __str__(self) -> str:
        return f"{self.name} {self.version}" if self.version else f"{self.name} (built-in)"


@dataclass(frozen=True)
class VerifiedTarget:
    """What a verify run is pointed at, as the pre-flight found it."""

    url: str
    version: str
    models: tuple[ServedModel, ...]

    def describe(self) -> str:
        models = ", ".join(str(model) for model in self.models) or "none"
        return f"{self.url} (version {self.version}; models: {models})"

    def record(self) -> dict[str, Any]:
        """reports/deployment.json of a verify run: the provisioned runs' keys, plus the models it found."""
        return {
            "environment": "external",
            "url": self.url,
            "version": self.version,
            "models": [{"name": m.name, "version": m.version, "digest": m.digest} for m in self.models],
        }


def normalised_url(url: str) -> str:
    """The URL without a trailing slash; PreflightFailed when it is not an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = f"try --api-url http://{url}" if "://" not in url else "give an http:// or https:// URL"
        raise PreflightFailed(f"--api-url {url!r} is not an http(s) URL with a host: {hint}")
    return url.rstrip("/")


def preflight(url: str, api_key: str | None, transport: httpx.BaseTransport | None = None) -> VerifiedTarget:
    """/health must answer as this API does and the key must open a protected route; else one line says why."""
    base = normalised_url(url)
    with httpx.Client(
        base_url=base, headers=verification_headers(api_key), timeout=TIMEOUT_S, transport=transport
    ) as client:
        health = _get(client, base, "/health")
        body = _json_object(health)
        if health.status_code not in (200, 503) or not {"status", "version", "models_loaded"} <= body.keys():
            kind = health.headers.get("content-type", "no content type").split(";")[0]
            raise PreflightFailed(
                f"{base}/health answered {health.status_code} ({kind}) without this API's status, version and "
                "models_loaded: is --api-url the GARCH volatility API?"
            )
        if health.status_code != 200:
            raise PreflightFailed(
                f"{base} is not ready: /health answered {health.status_code} with status {body['status']!r}"
                f" ({body.get('detail') or 'no detail'}); verify it once it reports healthy"
            )
        protected = _get(client, base, PROTECTED_PATH)
        if protected.status_code == 401:
            asked = "requires an API key: pass --api-key KEY (or set API_KEY)"
            what = "refused the key given by --api-key" if api_key else asked
            raise PreflightFailed(f"{base} {what} (401 from {PROTECTED_PATH})")
        if protected.status_code != 200:
            raise PreflightFailed(f"{base}{PROTECTED_PATH} answered {protected.status_code}, expected 200")
    models = tuple(
        ServedModel(str(m.get("name")), m.get("version"), m.get("digest"))
        for m in body.get("models") or []
        if isinstance(m, dict)
    )
    return VerifiedTarget(base, str(body["version"]), models)


def _get(client: httpx.Client, base: str, path: str) -> httpx.Response:
    try:
        return client.get(path)
    except httpx.TimeoutException:
        raise PreflightFailed(f"{base}{path} did not answer within {TIMEOUT_S:g}s: is the deployment up?") from None
    except httpx.HTTPError as error:
        reason = str(error) or type(error).__name__
        raise PreflightFailed(f"cannot reach {base}{path} ({reason}): is the deployment running there?") from None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
