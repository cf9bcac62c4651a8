"""What a starting deployment's /health answer says about waiting on: a failed model load is final."""

import httpx

MODELS_FAILED = "model loading failed"  # how /health begins its detail then (service/model_registry.py)


def models_failed_to_load(response: httpx.Response) -> str | None:
    """A worker whose models failed to load answers 503 with the reason and never tries again, and nothing restarts
    a process or a local container: waiting out the deadline could not help, so the start fails at once. (On Azure
    the platform may restart the container, so prod deployments keep waiting.)"""
    if response.status_code != 503:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    detail = str(body.get("detail") or "") if isinstance(body, dict) else ""
    return f"the service will not become healthy: {detail}" if detail.startswith(MODELS_FAILED) else None
