"""The Qwen3-Reranker prompt, exactly as in the Qwen3-Embedding README (pure functions, no I/O).

The model judges one (query, document) pair from this text::

    <|im_start|>system
    Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the
    answer can only be "yes" or "no".<|im_end|>
    <|im_start|>user
    <Instruct>: {instruction}
    <Query>: {query}
    <Document>: {doc}<|im_end|>
    <|im_start|>assistant
    <think>

    </think>

and the score is P("yes") = softmax over the logits of "yes" and "no" at the last position.

For ``/v1/rerank`` the text is split the way vLLM's own Qwen3 reranker examples do it (``examples/online_serving/
qwen3_rerank_client.py``): ``query = format_query(...)`` (system prefix, instruction and query, ending in a newline)
and each ``document = format_document(...)`` (``<Document>: ...`` plus the assistant suffix). vLLM serves the
original Qwen3 reranker as an "LLM as reranker" without a separator token, so it scores ``query + document``,
which is ``full_prompt(...)`` — the very text the local backend scores. This works on every vLLM version as long
as the server has NO score ``--chat-template`` (which would wrap the text a second time).
"""

from __future__ import annotations

SYSTEM_PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
    'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
)
ASSISTANT_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
# The instruction the official code falls back to when none is given.
DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
# The label tokens whose logits give the score (vLLM: ``classifier_from_token: ["no", "yes"]``).
YES_TOKEN = "yes"
NO_TOKEN = "no"


def format_query(query: str, instruction: str | None = None) -> str:
    """System prefix + ``<Instruct>`` + ``<Query>`` (the ``query`` field of a /v1/rerank request)."""
    instruction = DEFAULT_INSTRUCTION if instruction is None else instruction
    return f"{SYSTEM_PREFIX}<Instruct>: {instruction}\n<Query>: {query}\n"


def format_document(document: str) -> str:
    """``<Document>`` + the assistant suffix (one entry of the ``documents`` field of a /v1/rerank request)."""
    return f"<Document>: {document}{ASSISTANT_SUFFIX}"


def full_prompt(query: str, document: str, instruction: str | None = None) -> str:
    """The whole text the model scores for one pair: ``format_query(...) + format_document(...)``."""
    return format_query(query, instruction) + format_document(document)
