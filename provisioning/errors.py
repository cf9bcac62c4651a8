"""One exception tree for provisioning: each carries what a user needs to act, in one line."""


class DeploymentError(RuntimeError):
    """A deployment could not be created, reached or removed."""


class DeploymentTimeout(DeploymentError):
    """A wait ran out: names the URL, how long we waited, what we saw last, and a likely cause."""

    def __init__(self, what: str, url: str, waited_s: float, last_seen: str, hint: str = "") -> None:
        self.what, self.url, self.waited_s, self.last_seen, self.hint = what, url, waited_s, last_seen, hint
        message = f"{what} at {url} not reached after {waited_s:.1f}s (last: {last_seen})"
        super().__init__(f"{message}; {hint}" if hint else message)


class EnvironmentUnavailable(DeploymentError):
    """The chosen environment cannot be used here (no Docker engine answering, no Azure credentials...)."""


class LogsUnavailable(DeploymentError):
    """The deployment's platform keeps its console output where this project does not read it (Container Apps:
    Log Analytics); the message says where to look."""


class RolloutRolledBack(DeploymentError):
    """A new revision failed a rollout check and was rolled back: the message names the check and what it saw;
    the revision that served before serves all traffic again."""
