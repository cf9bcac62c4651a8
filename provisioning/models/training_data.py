"""The return series the published models are fitted and evaluated on, with the date of every return."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from provisioning.config_models import ModelDataSection
from service.garch.prefitted import TrainingData
from service.garch.spec import MAX_ABS_RETURN, MIN_RETURNS

SP500_SOURCE = "arch.data.sp500 (Adj Close, 100 x pct_change)"


class TrainingDataError(ValueError):
    """The configured data cannot be used: names the file, the row and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class DatedReturns:
    """Returns in percent, oldest first, and the trading day of each."""

    data: TrainingData
    dates: tuple[date, ...]

    def head(self, n_obs: int) -> "DatedReturns":
        """The first `n_obs` returns: the same series as it was on an earlier day."""
        dates = self.dates[:n_obs]
        return DatedReturns(
            data=TrainingData(
                source=self.data.source,
                returns=self.data.returns[:n_obs],
                first_date=dates[0].isoformat(),
                last_date=dates[-1].isoformat(),
            ),
            dates=dates,
        )


def load_training_data(section: ModelDataSection) -> DatedReturns:
    if section.source == "csv" and section.csv_path is not None:
        return csv_returns(section.csv_path)
    return sp500_returns()


def sp500_returns() -> DatedReturns:
    """What `service.garch.prefitted.load_sp500_returns` serves, with its dates."""
    from arch.data import sp500

    returns = 100 * sp500.load()["Adj Close"].pct_change().dropna()
    return _dated(SP500_SOURCE, returns.to_numpy(dtype=float), tuple(day.date() for day in returns.index))


def csv_returns(path: Path) -> DatedReturns:
    """A CSV of `date,return` rows (ISO dates, returns in percent), oldest first, one row a day."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str)  # numbers parsed below, by Python: exact whatever pandas' version
    except (OSError, ValueError) as error:
        raise TrainingDataError(f"{path}: cannot be read as CSV ({error})") from None
    columns = {str(column).strip().lower(): column for column in frame.columns}
    if not {"date", "return"} <= columns.keys():
        raise TrainingDataError(f"{path}: needs columns date and return, has {list(frame.columns)}")
    try:
        dates = pd.to_datetime(frame[columns["date"]], format="ISO8601")
        returns = np.array([_percentage(value, row) for row, value in enumerate(frame[columns["return"]], 2)])
    except (ValueError, TypeError) as error:
        raise TrainingDataError(f"{path}: {error}") from None
    bad = np.flatnonzero(~np.isfinite(returns) | (np.abs(returns) > MAX_ABS_RETURN))
    if bad.size:
        row, value = bad[0] + 2, returns[bad[0]]  # + header, 1-based
        raise TrainingDataError(
            f"{path}: row {row}: return {value} is not a finite percentage within +/-{MAX_ABS_RETURN:g}"
        )
    if not dates.is_monotonic_increasing or not dates.is_unique:
        raise TrainingDataError(f"{path}: dates must be strictly increasing (oldest first, one row a day)")
    return _dated(f"csv {path.name}", returns, tuple(day.date() for day in dates))


def _percentage(text: object, row: int) -> float:
    try:
        return float(str(text))
    except ValueError:
        raise ValueError(f"row {row}: return {text!r} is not a number") from None


def _dated(source: str, returns: np.ndarray, dates: tuple[date, ...]) -> DatedReturns:
    if returns.shape[0] < MIN_RETURNS:
        raise TrainingDataError(f"{source}: {returns.shape[0]} returns, a model needs at least {MIN_RETURNS}")
    data = TrainingData(
        source=source, returns=returns, first_date=dates[0].isoformat(), last_date=dates[-1].isoformat()
    )
    return DatedReturns(data=data, dates=dates)
