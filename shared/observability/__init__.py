"""Observability beyond the metric families: EMF lines, alerts received, the metric catalogue."""
