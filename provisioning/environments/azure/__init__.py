"""The `prod` environment: Azure Container Instances, provisioned with the Azure SDK for Python."""
