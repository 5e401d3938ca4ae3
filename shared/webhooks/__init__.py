"""Webhooks: signed inbound deliveries that start runs, and signed outbound run events."""
