"""The benchmarks' shared pieces: their budget, the ledger of ratios and its reports, and the servers they load.

Each benchmark starts the servers it compares (never the session deployment under test): a fair comparison needs
servers it controls, on loopback, with nothing else sending them requests.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.benchmarks import naive_peer as naive_peer_module
from harness.benchmarks.budget import BenchmarkSettings, Budget
from harness.benchmarks.ledger import Ledger
from harness.benchmarks.report import RATIOS_KEY, latest_saved_ratios, markdown_summary
from harness.benchmarks.uvicorn_app import UvicornAppDeployment
from provisioning.environments.process import ProcessDeployment
from service.garch.prefitted import load_sp500_returns

REPORTS = Path("reports")
PEER_DIR = Path(naive_peer_module.__file__).resolve().parent


LEDGER = pytest.StashKey[Ledger]()


@pytest.fixture(scope="session")
def budget() -> Budget:
    return BenchmarkSettings().budget


@pytest.fixture(scope="session")
def ledger(pytestconfig: pytest.Config) -> Ledger:
    """Created before the first benchmark runs, so the baseline it reads is the previous run's."""
    if LEDGER not in pytestconfig.stash:
        storage = str(pytestconfig.getoption("benchmark_storage", "file://./.benchmarks")).removeprefix("file://")
        pytestconfig.stash[LEDGER] = Ledger(BenchmarkSettings().mode, latest_saved_ratios(Path(storage)))
    return pytestconfig.stash[LEDGER]


@pytest.fixture(scope="session")
def sp500_returns() -> np.ndarray:
    return load_sp500_returns().returns


@pytest.fixture(scope="session")
def one_worker() -> Iterator[ProcessDeployment]:
    """The service with WEB_CONCURRENCY=1: one process, one core at most."""
    with ProcessDeployment(env={"WEB_CONCURRENCY": "1"}) as deployment:
        yield deployment


@pytest.fixture(scope="session")
def two_workers() -> Iterator[ProcessDeployment]:
    """The service as deployed (deployment.web_concurrency: 2 in azure_config.yaml)."""
    with ProcessDeployment(env={"WEB_CONCURRENCY": "2"}) as deployment:
        yield deployment


@pytest.fixture(scope="session")
def naive_peer() -> Iterator[UvicornAppDeployment]:
    with UvicornAppDeployment("naive_peer:app", app_dir=PEER_DIR, workers=1) as deployment:
        yield deployment


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-benchmark: no error when it is not installed or disabled
def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: dict[str, Any]) -> None:
    """The ratios travel with pytest-benchmark's own JSON, so a saved run is also the next run's ratio baseline."""
    ledger = config.stash.get(LEDGER, None)
    if ledger is not None:
        output_json[RATIOS_KEY] = [result.to_json() for result in ledger.results]


def pytest_sessionfinish(session: pytest.Session) -> None:
    ledger = session.config.stash.get(LEDGER, None)
    if ledger is None or not ledger.results:
        return
    REPORTS.mkdir(exist_ok=True)
    context = ledger.context()
    (REPORTS / "benchmarks.md").write_text(
        markdown_summary(ledger.results, baseline=ledger.baseline, context=context)
        + "\nPlot: benchmarks.png. Reproduce: `make test-benchmark` (short budget, as in `make test`) or "
        "`pytest -m benchmark tests/benchmark` (full budget).\n"
    )
    (REPORTS / "benchmark_ratios.json").write_text(
        json.dumps({"context": context, RATIOS_KEY: [r.to_json() for r in ledger.results]}, indent=2)
    )
    from harness.benchmarks.plot import write_benchmark_plot  # matplotlib only when there is something to plot

    title = f"GARCH API benchmarks ({ledger.mode} mode, {context['started']}, commit {context['commit']})"
    write_benchmark_plot(ledger.results, REPORTS / "benchmarks.png", title=title)
