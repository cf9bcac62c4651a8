"""The numerical layer: GARCH-family specifications, fits and forecasts, all computed by arch."""
