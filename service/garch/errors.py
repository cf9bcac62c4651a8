"""Why a series could not be modelled: raised with a message that a client can act on."""


class UnprocessableSeriesError(ValueError):
    """The returns are well-formed but cannot be modelled (constant, or the fit produced non-finite numbers)."""

    def __init__(self, reason: str, message: str, field: str = "returns") -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message
