"""The ledger's gate: an enforced ratio that misses is measured again, and the run fails only if every attempt misses.

The measurements here are results with hand-picked samples, so each case's verdict is known before it runs.
"""

from collections.abc import Callable, Iterator

import pytest

from harness.benchmarks.ledger import Ledger
from harness.benchmarks.report import RatioMissed, RatioResult, Side

pytestmark = pytest.mark.unit


def overhead(ours_ms: float, *, enforced: bool = True) -> RatioResult:
    """ours / 10 ms against a target of <= 1.3."""
    return RatioResult(
        key="B2",
        title="API overhead",
        ours=Side("HTTP round trip", "ms", (ours_ms,)),
        theirs=Side("arch in-process", "ms", (10.0,)),
        target=1.3,
        direction="<=",
        enforced=enforced,
    )


def measurements(*ours_ms: float, enforced: bool = True) -> tuple[Callable[[], RatioResult], list[float]]:
    """A measure() that returns these results in turn, and the list of the ones it has returned."""
    taken: list[float] = []
    results: Iterator[float] = iter(ours_ms)

    def measure() -> RatioResult:
        taken.append(next(results))
        return overhead(taken[-1], enforced=enforced)

    return measure, taken


def test_a_ratio_met_at_once_is_measured_once() -> None:
    ledger = Ledger("short", {})
    measure, taken = measurements(12.0, 20.0)

    recorded = ledger.record_confirmed(measure)

    assert taken == [12.0]
    assert ledger.results == [recorded] and recorded.value == pytest.approx(1.2) and recorded.notes == ()


def test_a_miss_then_a_pass_records_the_pass_and_names_the_miss() -> None:
    ledger = Ledger("short", {})
    measure, taken = measurements(15.7, 11.0)

    recorded = ledger.record_confirmed(measure)

    assert taken == [15.7, 11.0]
    assert ledger.results == [recorded] and recorded.value == pytest.approx(1.1)
    assert recorded.notes == ("measured again after a miss (1.570) in this run",)


def test_a_miss_on_every_attempt_fails_with_the_last_numbers() -> None:
    ledger = Ledger("short", {})
    measure, taken = measurements(15.0, 16.0, 11.0)

    with pytest.raises(RatioMissed, match=r"B2 API overhead: ratio 1\.600, target <= 1\.3") as missed:
        ledger.record_confirmed(measure)

    assert taken == [15.0, 16.0]  # two attempts, not a third
    assert missed.value.result.notes == ("measured again after a miss (1.500) in this run",)
    assert ledger.results == [missed.value.result]  # the report still shows it


def test_a_reported_ratio_is_never_measured_again() -> None:
    ledger = Ledger("short", {})
    measure, taken = measurements(20.0, 11.0, enforced=False)

    recorded = ledger.record_confirmed(measure)

    assert taken == [20.0] and recorded.met is False and recorded.notes == ()
