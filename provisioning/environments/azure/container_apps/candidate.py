"""A new revision before it gets traffic: its address (the rollout label's URL) and the smoke checks run there.

Container Apps gives a labelled revision its own host, `<app>---<label>.<environment defaultDomain>`, so a revision
at 0% can be called like the app itself. The checks are those a caller would notice first: /health with every model
loaded, /models/list, and one forecast from each model, finite and positive. Any of them failing stops the rollout
before a single caller is sent to the revision.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from provisioning.errors import DeploymentError

HTTP_TIMEOUT_S = 30.0


class CheckFailed(DeploymentError):
    """A rollout check failed: `check` names it (as the CLI reports it), the message says what was seen."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"check '{check}' failed: {detail}")
        self.check, self.detail = check, detail


@dataclass(frozen=True)
class CandidateAddress:
    """Where a revision answers on its own. `host` is sent as the Host header when the label's host name does not
    resolve to the ingress (the local ARM emulator's ingress serves every label on the app's own address)."""

    url: str
    host: str | None = None
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def of_label(
        cls, *, scheme: str, app: str, app_fqdn: str, label: str, default_domain: str, api_key: str | None
    ) -> "CandidateAddress":
        label_host = f"{app}---{label}.{default_domain}"
        if scheme == "https":  # Azure: the label's host name is in the environment's DNS zone
            return cls(f"https://{label_host}", api_key=api_key)
        return cls(f"{scheme}://{app_fqdn}", host=label_host, api_key=api_key)

    @property
    def shown(self) -> str:
        return f"{self.url} (Host: {self.host})" if self.host else self.url

    def client(self, timeout_s: float = HTTP_TIMEOUT_S) -> httpx.Client:
        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        if self.host:
            headers["Host"] = self.host
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s, trust_env=False)


def _json(response: httpx.Response, check: str) -> Any:
    if response.status_code != 200:
        raise CheckFailed(check, f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(check, f"not JSON: {response.text[:300]}") from None


def _get(client: httpx.Client, path: str, check: str, params: Mapping[str, Any] | None = None) -> Any:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as error:
        raise CheckFailed(check, f"{type(error).__name__}: {error}") from None
    return _json(response, check)


def smoke_check(address: CandidateAddress) -> list[str]:
    """/health healthy with its models loaded, /models/list, and a 5-day forecast from each model, finite and
    positive; returns the models checked. Raises CheckFailed naming the first check that failed."""
    with address.client() as client:
        health = _get(client, "/health", "smoke /health")
        if health.get("status") != "healthy" or not health.get("models_loaded"):
            raise CheckFailed("smoke /health", f"not healthy with models loaded: {health}")
        listed = _get(client, "/models/list", "smoke /models/list").get("models") or []
        names = [str(model["name"]) for model in listed]
        if not names:
            raise CheckFailed("smoke /models/list", "no model listed")
        for name in names:
            forecast = _get(client, "/predict", f"smoke /predict?model={name}", {"model": name, "horizon": 5})
            volatility = forecast.get("volatility") or []
            if len(volatility) != 5 or not all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in volatility):
                detail = f"volatility is not 5 finite positive values: {volatility}"
                raise CheckFailed(f"smoke /predict?model={name}", detail)
    return names
