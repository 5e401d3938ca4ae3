"""API authentication: hashed API keys with scopes, and the middleware that checks them."""
