"""Database reads (and the few writes) behind the dashboard pages, one module per page."""
