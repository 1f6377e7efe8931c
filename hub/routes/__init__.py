"""HTTP routes of the hub, one module per resource."""
