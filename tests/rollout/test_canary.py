"""The rollout suite: new releases of the service rolled out on the session's Container App while a continuous probe
calls the app's public address, as callers would. A good release is promoted step by step; one that answers 500, one
that never becomes ready and one that starts failing under traffic are rolled back automatically; `rollback` returns
all traffic to the previous revision in one traffic change. Throughout, the probe must see no failed request, except,
for the release that fails only under traffic, the answers its own revision gave at 10% before the watch caught it.

Runs with `--env prod --azure-target container_apps` (the emulator or Azure); needs a Docker engine for the releases.
Every rollout's probe counts and step times are recorded as JUnit properties.
"""

import re
import uuid
from collections.abc import Callable, Iterator

import pytest

from harness.derived_images import forecast_bug_release, never_listening_release, next_release
from harness.pytest_plugin.deployment import HarnessOptions
from harness.synthetic_traffic import api_key_headers
from harness.traffic_probe import ClosedLoop, running_probe
from provisioning.config import RolloutSection
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.azure.container_apps.revisions import traffic_weights
from provisioning.environments.base import Deployment
from provisioning.environments.image import docker_client
from provisioning.errors import RolloutRolledBack
from provisioning.waiting import wait_until

pytestmark = pytest.mark.rollout

QUICK = RolloutSection(steps=(10, 50, 100), hold_s=3, poll_interval_s=0.5, min_requests=5)
"""The default steps, held seconds rather than a minute: each step still waits for its evidence."""

Release = Callable[..., str]
Record = Callable[[ContainerAppsDeployment, ClosedLoop], None]


@pytest.fixture
def app(deployment_control: Deployment) -> ContainerAppsDeployment:
    if not isinstance(deployment_control, ContainerAppsDeployment):
        pytest.skip("the rollout suite runs on Container Apps: --env prod --azure-target container_apps")
    return deployment_control


@pytest.fixture(scope="session")
def release(deployment: Deployment) -> Iterator[Release]:
    """Build a release from the session's image (`maker(base, tag, **options)`); removed from the engine after."""
    built: list[str] = []

    def make(maker: Callable[..., str], **options: object) -> str:
        tag = f"garch-mlops-release:{maker.__name__.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        built.append(maker(deployment.version, tag, **options))
        return built[-1]

    yield make
    if built:  # a session that built nothing may have no Docker engine at all (--env process)
        images = docker_client().images
        for tag in built:
            images.remove(tag, force=True)


@pytest.fixture
def probe(app: ContainerAppsDeployment, harness_options: HarnessOptions) -> Iterator[ClosedLoop]:
    """The continuous probe on the app's public address, answering before the test starts."""
    with running_probe(
        app.url, ("/health", "/predict", "/models/list"), api_key_headers(harness_options.api_key)
    ) as loop:
        wait_until(lambda: loop.total >= 10 or None, what="the probe answering", timeout_s=30)
        yield loop


def after_more_answers(probe: ClosedLoop, count: int = 20) -> None:
    """Let the probe run on a little (so what follows a change is seen too), then stop it."""
    seen = probe.total
    wait_until(lambda: probe.total >= seen + count or None, what=f"{count} more probe answers", timeout_s=60)
    probe.stop()


def is_active(app: ContainerAppsDeployment, revision: str) -> bool:
    state = app.revisions.get(revision)
    return state is not None and state.active


def weights(app: ContainerAppsDeployment) -> dict[str, int]:
    return {name: weight for name, weight in traffic_weights(app._get_app()).items() if weight}


@pytest.fixture
def record(request: pytest.FixtureRequest, record_testsuite_property: Callable[[str, object], None]) -> Record:
    """Record what the probe saw and what the rollout did, under this test's name, in the JUnit report."""

    def write(app: ContainerAppsDeployment, probe: ClosedLoop) -> None:
        name = request.node.name.removeprefix("test_")
        record_testsuite_property(f"{name}.probe_requests", probe.total)
        record_testsuite_property(f"{name}.probe_failures", len(probe.failures))
        if app.last_rollout is not None:
            record_testsuite_property(f"{name}.rollout", app.last_rollout.summary())

    return write


def test_a_good_release_takes_the_traffic_step_by_step_without_a_failed_request(
    app: ContainerAppsDeployment, probe: ClosedLoop, release: Release, record: Record
) -> None:
    before = app.revision

    app.deploy_image(app.push_local_image(release(next_release, release="next")), rollout=QUICK)

    after_more_answers(probe)
    record(app, probe)
    report = app.last_rollout
    assert report is not None and report.failed_check is None and app.revision == report.candidate != before
    assert [step.percent for step in report.steps] == [10, 50, 100]
    assert all(step.seconds >= QUICK.hold_s and step.answers >= QUICK.min_requests for step in report.steps)
    assert probe.failures == [], f"{len(probe.failures)} of {probe.total} failed: {probe.failures[:5]}"
    if "?" not in probe.answers:  # the ingress names the revision that answered: both served during the steps
        assert probe.answers[str(before)] > 0 and probe.answers[app.revision] > 0, probe.answers
    assert weights(app) == {app.revision: 100}
    assert app.previous_revision == before and is_active(app, str(before))  # standing by at 0%


def test_rollback_returns_all_traffic_to_the_previous_revision_in_one_traffic_change(
    app: ContainerAppsDeployment,
    probe: ClosedLoop,
    release: Release,
    request: pytest.FixtureRequest,
    record: Record,
) -> None:
    app.deploy_image(app.push_local_image(release(next_release, release="to-roll-back")), rollout=QUICK)
    rolled_back_from, previous = app.revision, app.previous_revision
    emulator = request.getfixturevalue("arm_emulator") if request.config.getoption("--azure-emulator") else None
    calls_before = len(emulator.requests()) if emulator else 0

    assert app.rollback() == previous

    after_more_answers(probe)
    record(app, probe)
    assert app.revision == previous and weights(app) == {previous: 100}
    assert not is_active(app, str(rolled_back_from))
    assert probe.failures == [], f"{len(probe.failures)} of {probe.total} failed: {probe.failures[:5]}"
    if emulator is not None:
        changes = [
            call for call in emulator.requests()[calls_before:]
            if call["method"] in ("PUT", "PATCH") and (call["resource_type"] or "").endswith("containerApps")
        ]  # fmt: skip
        assert len(changes) == 1 and changes[0]["method"] == "PATCH", changes


@pytest.mark.parametrize(
    ("maker", "check"),
    [
        pytest.param(forecast_bug_release, r"smoke /predict\?model=\S+' failed: HTTP 500", id="answers-500"),
        pytest.param(never_listening_release, r"readiness' failed: .*Failed", id="never-ready"),
    ],
)
def test_a_broken_release_is_rolled_back_before_any_caller_reaches_it(
    app: ContainerAppsDeployment,
    probe: ClosedLoop,
    release: Release,
    maker: Callable[..., str],
    check: str,
    record: Record,
) -> None:
    serving = app.revision

    with pytest.raises(RolloutRolledBack, match=re.compile(check)) as raised:
        app.deploy_image(app.push_local_image(release(maker)), rollout=QUICK)

    after_more_answers(probe)
    record(app, probe)
    candidate = app.last_rollout.candidate if app.last_rollout else ""
    assert f"rollout of {candidate} rolled back, {serving} serves all traffic" in str(raised.value)
    assert app.revision == serving and weights(app) == {serving: 100}
    assert app.last_rollout is not None and app.last_rollout.steps == []  # no step began
    assert not is_active(app, candidate)
    assert probe.failures == [], f"{len(probe.failures)} of {probe.total} failed: {probe.failures[:5]}"
    assert set(probe.answers) <= {str(serving), "?"}, probe.answers


def test_a_release_failing_under_traffic_is_caught_by_the_step_watch_and_rolled_back(
    app: ContainerAppsDeployment, probe: ClosedLoop, release: Release, record: Record
) -> None:
    serving = app.revision
    watched = RolloutSection(steps=(10, 100), hold_s=60, poll_interval_s=0.5, min_requests=5)

    with pytest.raises(RolloutRolledBack, match=r"check 'step 10% ApiServerErrorRatioHigh' failed: \d+ of \d+"):
        app.deploy_image(app.push_local_image(release(forecast_bug_release, after_calls=15)), rollout=watched)

    failures_at_rollback = len(probe.failures)
    after_more_answers(probe, count=40)
    record(app, probe)
    report = app.last_rollout
    assert report is not None and [(step.percent, step.held) for step in report.steps] == [(10, False)]
    assert report.steps[0].server_errors > 0  # what the watch judged: the candidate's own 5xx at 10%
    candidate = report.candidate
    assert app.revision == serving and weights(app) == {serving: 100}
    assert not is_active(app, candidate)
    # What callers saw: only the candidate's own 5xx while it had 10%, and nothing once it was rolled back.
    assert set(probe.failures_by_revision) <= {candidate, "?"}, probe.failures_by_revision
    assert len(probe.failures) == failures_at_rollback, probe.failures[failures_at_rollback:]
