"""Load shapes: how many users run at each second of a load test (locust's LoadTestShape asks every second).

- steady: all `users` from the start (spawned at `spawn_rate`) for the whole duration;
- step: four equal steps up to `users` (a quarter more each quarter of the duration), the load an autoscaler
  should follow replica by replica;
- spike: a fifth of `users` for the first 40%, all of them for the next 20%, a fifth again for the rest.
Pure functions of time, so the shape a test asks for is the shape it gets, and unit tests can read it.
"""

import math
from typing import Literal

Shape = Literal["steady", "step", "spike"]
SHAPES: tuple[Shape, ...] = ("steady", "step", "spike")
STEPS = 4


def users_at(shape: Shape, elapsed_s: float, users: int, duration_s: float) -> int | None:
    """The users that should run `elapsed_s` into the test; None once it is over."""
    if elapsed_s >= duration_s:
        return None
    if shape == "steady":
        return users
    if shape == "step":
        step = min(STEPS, int(elapsed_s // (duration_s / STEPS)) + 1)
        return max(1, math.ceil(users * step / STEPS))
    if shape == "spike":
        base = max(1, math.ceil(users / 5))
        return users if 0.4 * duration_s <= elapsed_s < 0.6 * duration_s else base
    raise ValueError(f"unknown load shape {shape!r}: one of {', '.join(SHAPES)}")
