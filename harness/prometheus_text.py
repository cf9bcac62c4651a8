"""One sample out of a /metrics page, read with prometheus_client's own parser."""

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The value of sample `name` with exactly these labels; 0 when the page has none (a counter not yet moved)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


def synthetic_requests(text: str) -> tuple[float, float]:
    """All requests counted with traffic="synthetic" on a /metrics page, and those of them answered 4xx."""
    total = client_errors = 0.0
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            labels = found.labels
            if found.name == "garch_http_requests_total" and labels.get("traffic") == "synthetic":
                if labels.get("route") == "/metrics":
                    continue  # the scrapes that measure this
                total += found.value
                client_errors += found.value if found.labels.get("status", "").startswith("4") else 0.0
    return total, client_errors
