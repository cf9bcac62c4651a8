"""What a deployment costs: Azure's retail prices (a dated snapshot in the Retail Prices API's item format), the
meters' arithmetic, and the monthly estimate per resource for each target."""
