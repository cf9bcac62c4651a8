"""A canary rollout of a ready revision: smoke checks on its label's URL at 0%, then deployment.rollout.steps of the
traffic, each held and watched. The first failed check raises CheckFailed; the caller sends everything back.

The watch reads the candidate's own /metrics (canary_signals.py) and sends it one forecast per poll through its
label, so a step is judged on evidence even when callers are few; it also fails the step when ARM reports the
revision failed or unready, or when the label stops answering.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from azure.mgmt.appcontainers import models as aca

from provisioning.config import RolloutSection
from provisioning.environments.azure.container_apps.app_spec import traffic
from provisioning.environments.azure.container_apps.canary_signals import Counts, SignalLimits
from provisioning.environments.azure.container_apps.candidate import CandidateAddress, CheckFailed, smoke_check

CandidateCheck = Callable[[CandidateAddress], None]
"""A further check of the candidate at 0% (e.g. the live suites against its label); raises CheckFailed."""


@dataclass(frozen=True)
class StepReport:
    percent: int
    seconds: float
    answers: float
    server_errors: float
    held: bool = True


@dataclass
class RolloutReport:
    """What one rollout did, for the CLI's output and the rollout tests' reports."""

    serving: str
    candidate: str
    checks_s: float = 0.0
    steps: list[StepReport] = field(default_factory=list)
    failed_check: str | None = None

    def summary(self) -> str:
        steps = ", ".join(
            f"{s.percent}% {s.seconds:.1f}s ({s.answers:g} answers, {s.server_errors:g} 5xx)"
            + ("" if s.held else " failed")
            for s in self.steps
        )
        outcome = f"rolled back ({self.failed_check})" if self.failed_check else "promoted"
        return f"{self.candidate} {outcome}: checks {self.checks_s:.1f}s; steps: {steps or 'none'}"


@dataclass
class CanaryRollout:
    """Moves traffic from `serving` to `candidate` step by step. `move` applies traffic weights (one ARM call);
    `revision_problem` says why a revision is not serving well (None when it is ready and healthy)."""

    settings: RolloutSection
    limits: SignalLimits
    move: Callable[[list[aca.TrafficWeight]], None]
    revision_problem: Callable[[str], str | None]
    say: Callable[[str], None]
    extra_checks: Sequence[CandidateCheck] = ()

    def run(self, report: RolloutReport, address: CandidateAddress) -> None:
        """Checks, then every step; raises CheckFailed at the first failure (traffic is then the caller's to undo).
        `report` records each check and step as it ends, the failed one included."""
        started = time.monotonic()
        try:
            models = smoke_check(address)
            for check in self.extra_checks:
                check(address)
        finally:
            report.checks_s = time.monotonic() - started
        self.say(f"[rollout] {report.candidate} passed its checks on {address.shown} ({', '.join(models)})")
        for percent in self.settings.steps:
            step_started, seen = time.monotonic(), [Counts(0, 0, ())]
            held = False
            try:
                self.move(self.weights(report, percent))
                self._watch(report.candidate, address, percent, models[0], seen)
                held = True
            finally:
                window = seen[-1]
                step = StepReport(percent, time.monotonic() - step_started, window.total, window.server_errors, held)
                report.steps.append(step)
            self.say(f"[rollout] {report.candidate} held {percent}% for {step.seconds:.1f}s: "
                     f"{window.total:g} answers, {window.server_errors:g} 5xx")  # fmt: skip

    def weights(self, report: RolloutReport, percent: int) -> list[aca.TrafficWeight]:
        label = (report.candidate, self.settings.label)
        return traffic((report.serving, 100 - percent), (report.candidate, percent), label=label)

    def _watch(self, candidate: str, address: CandidateAddress, percent: int, model: str, seen: list[Counts]) -> None:
        """Hold the step for hold_s (and until min_requests answers are in), polling every poll_interval_s; the
        step's answers so far are appended to `seen` at each poll."""
        settings, check = self.settings, f"step {percent}%"
        deadline = time.monotonic() + settings.hold_s
        give_up = deadline + max(30.0, 10 * settings.poll_interval_s)
        with address.client() as client:
            baseline = self._scrape(client, check)
            while True:
                problem = self.revision_problem(candidate)
                if problem:
                    raise CheckFailed(f"{check} revision health", problem)
                self._send_one(client, model, check)
                now_counts = self._scrape(client, check)
                since = now_counts.since(baseline)
                if since is None:  # another replica or a restart answered: judge from here on
                    baseline, since = now_counts, Counts(0, 0, ())
                window = since
                seen.append(window)
                breach = self.limits.breach(window, settings.min_requests)
                if breach is not None:
                    raise CheckFailed(f"{check} {breach[0]}", breach[1])
                now = time.monotonic()
                if now >= deadline and window.total >= settings.min_requests:
                    return
                if now >= give_up:
                    short = f"{window.total:g} answers seen, {settings.min_requests} needed"
                    raise CheckFailed(f"{check} evidence", short)
                remaining = deadline - now
                time.sleep(min(settings.poll_interval_s, remaining) if remaining > 0 else settings.poll_interval_s)

    def _scrape(self, client: httpx.Client, check: str) -> Counts:
        try:
            response = client.get("/metrics")
        except httpx.HTTPError as error:
            raise CheckFailed(f"{check} /metrics", f"{type(error).__name__}: {error}") from None
        if response.status_code != 200:
            raise CheckFailed(f"{check} /metrics", f"HTTP {response.status_code}: {response.text[:200]}")
        return Counts.parse(response.text)

    def _send_one(self, client: httpx.Client, model: str, check: str) -> None:
        """One forecast through the label: its answer, 5xx included, is counted by the revision's /metrics."""
        try:
            client.get("/predict", params={"model": model, "horizon": 5})
        except httpx.HTTPError as error:
            raise CheckFailed(f"{check} /predict", f"{type(error).__name__}: {error}") from None
