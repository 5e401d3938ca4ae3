"""Pure cores of the web-intelligence pipeline: discovery, extraction and analysis."""
