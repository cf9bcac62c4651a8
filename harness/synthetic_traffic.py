"""What every verification client sends: the synthetic-traffic header (service/traffic.py), so the service counts
its requests apart and the alert rules leave them out, and the API key when the deployment has one.

Tests that play a misbehaving real client to make an alert fire (tests/alerts) send no such header on purpose.
"""

from service.traffic import SYNTHETIC_HEADER, SYNTHETIC_HEADER_VALUE

API_KEY_HEADER = "X-API-Key"
SYNTHETIC_HEADERS: dict[str, str] = {SYNTHETIC_HEADER: SYNTHETIC_HEADER_VALUE}


def api_key_headers(api_key: str | None) -> dict[str, str]:
    """The key alone, when one is given: for a client that plays real traffic (not marked synthetic)."""
    return {API_KEY_HEADER: api_key} if api_key else {}


def verification_headers(api_key: str | None) -> dict[str, str]:
    """Headers for a verification client: marked synthetic, with the key when one is given."""
    return {**SYNTHETIC_HEADERS, **api_key_headers(api_key)}
