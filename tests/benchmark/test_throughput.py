"""B3-B5 and B7: throughput under the same wrk load, alternating the two sides in bursts so drift hits both alike.

B3 prices a pre-fitted forecast against the framework's floor (/health) on one worker; B4 is what a second worker
buys on two cores; B5 is the service against a naive peer (one worker, arch inside `async def`); B7 is the same
comparison on the small series many real calls send (250 and 500 returns), where what the service does around the
fit is a large share of each request, as server CPU per request as well as req/s.
"""

import json
import os
import statistics

import numpy as np
import pytest

from harness.benchmarks.budget import Budget
from harness.benchmarks.ledger import Ledger
from harness.benchmarks.report import RatioResult, Side
from harness.benchmarks.side_by_side import Burst, Target, alternating_bursts
from harness.benchmarks.uvicorn_app import UvicornAppDeployment
from harness.benchmarks.wrk_load import WrkLoad
from provisioning.environments.process import ProcessDeployment

pytestmark = pytest.mark.benchmark

MODELS = ("garch_1_1", "gjr_garch_1_1_1", "egarch_1_1")
HORIZONS = (1, 5, 10, 22)
PREDICT_PATHS = tuple(f"/predict?model={m}&horizon={h}" for m in MODELS for h in HORIZONS)
N_OBS = 1000
CONNECTIONS = 8
RAMP_S = 0.4
"""Connections opened one by one: all at once, the first worker to wake accepts every one of them."""
JSON = {"Content-Type": "application/json"}
DRIFTS_TOO_MUCH = (
    "reported, not asserted: a shared machine's speed drifts by about 30% from one second to the next, so the same "
    "code measured 0.81 to 1.06 in short runs; a gate at 0.8 would fail by chance"
)
NEEDS_TWO_FREE_CORES = (
    "reported, not asserted: the ratio needs both cores free for the service's two workers, which a shared CI "
    "machine does not promise; the CPU per request above is the part this code controls"
)


def custom_fit_load(url: str, returns: np.ndarray, n_obs: int = N_OBS) -> WrkLoad:
    body = json.dumps({"returns": returns[-n_obs:].tolist(), "horizon": 5}).encode()
    return WrkLoad(
        url, ("/predict/custom",), method="POST", body=body, headers=JSON, connections=CONNECTIONS, ramp_s=RAMP_S
    )


def throughput_ratio(
    key: str,
    title: str,
    bursts: dict[str, list[Burst]],
    *,
    ours: str,
    theirs: str,
    target: float,
    enforced: bool,
    why_reported: str = "",
) -> RatioResult:
    """Every request must have succeeded (a fast error is not throughput); CPU figures go into the notes."""
    for name, measured in bursts.items():
        failed = sum(b.result.errors for b in measured)
        assert failed == 0, f"{key}: {failed} of {sum(b.result.requests for b in measured)} requests to {name} failed"
        assert all(b.result.requests > 0 for b in measured), f"{key}: a burst against {name} completed no request"
    cpu_ms = {name: statistics.median(b.server_ms_per_request for b in measured) for name, measured in bursts.items()}
    other = statistics.median(b.cpu.other_cores for measured in bursts.values() for b in measured)
    notes = (
        f"server CPU per request: {ours} {cpu_ms[ours]:.3g} ms, {theirs} {cpu_ms[theirs]:.3g} ms "
        f"(ratio {cpu_ms[theirs] / cpu_ms[ours]:.2f}); other processes used {other:.2f} of "
        f"{os.cpu_count()} cores during the bursts (median)",
        *([why_reported] if why_reported else []),
    )
    return RatioResult(
        key=key,
        title=title,
        ours=Side(ours, "req/s", tuple(b.result.rps for b in bursts[ours])),
        theirs=Side(theirs, "req/s", tuple(b.result.rps for b in bursts[theirs])),
        target=target,
        direction=">=",
        enforced=enforced,
        paired=True,
        notes=notes,
    )


def group_of(deployment: ProcessDeployment | UvicornAppDeployment) -> int:
    assert deployment.group is not None, f"{deployment.url} is not running"
    return deployment.group


def test_b3_prefitted_forecasts_run_near_the_framework_floor(
    one_worker: ProcessDeployment, budget: Budget, ledger: Ledger
) -> None:
    group = group_of(one_worker)
    bursts = alternating_bursts(
        {
            "GET /predict": Target(WrkLoad(one_worker.url, PREDICT_PATHS, connections=CONNECTIONS), group),
            "GET /health": Target(WrkLoad(one_worker.url, ("/health",), connections=CONNECTIONS), group),
        },
        bursts=budget.cheap_requests.count,
        burst_s=budget.cheap_requests.seconds,
    )
    title = "pre-fitted forecasts: GET /predict req/s / GET /health req/s, one worker, same load"
    ledger.record(
        throughput_ratio(
            "B3",
            title,
            bursts,
            ours="GET /predict",
            theirs="GET /health",
            target=0.8,
            enforced=False,
            why_reported=DRIFTS_TOO_MUCH,
        )
    )


def test_b4_a_second_worker_uses_the_second_core(
    one_worker: ProcessDeployment,
    two_workers: ProcessDeployment,
    sp500_returns: np.ndarray,
    budget: Budget,
    ledger: Ledger,
) -> None:
    bursts = alternating_bursts(
        {
            "2 workers": Target(custom_fit_load(two_workers.url, sp500_returns), group_of(two_workers)),
            "1 worker": Target(custom_fit_load(one_worker.url, sp500_returns), group_of(one_worker)),
        },
        bursts=budget.custom_fits.count,
        burst_s=budget.custom_fits.seconds,
    )
    title = f"cores: POST /predict/custom ({N_OBS} returns) req/s, WEB_CONCURRENCY=2 / =1"
    ledger.record(
        throughput_ratio(
            "B4",
            title,
            bursts,
            ours="2 workers",
            theirs="1 worker",
            target=1.5,
            enforced=False,
            why_reported=NEEDS_TWO_FREE_CORES,
        )
    )


def test_b5_the_service_outserves_a_naive_peer(
    two_workers: ProcessDeployment,
    naive_peer: UvicornAppDeployment,
    sp500_returns: np.ndarray,
    budget: Budget,
    ledger: Ledger,
) -> None:
    bursts = alternating_bursts(
        {
            "service": Target(custom_fit_load(two_workers.url, sp500_returns), group_of(two_workers)),
            "naive peer": Target(custom_fit_load(naive_peer.url, sp500_returns), group_of(naive_peer)),
        },
        bursts=budget.custom_fits.count,
        burst_s=budget.custom_fits.seconds,
    )
    title = f"vs naive peer: POST /predict/custom ({N_OBS} returns) req/s, service (2 workers) / naive (1 worker)"
    ledger.record(
        throughput_ratio(
            "B5",
            title,
            bursts,
            ours="service",
            theirs="naive peer",
            target=1.8,
            enforced=False,
            why_reported=NEEDS_TWO_FREE_CORES,
        )
    )


@pytest.mark.parametrize("n_obs", [250, 500])
def test_b7_small_series_cost_little_more_cpu_than_a_naive_fit(
    n_obs: int,
    two_workers: ProcessDeployment,
    naive_peer: UvicornAppDeployment,
    sp500_returns: np.ndarray,
    budget: Budget,
    ledger: Ledger,
) -> None:
    bursts = alternating_bursts(
        {
            "service": Target(custom_fit_load(two_workers.url, sp500_returns, n_obs), group_of(two_workers)),
            "naive peer": Target(custom_fit_load(naive_peer.url, sp500_returns, n_obs), group_of(naive_peer)),
        },
        bursts=budget.custom_fits.count,
        burst_s=budget.custom_fits.seconds,
    )
    throughput = throughput_ratio(
        f"B7-{n_obs} req/s",
        f"vs naive peer: POST /predict/custom ({n_obs} returns) req/s, service (2 workers) / naive (1 worker)",
        bursts,
        ours="service",
        theirs="naive peer",
        target=1.8,
        enforced=False,
        why_reported=NEEDS_TWO_FREE_CORES,
    )
    ledger.record(throughput)
    ledger.record(
        RatioResult(
            key=f"B7-{n_obs} CPU",
            title=f"server CPU per request, POST /predict/custom ({n_obs} returns): service / naive peer",
            ours=Side("service", "ms", tuple(b.server_ms_per_request for b in bursts["service"])),
            theirs=Side("naive peer", "ms", tuple(b.server_ms_per_request for b in bursts["naive peer"])),
            target=1.10,
            direction="<=",
            enforced=False,
            paired=True,
            notes=(
                "reported, not asserted: the service answers more than the peer (robust standard errors, "
                "validation, metrics, the access log), and its CPU share drifts with what else runs on the machine",
            ),
        )
    )
