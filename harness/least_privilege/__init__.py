"""Least privilege, checked on what was really deployed: the roles a run's identities hold, and where secrets are."""
