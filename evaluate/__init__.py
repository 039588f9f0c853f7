"""Relevance evaluation: judged queries through the real ingest and retrieval code (``catalog-search eval``)."""
