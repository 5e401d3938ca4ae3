"""ops package: platform chores that run as functions in the cloud."""
