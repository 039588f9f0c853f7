"""The Qwen3-Reranker prompt: byte-exact against the official template, and split the way vLLM's example does."""

from __future__ import annotations

from catalog_search.adapters.reranking.qwen3 import (ASSISTANT_SUFFIX, DEFAULT_INSTRUCTION, SYSTEM_PREFIX, format_document, format_query,
                           full_prompt)

# Written out by hand from the Qwen3-Embedding README (format_instruction + prefix + suffix).
OFFICIAL = (
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct '
    'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
    "<Instruct>: Find products\n<Query>: cordless drill\n<Document>: 18V drill, two batteries"
    "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
)


def test_full_prompt_is_the_official_template() -> None:
    assert full_prompt("cordless drill", "18V drill, two batteries", "Find products") == OFFICIAL


def test_query_and_document_parts_concatenate_to_the_full_prompt() -> None:
    q = format_query("cordless drill", "Find products")
    d = format_document("18V drill, two batteries")
    assert q + d == OFFICIAL
    assert q.startswith(SYSTEM_PREFIX) and q.endswith("<Query>: cordless drill\n")
    assert d.startswith("<Document>: ") and d.endswith(ASSISTANT_SUFFIX)


def test_default_instruction_when_none_but_empty_string_is_kept() -> None:
    assert f"<Instruct>: {DEFAULT_INSTRUCTION}\n" in format_query("q")
    assert "<Instruct>: \n<Query>: q\n" in format_query("q", "")


def test_text_is_not_escaped_or_stripped() -> None:
    doc = "  无线电钻 <b>{x}</b>\n"
    assert format_document(doc) == f"<Document>: {doc}{ASSISTANT_SUFFIX}"
    assert "<Query>: {query}\n" in format_query("{query}")
