"""catalog-search: event-driven e-commerce catalog search (Kafka -> Qwen3 embeddings -> Milvus -> hybrid + rerank).

The one import root of the distribution. Its sub-packages are the project's top-level folders, mapped in by
``pyproject.toml`` (``[tool.setuptools.package-dir]``), one floor each; a floor imports only the floors below it
(docs/architecture.md; ``tests/test_layers.py`` checks it):

    core        domain: events, product, errors, limits, settings, the Protocols of every external system
    adapters    Milvus store, OpenAI-compatible/vLLM HTTP, Kafka, local models - each behind a core Protocol
    rerank, retrieve, ingest, evaluate
                pipelines built on the Protocols
    app         the shell: CLI, commands, wiring (settings -> adapters -> pipelines), demo, the embedded dev stack
"""

__version__ = "0.1.0"
