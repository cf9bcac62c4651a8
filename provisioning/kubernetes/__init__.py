"""AKS for teams that run Kubernetes: the manifests rendered from azure_config.yaml, and the HPA's arithmetic."""
