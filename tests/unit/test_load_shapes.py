"""The load shapes locust runs (shapes.py), the stats history the autoscale report reads, and the figures a
scaling run is summed up in, from hand-made timelines."""

from pathlib import Path

import pytest

from harness.autoscale.replica_watch import ReplicaSample
from harness.autoscale.timeline import ScalingRun
from harness.load.gate import read_history
from harness.load.shapes import users_at

pytestmark = pytest.mark.unit


def test_step_climbs_a_quarter_each_quarter_then_ends() -> None:
    assert [users_at("step", t, 40, 24) for t in (0, 5.9, 6, 12, 18, 23.9, 24)] == [10, 10, 20, 30, 40, 40, None]


def test_spike_is_all_users_in_the_middle_fifth_only() -> None:
    assert [users_at("spike", t, 50, 10) for t in (0, 3.9, 4, 5.9, 6, 9.9)] == [10, 10, 50, 50, 10, 10]


def test_steady_is_all_users_until_the_end() -> None:
    assert [users_at("steady", t, 7, 3) for t in (0, 2.99, 3)] == [7, 7, None]


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown load shape 'ramp'"):
        users_at("ramp", 0, 1, 1)  # type: ignore[arg-type]


COLUMNS = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
    "Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
    "Total Min Response Time,Total Max Response Time,Total Average Content Size"
)
HISTORY = "\n".join(
    [
        COLUMNS,
        "1764842400,10,,Aggregated,0.000000,0.000000" + ",N/A" * 11 + ",0,0,0,0.0,0,0,0.0",
        "1764842401,10,GET,predict,50.0,0.0,3,4,4,5,6,8,9,9,9,9,9,50,0,3,3.5,1,9,120.0",
        "1764842401,10,,Aggregated,50.000000,0.000000,3,4,4,5,6,8,9,9,9,9,9,50,0,3,3.5,1,9,120.0",
    ]
)


def test_the_history_keeps_the_aggregated_row_of_each_second(tmp_path: Path) -> None:
    path = tmp_path / "load_stats_history.csv"
    path.write_text(HISTORY)
    first, second = read_history(path)
    assert (first.users, first.p95_ms, first.requests_total) == (10, None, 0)
    assert (second.rps, second.p95_ms, second.requests_total) == (50.0, 8.0, 50)


def sample(t: float, running: int, total: int | None = None) -> ReplicaSample:
    return ReplicaSample(1000 + t, running, running if total is None else total)


def test_a_scaling_run_is_summed_up_from_its_timeline() -> None:
    timeline = [sample(-1, 2), sample(3, 2, 3), sample(4.5, 3), sample(9, 3, 4), sample(10, 4), sample(30, 4),
                sample(41, 3), sample(44, 2, 3), sample(47, 2)]  # fmt: skip
    run = ScalingRun(
        minimum=2, maximum=10, load_start=1000, load_stop=1024, replicas=timeline, load=[], load_failures=0,
        load_requests=900, probe_requests=300, probe_failures=0, replicas_that_served={"a": 1},
    )  # fmt: skip
    assert run.ready_after() == {3: 4.5, 4: 10.0}
    assert run.back_at_minimum_after() == 23.0  # 44 s still had one leaving
    assert run.peak == 4
