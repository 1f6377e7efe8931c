"""The staff web app (plain ES modules), served by the hub at /console."""
