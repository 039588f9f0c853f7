"""adapters/reranking"""
