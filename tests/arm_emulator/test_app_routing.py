"""The ingress's routing rules on their own: exact weighted splits, labels, and the guarantees a rollout relies on
(a replica that is not ready or is stopping is never picked; in-flight requests are counted until released)."""

import collections

import pytest

from harness.arm_emulator.app_routing import Replica, Router

pytestmark = pytest.mark.unit

APP = "/subscriptions/s/resourceGroups/g/providers/Microsoft.App/containerApps/api"


def routed(ready: bool = True) -> tuple[Router, Replica, Replica]:
    router = Router()
    old, new = Replica("api--v1-a", "v1"), Replica("api--v2-a", "v2")
    router.add_replicas(APP, "api--v1", [old])
    router.add_replicas(APP, "api--v2", [new])
    router.set_ready(old, True)
    router.set_ready(new, ready)
    return router, old, new


def picks(router: Router, count: int, **where: str) -> collections.Counter[str]:
    chosen: collections.Counter[str] = collections.Counter()
    for _ in range(count):
        pick = router.pick(APP, **where)
        assert pick is not None
        chosen[pick.revision] += 1
        router.release(pick.replica)
    return chosen


def test_weights_split_requests_exactly_and_a_zero_weight_gets_none() -> None:
    router, _, _ = routed()
    router.set_traffic(APP, {"api--v1": 30, "api--v2": 70}, {})
    assert picks(router, 100) == {"api--v1": 30, "api--v2": 70}
    router.set_traffic(APP, {"api--v1": 100, "api--v2": 0}, {"canary": "api--v2"})
    assert picks(router, 50) == {"api--v1": 50}
    assert picks(router, 5, label="canary") == {"api--v2": 5}
    assert router.pick(APP, label="blue") is None


def test_a_revision_that_is_not_ready_takes_nothing_and_its_share_goes_to_the_ready_ones() -> None:
    router, _, _ = routed(ready=False)
    router.set_traffic(APP, {"api--v1": 50, "api--v2": 50}, {})
    assert picks(router, 20) == {"api--v1": 20}
    assert router.pick(APP, revision="api--v2") is None


def test_a_stopping_replica_is_never_picked_and_its_in_flight_requests_are_counted() -> None:
    router, old, _ = routed()
    router.set_traffic(APP, {"api--v1": 50, "api--v2": 50}, {})
    in_flight = [router.pick(APP) for _ in range(4)]
    assert old.in_flight == 2

    taken = router.stop_routing(APP, "api--v1")

    assert taken == [old] and old.stopping and not router.idle(taken)
    assert picks(router, 10) == {"api--v2": 10}
    for pick in in_flight:
        assert pick is not None
        router.release(pick.replica)
    assert router.idle(taken)
