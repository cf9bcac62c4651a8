"""Telemetry to Application Insights, received by a local ingestion endpoint: what the service really sends.

Each service runs in its own process: OpenTelemetry's global providers can be set once per process, and the rest of
the suite must stay without them.
"""

import gzip
import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.pytest_plugin.azurite import Azurite
from harness.pytest_plugin.model_store import quick_artifact
from provisioning.processes import ProcessGroup, free_loopback_port
from provisioning.waiting import wait_until
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import open_store
from service.traffic import SYNTHETIC_HEADER

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 60.0
Envelope = dict[str, Any]


class Ingestion:
    """An Application Insights ingestion endpoint on loopback that keeps every envelope it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                items = json.loads(body) if self.path.endswith("/track") else []
                with received._lock:
                    received.envelopes.extend(items)
                answer = json.dumps({"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-ms-qps-subscribed", "false")  # live metrics: nobody is watching
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.ikey = str(uuid.uuid4())
        endpoint = f"http://127.0.0.1:{self.server.server_port}/"
        self.connection_string = f"InstrumentationKey={self.ikey};IngestionEndpoint={endpoint};LiveEndpoint={endpoint}"

    def of_type(self, base_type: str) -> list[Envelope]:
        with self._lock:
            return [e for e in self.envelopes if e["data"]["baseType"] == base_type]

    def wait_for(self, base_type: str, found: Callable[[Envelope], bool], what: str) -> Envelope:
        """The first envelope of that type that `found` accepts; polled, because the exporter sends from a thread."""
        return wait_until(
            lambda: next((envelope for envelope in self.of_type(base_type) if found(envelope)), None),
            what=f"a {base_type} with {what}",
            where="the ingestion endpoint",
            timeout_s=DEADLINE_S,
            last_seen=lambda: str(self.of_type(base_type)),
        )


@pytest.fixture
def ingestion() -> Iterator[Ingestion]:
    endpoint = Ingestion()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture(scope="module")
def store_url(azurite: Azurite) -> str:
    """A Blob store with every served model published: the service reads it at start-up (dependency telemetry)."""
    url = azurite.new_container_url()
    store = open_store(url, connection_string=azurite.connection_string, create=True)
    for name in BUILTIN_MODELS:
        store.publish(quick_artifact(name))
    return url


def service_env(azurite: Azurite, store_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPLICATIONINSIGHTS_", "OTEL_"))}
    return env | {
        # The exporter keeps what it could not send in a directory of the temp dir named after the instrumentation
        # key, new in every test: there it goes away with the test's own files.
        "TMPDIR": str(tmp_path),
        "MODEL_STORE": store_url,
        "MODEL_STORE_CONNECTION_STRING": azurite.connection_string,
        # Nothing leaves this machine: no SDK statistics or remote configuration from Microsoft's endpoints.
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",
        "OTEL_TRACES_SAMPLER": "always_on",  # the default samples at most 5 requests a second
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def request_named(name: str, code: int) -> Callable[[Envelope], bool]:
    return lambda e: e["data"]["baseData"]["name"] == name and e["data"]["baseData"]["responseCode"] == str(code)


def test_the_running_service_sends_requests_and_dependencies(
    ingestion: Ingestion, azurite: Azurite, store_url: str, tmp_path: Path
) -> None:
    """`python -m service` with two workers: each worker exports, and a stop flushes what is buffered."""
    port = free_loopback_port()
    env = service_env(
        azurite,
        store_url,
        tmp_path,
        APPLICATIONINSIGHTS_CONNECTION_STRING=ingestion.connection_string,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
    )
    base = f"http://127.0.0.1:{port}"
    service = ProcessGroup(
        [sys.executable, "-m", "service"], name="the service", log_path=tmp_path / "service.log", env=env
    )
    with service:  # stopping it (SIGTERM) flushes what the exporters buffered
        service.wait_for_http(f"{base}/health", timeout_s=DEADLINE_S)
        assert httpx.get(f"{base}/predict", params={"model": "garch_1_1", "horizon": 3}).status_code == 200
        assert httpx.get(f"{base}/predict", params={"model": "no_such_model"}).status_code == 400
        assert httpx.get(f"{base}/models/list", headers={SYNTHETIC_HEADER: "1"}).status_code == 200

    ok = ingestion.wait_for("RequestData", request_named("GET /predict", 200), "GET /predict 200")
    bad = ingestion.wait_for("RequestData", request_named("GET /predict", 400), "GET /predict 400")
    assert ok["data"]["baseData"]["success"] is True and bad["data"]["baseData"]["success"] is False
    assert ok["iKey"] == ingestion.ikey
    # Synthetic traffic carries the dimension the log alerts filter on (provisioning/monitoring/azure_alerts.py).
    synthetic = ingestion.wait_for("RequestData", request_named("GET /models/list", 200), "GET /models/list 200")
    assert synthetic["data"]["baseData"]["properties"]["traffic"] == "synthetic"
    assert "traffic" not in ok["data"]["baseData"].get("properties", {})
    # FastAPI's own telemetry steps aside for the instrumentation: one request, one envelope.
    requests = sorted(
        (e["data"]["baseData"]["name"], e["data"]["baseData"]["responseCode"]) for e in ingestion.of_type("RequestData")
    )
    assert requests == [
        ("GET /health", "200"),
        ("GET /models/list", "200"),
        ("GET /predict", "200"),
        ("GET /predict", "400"),
    ]
    # Every worker loads the models, so with both exporting each blob read arrives once per worker.
    blob_host = f"127.0.0.1:{azurite.port}"
    ingestion.wait_for(
        "RemoteDependencyData", lambda e: blob_host in e["data"]["baseData"].get("target", ""), "a blob read"
    )
    reads = Counter(
        (e["data"]["baseData"]["name"], e["data"]["baseData"]["success"])
        for e in ingestion.of_type("RemoteDependencyData")
        if e["data"]["baseData"]["type"] == "HTTP" and e["data"]["baseData"].get("target") == blob_host
    )
    assert reads and set(reads.values()) == {2} and all(success for _, success in reads), reads
    # Requests come without in-process dependencies (ASGI send/receive, FastAPI's own operation spans).
    operations = {e["tags"]["ai.operation.id"] for e in ingestion.of_type("RequestData")}
    assert not [e for e in ingestion.of_type("RemoteDependencyData") if e["tags"]["ai.operation.id"] in operations]
    assert ingestion.ikey not in service.log_path.read_text(), "the connection string is a secret"


EXCEPTION_DRIVER = """
import sys
from fastapi.testclient import TestClient
from service.config import Settings
from service.main import create_app
from tests.unit.conftest import wait_until_ready

app = create_app(Settings())

@app.get("/boom")
def boom() -> None:
    raise RuntimeError("boom from the test")

with TestClient(app, raise_server_exceptions=False) as client:
    wait_until_ready(client)
    print(client.get("/boom").status_code)
"""


def test_an_unhandled_exception_reaches_application_insights_with_its_request(
    ingestion: Ingestion, azurite: Azurite, store_url: str, tmp_path: Path
) -> None:
    """The app's 500 handler answers, and the exception still leaves as telemetry tied to its request."""
    env = service_env(azurite, store_url, tmp_path, APPLICATIONINSIGHTS_CONNECTION_STRING=ingestion.connection_string)
    done = subprocess.run(
        [sys.executable, "-c", EXCEPTION_DRIVER], env=env, capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert done.returncode == 0 and done.stdout.split()[-1] == "500", done.stdout + done.stderr

    request = ingestion.wait_for("RequestData", request_named("GET /boom", 500), "GET /boom 500")
    exception = ingestion.wait_for(
        "ExceptionData",
        lambda e: e["tags"].get("ai.operation.id") == request["tags"]["ai.operation.id"],
        "the request's operation id",
    )
    [details, *_] = exception["data"]["baseData"]["exceptions"]
    assert (details["typeName"], details["message"]) == ("RuntimeError", "boom from the test")


NO_TELEMETRY_DRIVER = """
import json, sys
from fastapi.testclient import TestClient
from service.main import create_app

app = create_app()
status = TestClient(app).get("/openapi.json").status_code
# FastAPI itself imports the OpenTelemetry API; the SDK, the exporters and the instrumentations must stay out.
loaded = sorted(m for m in sys.modules if m.startswith(("azure.monitor", "opentelemetry.sdk", "opentelemetry.inst")))
from opentelemetry import trace
print(json.dumps({"status": status, "loaded": loaded, "provider": type(trace.get_tracer_provider()).__name__}))
"""


def test_without_a_connection_string_nothing_is_configured_or_imported() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLICATIONINSIGHTS_")} | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", NO_TELEMETRY_DRIVER], env=env, capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"status": 200, "loaded": [], "provider": "ProxyTracerProvider"}
