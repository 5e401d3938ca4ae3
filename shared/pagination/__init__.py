"""List pagination: signed cursors, keyset queries, the query parameters of list endpoints."""
