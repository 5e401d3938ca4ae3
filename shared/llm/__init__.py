"""LLM providers for the intelligence stage: one port, a fallback chain, accounting, tasks.

Importing this package imports no provider client library (openai, groq, ollama); each is
imported when a chain that uses it is first built.
"""
