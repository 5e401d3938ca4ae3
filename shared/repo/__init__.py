"""Reads and writes behind the API functions, one module per resource."""
