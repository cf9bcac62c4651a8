"""monitoring/queries.kql reads the service's real log lines: its extract() patterns, run over a deployment's logs."""

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.pytest_plugin.deployment import logs_or_skip
from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment
from provisioning.waiting import wait_until

QUERIES = Path(__file__).resolve().parents[2] / "monitoring" / "queries.kql"
HEADER = re.compile(r"^// ---- (\w+): (.*)$", re.MULTILINE)
EXTRACTION = re.compile(r"(\w+) = (to\w+)?\(?extract\(@'([^']*)', 1, Message\)\)?")
CONVERT = {"toint": int, "todouble": float, None: str}
LOGS_WITHIN_S = 10.0


def queries() -> dict[str, str]:
    text = QUERIES.read_text()
    headers = list(HEADER.finditer(text))
    ends = [h.start() for h in headers[1:]] + [len(text)]
    return {h.group(1): text[h.end() : end].strip() for h, end in zip(headers, ends, strict=True)}


def extractions(query: str) -> dict[str, tuple[re.Pattern[str], Any]]:
    """Column name (the JSON key it reads) -> (the KQL regular expression, the conversion KQL applies)."""
    return {m.group(1): (re.compile(m.group(3)), CONVERT[m.group(2)]) for m in EXTRACTION.finditer(query)}


@pytest.mark.unit
def test_the_seed_queries_are_there_and_scoped_to_the_configured_group(project_config: ProjectConfig) -> None:
    found = queries()
    assert set(found) == {
        "errors_last_24h",
        "response_times_5m",
        "failed_health_checks",
        "failed_availability_checks",
    }
    for name, query in found.items():
        if "ContainerInstanceLog_CL" in query:
            assert f'ContainerGroup_s == "{project_config.azure.container_group}"' in query, name
            assert extractions(query), f"{name} reads no field"
    assert "bin(TimeGenerated, 5m)" in found["response_times_5m"] and "ago(24h)" in found["errors_last_24h"]


def test_every_extraction_reads_the_real_log_lines(api: httpx.Client, deployment: Deployment) -> None:
    marker = f"kql-{uuid.uuid4().hex[:12]}"
    made = {
        f"{marker}-ok": ("GET", "/predict", {"params": {"horizon": 2}}, 200),
        f"{marker}-bad": ("GET", "/predict", {"params": {"horizon": 999}}, 400),
        f"{marker}-unsupported": ("POST", "/predict/custom", {"content": b"x"}, 415),
        f"{marker}-unmatched": ("GET", "/no/such/route", {}, 404),
        f"{marker}-health": ("GET", "/health", {}, 200),
    }
    for request_id, (method, path, options, status) in made.items():
        headers = {"X-Request-ID": request_id, "Content-Type": "text/csv"}
        assert api.request(method, path, headers=headers, **options).status_code == status  # type: ignore[arg-type]

    def our_lines() -> dict[str, str]:
        lines = [line for line in logs_or_skip(deployment).splitlines() if line.startswith("{")]
        return {json.loads(line)["request_id"]: line for line in lines if marker in line}

    ours = wait_until(
        lambda: found if set(found := our_lines()) == set(made) else None,
        what=f"log lines for {sorted(made)}",
        where=deployment.url,
        timeout_s=LOGS_WITHIN_S,
        interval_s=0.1,
        last_seen=lambda: f"only {sorted(our_lines())}",
    )
    lines = [line for line in logs_or_skip(deployment).splitlines() if line.startswith("{")]

    patterns = {column: found for query in queries().values() for column, found in extractions(query).items()}
    assert {"level", "logger", "status", "path", "duration_ms", "request_id"} <= set(patterns)
    for line in lines:
        record = json.loads(line)
        for column, (pattern, convert) in patterns.items():
            match = pattern.search(line)
            expected = record.get(column)
            assert (convert(match.group(1)) if match else None) == expected, (column, line)
    for request_id, (_, path, _, status) in made.items():
        line = ours[request_id]
        assert patterns["status"][0].search(line).group(1) == str(status)  # type: ignore[union-attr]
        assert patterns["path"][0].search(line).group(1) == path  # type: ignore[union-attr]
        assert float(patterns["duration_ms"][0].search(line).group(1)) > 0  # type: ignore[union-attr]
