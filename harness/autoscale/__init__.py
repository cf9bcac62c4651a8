"""Watching a deployment scale: its replica count over time beside the load, and the figures that sum it up."""
