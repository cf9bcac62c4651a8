"""The HorizontalPodAutoscaler's replica arithmetic (kubernetes.io, "Horizontal Pod Autoscaling", algorithm details):
desired = ceil(current * current metric / target metric), no change while that ratio is within the tolerance of 1.0
(0.1 by default), bounded by the HPA's minReplicas and maxReplicas. It is what `--action manifests`' HPA will do with
the configured target, so the README's table and the tests compute it rather than restate it."""

import math

DEFAULT_TOLERANCE = 0.1


def desired_replicas(
    current: int,
    metric: float,
    target: float,
    *,
    min_replicas: int = 1,
    max_replicas: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """Replicas the HPA asks for when `current` pods average `metric` against `target` (same unit, e.g. percent)."""
    if current < 1 or target <= 0 or metric < 0:
        raise ValueError(f"current {current} must be at least 1, target {target} above 0, metric {metric} not negative")
    ratio = metric / target
    wanted = current if abs(ratio - 1.0) <= tolerance else math.ceil(current * ratio)
    bounded = max(min_replicas, wanted)
    return min(bounded, max_replicas) if max_replicas is not None else bounded
