"""The autoscale suite: the session's Container App under a step load from locust, its replicas watched through ARM
while a probe calls the app throughout. The replica count must rise from the minimum to at least 3 as the load
climbs, every replica must serve, no request may fail while replicas are added or drained, and once the load stops
the count must return to the minimum.

Runs with `--env prod --azure-target container_apps --azure-emulator`: the emulator applies the app's scale rules
to real containers, with Container Apps' timings (the 15 s concurrency window, the polling interval and the
cooldown) times the scale clock set here. The timeline goes to autoscale.json and autoscale.png in the reports.
"""

import time
from collections.abc import Callable, Iterator

import pytest

from harness.arm_emulator.client import ArmEmulator
from harness.autoscale.replica_watch import ReplicaWatch, watching
from harness.autoscale.timeline import ScalingRun
from harness.load.gate import LoadRun, run_locust
from harness.pytest_plugin.deployment import HarnessOptions
from harness.pytest_plugin.reports import reports_dir
from harness.traffic_probe import running_probe
from provisioning.config import LoadSection, ProjectConfig
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.base import Deployment
from provisioning.waiting import wait_until

pytestmark = pytest.mark.autoscale

SCALE_CLOCK = 0.05
"""Container Apps' scaling timings x 0.05: the 15 s window 0.75 s, polling 30 s 1.5 s, the 300 s cooldown 15 s."""
STEP_SECONDS = 8
"""Each of the step shape's four steps; users climb to `users_for` in them (shapes.py)."""


def users_for(concurrent_requests: int | None, target_replicas: int) -> int:
    """Users with no pause between requests keep about one request each in flight: enough for `target_replicas`."""
    return (concurrent_requests or 10) * target_replicas


def at_minimum(watch: ReplicaWatch, minimum: int, after: float = 0.0) -> bool | None:
    """The latest sample (taken after `after`) shows exactly the minimum, none of them still starting."""
    sample = watch.latest
    return (sample is not None and sample.time > after and sample.total == sample.running == minimum) or None


@pytest.fixture
def app(deployment_control: Deployment) -> ContainerAppsDeployment:
    if not isinstance(deployment_control, ContainerAppsDeployment):
        pytest.skip("the autoscale suite runs on Container Apps: --env prod --azure-target container_apps")
    return deployment_control


@pytest.fixture
def emulator(app: ContainerAppsDeployment, request: pytest.FixtureRequest) -> Iterator[ArmEmulator]:
    """The session's ARM emulator with its scale clock fast for the test (and back to real time after)."""
    if not request.config.getoption("--azure-emulator"):
        pytest.skip("the autoscale suite sets the ARM emulator's scale clock: --azure-emulator")
    emulator: ArmEmulator = request.getfixturevalue("arm_emulator")
    emulator.set_scale_clock(SCALE_CLOCK)
    yield emulator
    emulator.set_scale_clock(1.0)


def test_replicas_follow_a_step_load_out_and_back_without_a_failed_request(
    app: ContainerAppsDeployment,
    emulator: ArmEmulator,
    project_config: ProjectConfig,
    harness_options: HarnessOptions,
    pytestconfig: pytest.Config,
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    scale = project_config.deployment.autoscale
    minimum, revision = max(1, scale.min_replicas), str(app.revision)
    cooldown_s = scale.cooldown_s * SCALE_CLOCK
    read = lambda: app.revisions.replicas(revision)  # noqa: E731
    headers = {"X-API-Key": harness_options.api_key} if harness_options.api_key else {}
    load = LoadSection(users=users_for(scale.concurrent_requests, 4), spawn_rate=100)
    workers = pytestconfig.getoption("--load-workers") or project_config.testing.load.workers
    settle_s = cooldown_s + 90

    step_load = LoadRun(
        shape="step", workers=workers, think_s=(0, 0), weights={"predict": 3, "predict_custom": 1},
        name="autoscale-load",
    )  # fmt: skip
    with watching(read) as watch, running_probe(app.url, ("/predict?model=garch_1_1",), headers) as probe:
        wait_until(
            lambda: at_minimum(watch, minimum), timeout_s=settle_s,
            what=f"revision {revision} at its minimum of {minimum} replicas before the load",
        )  # fmt: skip
        load_start = time.time()
        report = run_locust(
            app.url, load, duration_s=4 * STEP_SECONDS, reports=reports_dir(pytestconfig),
            api_key=harness_options.api_key, run=step_load,
        )  # fmt: skip
        load_stop = time.time()
        wait_until(
            lambda: at_minimum(watch, minimum, after=load_stop), timeout_s=settle_s,
            what=f"revision {revision} back at {minimum} replicas after the load",
        )  # fmt: skip
        seen = probe.total
        wait_until(
            lambda: probe.total >= seen + 20 or None, what="20 more probe answers after the scale-in", timeout_s=30
        )

    run = ScalingRun(
        minimum=minimum, maximum=scale.max_replicas, load_start=load_start, load_stop=load_stop,
        replicas=list(watch.samples), load=report.history, load_failures=report.total.failures,
        load_requests=report.total.requests, probe_requests=probe.total, probe_failures=len(probe.failures),
        replicas_that_served=dict(probe.replicas), events=emulator.scaling_events(),
        settings={**scale.model_dump(), "scale_clock": SCALE_CLOCK, "users": load.users, "locust_workers": workers},
    )  # fmt: skip
    json_path, _ = run.write(reports_dir(pytestconfig))
    for name, value in run.figures().items():
        record_testsuite_property(f"autoscale.{name}", value)
    figures = run.figures()
    print(f"\nautoscale: {figures} ({json_path})")

    assert run.peak >= 3, f"the replicas never rose past {run.peak} under {load.users} users: {figures}"
    assert report.total.failures == 0 and probe.failures == [], (report.total.failures, probe.failures[:5])
    assert not watch.errors, watch.errors[:3]
    served = {name for name, answers in probe.replicas.items() if answers > 0}
    assert len(served) >= run.peak and watch.replicas_seen <= served | {"?"}, (served, watch.replicas_seen)
    assert run.back_at_minimum_after() is not None
