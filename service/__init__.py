"""The GARCH volatility prediction API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("garch-mlops")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
