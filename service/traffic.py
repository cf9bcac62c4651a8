"""Synthetic traffic: requests a verification run sends (`X-Garch-Synthetic: 1`), counted apart from real use.

The request metrics carry a `traffic` label: "synthetic" for such requests, empty for all others (Prometheus
stores an empty label as no label, so the series of real traffic are the ones they always were). Alert rules on
ratios and latency leave synthetic traffic out, so verifying a quiet production deployment pages no one.
The header is not a credential: it only moves requests out of the alerting ratios, never past any check.
"""

SYNTHETIC_HEADER = "x-garch-synthetic"
SYNTHETIC_HEADER_VALUE = "1"
TRAFFIC_LABEL = "traffic"
SYNTHETIC = "synthetic"

_HEADER_BYTES = SYNTHETIC_HEADER.encode()
_VALUE_BYTES = SYNTHETIC_HEADER_VALUE.encode()


def traffic_of(headers: dict[bytes, bytes]) -> str:
    """The `traffic` label of a request from its raw ASGI headers: two label values, so cardinality stays bounded."""
    return SYNTHETIC if headers.get(_HEADER_BYTES) == _VALUE_BYTES else ""
