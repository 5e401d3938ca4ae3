"""Observability: queue gauges computed at scrape time, CloudWatch EMF lines, statement logs."""
