"""How many wrong API keys a client address may try: a generic cell rate limit (GCRA) per address.

An address may send `limit` wrong keys at once, and after that one more every `window_s / limit` seconds: a
brute force gets a trickle of guesses, while a client that mistyped its key is back within seconds. Only wrong
keys count; the address's requests are refused (429) while its allowance is used up, whatever key they carry, so a
right guess cannot get through either.

State is in memory, per worker process (with N workers an address gets up to N times the limit), one float per
address that has sent a wrong key lately: an entry is dropped once its allowance is full again, and at most
`max_addresses` are kept (the least recently refused go first), so a flood of addresses cannot grow it unbounded.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_ADDRESSES = 10_000


class WrongKeyLimiter:
    """Per-address allowance of wrong keys. Not thread-safe: it lives on one worker's event loop."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0 or max_addresses < 1:
            raise ValueError(f"limit {limit} and max_addresses {max_addresses} must be >= 1, window_s {window_s} > 0")
        self.interval_s = window_s / limit  # one wrong key's share of the window
        self.tolerance_s = window_s - self.interval_s  # how far ahead of now the allowance may be spent
        self.max_addresses = max_addresses
        self._clock = clock
        self._spent_until: OrderedDict[str, float] = OrderedDict()  # address -> when its allowance is full again

    def retry_after_s(self, address: str) -> int:
        """0 when `address` may try a key now; otherwise whole seconds until it may (at least 1)."""
        spent_until = self._spent_until.get(address)
        if spent_until is None:
            return 0
        wait = spent_until - self.tolerance_s - self._clock()
        return math.ceil(wait) if wait > 0 else 0

    def record_wrong_key(self, address: str) -> None:
        """Spend one of `address`'s allowance."""
        now = self._clock()
        spent_until = max(self._spent_until.pop(address, now), now) + self.interval_s
        self._spent_until[address] = spent_until  # at the end: the order is least recently refused first
        self._forget_recovered(now)

    def tracked(self) -> int:
        """Addresses held now (for tests and bounds)."""
        return len(self._spent_until)

    def _forget_recovered(self, now: float) -> None:
        entries = self._spent_until
        while entries:
            oldest, spent_until = next(iter(entries.items()))
            if spent_until > now and len(entries) <= self.max_addresses:
                return
            del entries[oldest]
