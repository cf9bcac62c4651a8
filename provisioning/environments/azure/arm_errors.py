"""ARM's errors as ours: one line with the operation, ARM's error code and its message."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioning.errors import DeploymentError

T = TypeVar("T")


class ArmError(DeploymentError):
    """An ARM request failed for good (after the SDK's own retries): a conflict, a bad request, a quota."""

    def __init__(self, operation: str, status: int | None, code: str, message: str) -> None:
        self.operation, self.status, self.code, self.arm_message = operation, status, code, message
        super().__init__(f"{operation} failed: {code} (HTTP {status}): {message}")


def arm_error(operation: str, error: HttpResponseError) -> ArmError:
    code = getattr(error.error, "code", None) or getattr(error, "reason", None) or "Unknown"
    message = getattr(error.error, "message", None) or str(error.message).splitlines()[0]
    return ArmError(operation, error.status_code, str(code), str(message).replace("\n", " "))


@contextmanager
def arm_operation(operation: str) -> Iterator[None]:
    """Turn the SDK's HttpResponseError into an ArmError naming what we were doing."""
    try:
        yield
    except HttpResponseError as error:
        raise arm_error(operation, error) from error


def get_or_none(operation: str, call: Callable[[], T]) -> T | None:
    """The resource, or None when ARM says it does not exist."""
    try:
        return call()
    except ResourceNotFoundError:
        return None
    except HttpResponseError as error:
        raise arm_error(operation, error) from error
