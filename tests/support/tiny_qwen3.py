"""Build a tiny, randomly initialised Qwen3 checkpoint that vLLM can serve for embeddings and reranking.

Run with the vLLM virtualenv's python (it needs torch, transformers and tokenizers; the project's own venv has no
torch on purpose)::

    python tests/support/tiny_qwen3.py OUT_DIR

The checkpoint mirrors the layout of Qwen/Qwen3-Embedding-* (architecture ``Qwen3ForCausalLM``, sentence-transformers
last-token pooling + normalisation, ``<|endoftext|>`` appended by the tokenizer) at a tiny size:

* hidden_size 1024, so Matryoshka ``dimensions`` up to 1024 work as with the real 0.6B model;
* 2 layers, 2 attention heads of head_dim 64 (vLLM's CPU attention rejects head_dim 16), 1 KV head;
* a byte-level BPE tokenizer (any UTF-8 text, Chinese included) with whole-word tokens ``yes`` and ``no``, which
  the Qwen3 reranker conversion (``classifier_from_token: ["no", "yes"]``) looks up.

Everything is deterministic: the tokenizer is written by hand (no training) and weights come from a fixed seed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SEED = 20250101
HIDDEN_SIZE = 1024
VOCAB_SIZE = 512          # >= tokenizer size; the spare rows are simply never used
MAX_POSITIONS = 4096
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Words that get their own token (merged left to right from single bytes). "yes"/"no" are required by the reranker.
WORDS = ["yes", "no", " yes", " no", "Yes", "No", " the", " and", " of", " for", "ing", " with", "Query", "Instruct",
         " product", " search", " drill", " sofa", " cordless", " wireless"]

QUERY_PROMPT = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:"


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character map (what the ByteLevel pre-tokenizer emits)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def build_tokenizer_json() -> tuple[dict[str, int], list[str]]:
    """Return (vocab, merges) of a byte-level BPE: 256 byte tokens plus left-to-right merges for ``WORDS``."""
    byte_map = _bytes_to_unicode()
    vocab: dict[str, int] = {}
    for b in range(256):
        vocab[byte_map[b]] = len(vocab)
    merges: list[str] = []
    for word in WORDS:
        symbols = [byte_map[b] for b in word.encode("utf-8")]
        current = symbols[0]
        for sym in symbols[1:]:
            merged = current + sym
            if merged not in vocab:
                vocab[merged] = len(vocab)
                merges.append(f"{current} {sym}")
            current = merged
    return vocab, merges


def build_tokenizer(out_dir: Path) -> int:
    """Write the tokenizer files; return the id of ``<|endoftext|>``."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab, merges = build_tokenizer_json()
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges], fuse_unk=False,
                               byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    eos_id = tok.token_to_id("<|endoftext|>")
    # Like Qwen3-Embedding: the tokenizer appends <|endoftext|>, whose hidden state is the last-token embedding.
    tok.post_processor = processors.TemplateProcessing(
        single="$A <|endoftext|>", pair="$A <|endoftext|> $B:1 <|endoftext|>:1",
        special_tokens=[("<|endoftext|>", eos_id)])
    assert tok.token_to_id("yes") is not None and tok.token_to_id("no") is not None
    assert len(tok.get_vocab()) <= VOCAB_SIZE
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   model_max_length=MAX_POSITIONS)
    fast.padding_side = "left"
    fast.save_pretrained(str(out_dir))
    # Round trip check: any UTF-8 text, Chinese included.
    sample = "无线电钻 cordless drill, yes/no"
    ids = fast(sample, add_special_tokens=False)["input_ids"]
    assert fast.decode(ids) == sample, fast.decode(ids)
    return eos_id


def build_model(out_dir: Path, eos_id: int) -> None:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(SEED)
    config = Qwen3Config(
        vocab_size=VOCAB_SIZE,
        hidden_size=HIDDEN_SIZE,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=64,
        max_position_embeddings=MAX_POSITIONS,
        max_window_layers=2,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        initializer_range=0.2,   # larger than usual so that different texts give clearly different vectors
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=eos_id,
    )
    config.architectures = ["Qwen3ForCausalLM"]
    model = Qwen3ForCausalLM(config).to(torch.float32).eval()
    model.save_pretrained(str(out_dir), safe_serialization=True)


def write_sentence_transformers_files(out_dir: Path) -> None:
    """Pooling description as in Qwen3-Embedding: last token, then L2 normalisation (vLLM reads these)."""
    (out_dir / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    (out_dir / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": HIDDEN_SIZE, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": True, "include_prompt": True,
    }, indent=2))
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    (out_dir / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": QUERY_PROMPT, "document": ""}, "default_prompt_name": None, "similarity_fn_name": "cosine",
    }, indent=2))


def build_tiny_qwen3(out_dir: str | Path) -> Path:
    """Write the tiny checkpoint into ``out_dir`` (created if needed) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    eos_id = build_tokenizer(out)
    build_model(out, eos_id)
    write_sentence_transformers_files(out)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUT_DIR", file=sys.stderr)
        return 2
    print(build_tiny_qwen3(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
