"""Verify mode (`--api-url`, with `--api-key`): pointing the suites at a deployment someone else runs, production
included. A pre-flight ends a run that cannot work in one line; the run is headed by what it verifies and ends
with the same summary line and reports/deployment.json as a provisioned run. Every request it sends is marked
synthetic (harness/synthetic_traffic.py); tests that need a deployment to themselves skip
(harness/pytest_plugin/deployment.py, `deployment_control`).
"""

import json
import os

import httpx
import pytest

from harness.preflight import PreflightFailed, VerifiedTarget, preflight
from harness.prometheus_text import synthetic_requests
from harness.pytest_plugin.deployment import SUMMARY_KEY, is_xdist_worker
from harness.pytest_plugin.reports import reports_dir
from harness.synthetic_traffic import verification_headers

TARGET_KEY = pytest.StashKey[VerifiedTarget]()
BASELINE_KEY = pytest.StashKey["tuple[float, float] | None"]()


def api_key_option(config: pytest.Config) -> str | None:
    """The key sent to the deployment: --api-key, or --deploy-api-key (which also deploys with it); under
    --api-url, else API_KEY from the environment, as the service reads it (`mlops-deploy --action test` runs the
    suites so: a key on a command line would show in `ps`)."""
    key: str | None = config.getoption("--api-key") or config.getoption("--deploy-api-key")
    if key is None and config.getoption("--api-url"):
        key = os.environ.get("API_KEY") or None
    return key


def pytest_configure(config: pytest.Config) -> None:
    url = config.getoption("--api-url")
    if config.getoption("--api-key") and not url:
        raise pytest.UsageError(
            "--api-key is the key of a deployment given by --api-url; to deploy with a key, use --deploy-api-key"
        )
    if not url or is_xdist_worker(config) or config.getoption("collectonly") or config.getoption("help"):
        return
    try:
        target = preflight(url, api_key_option(config))
    except PreflightFailed as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[TARGET_KEY] = target
    config.stash[BASELINE_KEY] = synthetic_counts(target.url, api_key_option(config))


def pytest_sessionstart(session: pytest.Session) -> None:
    """The run's first line says what it verifies, with -q too (a report header would not show then)."""
    target = session.config.stash.get(TARGET_KEY, None)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if target is not None and reporter is not None:
        reporter.write_line(f"garch-mlops: verifying {target.describe()}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    target = config.stash.get(TARGET_KEY, None)
    if target is None:
        return
    (reports_dir(config) / "deployment.json").write_text(json.dumps(target.record()))
    config.stash[SUMMARY_KEY] = (
        f"verified {target.describe()}{traffic_note(config, target)}; nothing was deployed, restarted or torn down"
    )


def synthetic_counts(url: str, api_key: str | None) -> tuple[float, float] | None:
    """Requests the deployment has counted as synthetic so far, and how many of them answered 4xx; None where its
    /metrics cannot be read."""
    try:
        response = httpx.get(f"{url}/metrics", headers=verification_headers(api_key), timeout=10, follow_redirects=True)
    except httpx.HTTPError:
        return None
    return synthetic_requests(response.text) if response.status_code == 200 else None


def traffic_note(config: pytest.Config, target: VerifiedTarget) -> str:
    """How much this run sent, as the deployment's /metrics counted it (the replica that answered, where several
    serve; another verify run at the same time counts in too)."""
    before = config.stash.get(BASELINE_KEY, None)
    after = synthetic_counts(target.url, api_key_option(config))
    if before is None or after is None:
        return ""
    sent, client_errors = after[0] - before[0], after[1] - before[1]
    if not sent:
        return "; its /metrics counted none of this run's requests as synthetic (does this version label them?)"
    return f"; {sent:.0f} requests marked synthetic, {100 * client_errors / sent:.0f}% of them 4xx"
