"""The `prod` environment on Azure Container Apps: a managed environment and one app whose revisions are images.

app_spec.py builds the ARM bodies (pure functions of the configuration), revisions.py reads what ARM says of the
app's revisions and traffic, registry_pull.py grants the app's identity AcrPull, deployment.py is the Deployment.
"""
