"""The ``hf`` backend: a transformers seq2seq MT model folder (MarianMT, M2M100, NLLB-200).

How each family is told the languages:

- MarianMT (``opus-mt-<src>-<tgt>``, Tiedemann and Thottingal 2020): one pair per model, read from the
  tokenizer's ``source_lang`` / ``target_lang`` or the folder name; a multi-target model
  (``opus-mt-en-ROMANCE``) needs ``pairs=`` and gets the ``>>tgt<<`` prefix its card asks for.
- M2M100 (Fan et al. 2021): ``tokenizer.src_lang = src`` and the target code forced as the first
  generated token; codes are ISO 639-1 (``de``).
- NLLB-200 (NLLB Team 2022): the same, with FLORES-200 codes (``deu_Latn``); :data:`NLLB_CODES` maps
  ISO 639-1 to them.
"""

from __future__ import annotations

import re
from pathlib import Path

from hybrid_core.translate import TranslateError, check_pair
from hybrid_core.translate.cache import TranslationCache, cached_translate

#: ISO 639-1 -> NLLB-200 (FLORES-200) codes, for the languages of our sets and common others.
NLLB_CODES = {
    "ar": "arb_Arab", "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn", "es": "spa_Latn", "fr": "fra_Latn",
    "hi": "hin_Deva", "it": "ita_Latn", "ja": "jpn_Jpan", "ko": "kor_Hang", "nl": "nld_Latn", "pl": "pol_Latn",
    "pt": "por_Latn", "ru": "rus_Cyrl", "sw": "swh_Latn", "th": "tha_Thai", "tr": "tur_Latn", "uk": "ukr_Cyrl",
    "vi": "vie_Latn", "zh": "zho_Hans", "bn": "ben_Beng", "fa": "pes_Arab", "id": "ind_Latn", "te": "tel_Telu",
    "fi": "fin_Latn", "sv": "swe_Latn", "he": "heb_Hebr", "cs": "ces_Latn", "ro": "ron_Latn", "hu": "hun_Latn",
}  # fmt: skip
_OPUS = re.compile(r"opus-mt-(?P<src>[a-z]{2,3})-(?P<tgt>[a-z]{2,3})$")


class HFTranslator:
    """Translate with a local seq2seq model folder; batched greedy/beam decoding, cached on disk."""

    def __init__(
        self,
        model: str | Path,
        *,
        pairs: list[tuple[str, str]] | None = None,
        batch_size: int = 16,
        num_beams: int = 1,
        max_new_tokens: int = 128,
        device: str = "cpu",
        cache: TranslationCache | bool | None = True,
    ) -> None:
        from transformers import AutoConfig, AutoTokenizer

        from hybrid_core.models.loading import model_fingerprint

        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise TranslateError(
                f"{folder}: translation model folder not found (the hf backend takes a local folder of a "
                "transformers seq2seq MT model: MarianMT opus-mt-*, M2M100, NLLB-200)"
            )
        try:
            config = AutoConfig.from_pretrained(folder)
        except (OSError, ValueError) as exc:
            raise TranslateError(f"{folder}: not a transformers model folder ({exc})") from None
        if not getattr(config, "is_encoder_decoder", False):
            raise TranslateError(
                f"{folder}: model type {config.model_type!r} is not a seq2seq (encoder-decoder) model; the hf "
                "backend needs a translation model such as MarianMT opus-mt-*, M2M100 or NLLB-200"
            )
        self.folder = folder
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self._model = None  # loaded on first use: pairs and errors need only the config and tokenizer
        self.device = device
        self.batch_size, self.num_beams, self.max_new_tokens = batch_size, num_beams, max_new_tokens
        self.family = self._family(config)
        self._pairs = pairs
        self.label = f"hf-{folder.name}"
        self.model_key = f"{folder.name}:{model_fingerprint(folder)}:beams{num_beams}:max{max_new_tokens}"
        self.cache = TranslationCache() if cache is True else (cache or None)

    @property
    def model(self):
        """The seq2seq model, loaded on first use."""
        if self._model is None:
            from transformers import AutoModelForSeq2SeqLM

            self._model = AutoModelForSeq2SeqLM.from_pretrained(self.folder).to(self.device).eval()
        return self._model

    def _family(self, config) -> str:
        vocab = self.tokenizer.get_vocab()
        if "eng_Latn" in vocab or "Nllb" in type(self.tokenizer).__name__:
            return "nllb"
        if config.model_type == "m2m_100":
            return "m2m100"
        return "marian" if config.model_type == "marian" else config.model_type

    def languages(self) -> list[str]:
        """ISO 639-1 codes a many-to-many model knows (empty for a one-pair Marian model)."""
        vocab = self.tokenizer.get_vocab()
        if self.family == "nllb":
            return sorted(k for k, v in NLLB_CODES.items() if v in vocab)
        if self.family == "m2m100":
            return sorted(t.strip("_") for t in vocab if re.fullmatch(r"__[a-z]{2,3}__", t))
        return []

    def pairs(self) -> list[tuple[str, str]] | None:
        if self._pairs is not None:
            return [tuple(p) for p in self._pairs]
        if self.family in ("nllb", "m2m100"):
            langs = self.languages()
            return [(a, b) for a in langs for b in langs if a != b]
        src = getattr(self.tokenizer, "source_lang", None)
        tgt = getattr(self.tokenizer, "target_lang", None)
        if src and tgt:
            return [(src, tgt)]
        m = _OPUS.search(self.folder.name)
        return [(m["src"], m["tgt"])] if m else []

    def _generate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        import torch

        tok = self.tokenizer
        gen_kwargs: dict = {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens}
        if self.family in ("nllb", "m2m100"):
            src_code, tgt_code = (NLLB_CODES[src], NLLB_CODES[tgt]) if self.family == "nllb" else (src, tgt)
            tok.src_lang = src_code
            tgt_token = tgt_code if self.family == "nllb" else f"__{tgt_code}__"
            gen_kwargs["forced_bos_token_id"] = tok.convert_tokens_to_ids(tgt_token)
        prefix = f">>{tgt}<< " if self.family == "marian" and self._pairs is not None and len(self._pairs) > 1 else ""
        out: list[str] = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                chunk = [prefix + t for t in texts[i : i + self.batch_size]]
                enc = tok(chunk, return_tensors="pt", padding=True, truncation=True, max_length=512)
                enc.pop("token_type_ids", None)
                ids = self.model.generate(**{k: v.to(self.device) for k, v in enc.items()}, **gen_kwargs)
                out.extend(s.strip() for s in tok.batch_decode(ids, skip_special_tokens=True))
        return out

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        check_pair(self, src, tgt)
        if not texts:
            return []
        texts = list(texts)
        return cached_translate(self.cache, self.model_key, texts, src, tgt, lambda t: self._generate(t, src, tgt))
