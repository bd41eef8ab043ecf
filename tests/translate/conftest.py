"""A tiny random MarianMT model with a WordLevel tokenizer, built offline (no sentencepiece, no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

WORDS = ["where", "is", "the", "river", "sea", "wo", "ist", "der", "fluss", "meer", "?", "."]


def save_tiny_marian(out: Path, words: list[str] = WORDS, seed: int = 0) -> Path:
    """A 1-layer, d_model-16 Marian model saved at ``out`` (name it ``opus-mt-<src>-<tgt>`` for its pair)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    vocab: dict[str, int] = {}
    for w in ["<pad>", "</s>", "<unk>", *words]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", vocab["</s>"])])
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>")
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=vocab["</s>"],
    )
    MarianMTModel(config).save_pretrained(out)
    fast.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    return save_tiny_marian(tmp_path_factory.mktemp("mt") / "opus-mt-en-de")
