"""One tiny random sentence-transformers model builder for every test and benchmark that needs a model.

A 2-layer, hidden-32 BERT with a WordLevel tokenizer over the given words (BERT normalisation and
pre-tokenisation, so CJK characters and punctuation split as in real models), mean pooling and
normalisation, saved as a sentence-transformers folder. Seconds to build, milliseconds to encode.
"""

from __future__ import annotations

from pathlib import Path

HIDDEN = 32
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def save_tiny_st(
    out: Path,
    words: list[str],
    *,
    seed: int = 0,
    dropout: float = 0.1,
    prompts: dict[str, str] | None = E5_PROMPTS,
    max_seq_length: int = 64,
) -> Path:
    """Save the model at ``out`` (its Hugging Face weights beside it, in ``<out>-hf``); returns ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    vocab: dict[str, int] = {}
    for w in [*SPECIALS, "query", "passage", ":", *words]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    hf = out.with_name(out.name + "-hf")
    BertModel(config).save_pretrained(hf)
    fast.save_pretrained(hf)
    model = SentenceTransformer(
        modules=[Transformer(str(hf), max_seq_length=max_seq_length), Pooling(HIDDEN, "mean"), Normalize()],
        prompts=prompts,
        similarity_fn_name="cosine",
        device="cpu",
    )
    model.save(str(out))
    return out
