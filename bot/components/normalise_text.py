"""Everyday noise out of the customer's message before the tokenizer; what they wrote kept as written.

``normalise`` (pure Python, used by the component and by the tests):

1. NFKC: full-width letters, digits and punctuation become their plain forms ("Ｅ２０２６" → "E2026");
2. Traditional → Simplified Chinese with OpenCC's ``t2s`` tables (``opencc-python-reimplemented``);
3. emoji are dropped (a message of emoji only is kept as it is: the fallback guard reads it);
4. a run of punctuation ("？？？", "!!!!", "?!?!", "。。。") becomes its first mark, spaces are collapsed;
5. English typos ("wher is my ordr") are corrected, but ONLY for a word that is in neither the English
   word list (pyspellchecker's) nor the training data's vocabulary: "jacket" is a word and stays "jacket".
   A correction is one edit away (a missing letter first, then swapped, changed, extra letter; the
   shop's own words before others, then the commoner word); acronyms (all capitals) and words touching
   digits are left alone, and a message made mostly of unknown words (keyboard mash) is not corrected.

Two pipeline components:

- ``TextNormaliser`` (first in ``config.yml``) replaces the message text with the normalised text for
  the tokenizer, featurizers and classifiers, and keeps ``text_original`` and ``text_normalised`` in the
  parse data. It learns the English vocabulary of the training data (stored with the model).
- ``OriginalText`` (last) puts the customer's own words back as the message text, so slots filled from
  text (an address, a comment), the transcript and the agent's view hold exactly what was written.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

TEXT_ORIGINAL = "text_original"
TEXT_NORMALISED = "text_normalised"
TEXT_MASH = "text_mash"  # True when the line is mostly words no list knows (keyboard mash): no feeling is read into it
_VOCABULARY_FILE = "english_vocabulary.json"

_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U000E0020-\U000E007F]+"
)
# a run of two or more punctuation marks (ASCII and CJK), kept as its first mark
_PUNCT_RUN = re.compile(r"([!?.,;:~。，、；：！？～…])[!?.,;:~。，、；：！？～…]+")
_SPACES = re.compile(r"[ \t\u3000]+")
# a Latin word not touching digits or other Latin letters ("E2026…" and "iPhone15" are left alone)
_WORD = re.compile(r"(?<![A-Za-z0-9'])[A-Za-z][A-Za-z']*(?![A-Za-z0-9'])")
_VOCAB_WORD = re.compile(r"[a-z][a-z']+")

# chat shorthand that no word list holds; everything else goes through the spelling correction
SHORTHAND = {"pls": "please", "plz": "please", "u": "you", "ur": "your", "thx": "thanks", "ty": "thank you"}
_MIN_CORRECTED = 3  # shorter words are too ambiguous to correct


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _speller() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def _letters() -> str:
    return "abcdefghijklmnopqrstuvwxyz"


def _edits(word: str) -> list[tuple[int, str]]:
    """(kind, candidate) one edit away; kind 0 = a missing letter put back, 1 = swapped letters,
    2 = a changed letter, 3 = an extra letter taken out (the order typists make them in, commonest first)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out: list[tuple[int, str]] = []
    out += [(0, a + c + b) for a, b in splits for c in _letters()]
    out += [(1, a + b[1] + b[0] + b[2:]) for a, b in splits if len(b) > 1]
    out += [(2, a + c + b[1:]) for a, b in splits if b for c in _letters() if c != b[0]]
    out += [(3, a + b[1:]) for a, b in splits if b]
    return out


class Speller:
    """Corrects a word only when neither the English word list nor the shop's vocabulary knows it."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self.vocabulary = {w.lower() for w in vocabulary}

    def known(self, word: str) -> bool:
        w = word.lower()
        return w in self.vocabulary or w in _speller().word_frequency

    def _frequency(self, word: str) -> int:
        return int(_speller().word_frequency[word] or 0)

    def correct(self, word: str) -> str:
        lower = word.lower()
        if lower in SHORTHAND:
            return SHORTHAND[lower]
        if len(word) < _MIN_CORRECTED or (word.isupper() and len(word) > 1) or self.known(word):
            return word
        best: tuple[tuple[int, int, int], str] | None = None
        for kind, candidate in _edits(lower):
            if candidate == lower or len(candidate) < 2 or not self.known(candidate):
                continue
            rank = (0 if candidate in self.vocabulary else 1, kind, -self._frequency(candidate))
            if best is None or rank < best[0]:
                best = (rank, candidate)
        if best is None:
            return word
        fixed = best[1]
        return fixed[0].upper() + fixed[1:] if word[0].isupper() else fixed


def normalise(text: str, speller: Speller | None = None) -> str:
    """The message as the classifier should read it (see the module docstring); "" stays ""."""
    if not text or text.startswith("/"):  # empty, or a button payload ("/inform{...}")
        return text
    out = unicodedata.normalize("NFKC", text)
    out = _converter().convert(out)
    without_emoji = _EMOJI.sub(" ", out)
    if without_emoji.strip():
        out = without_emoji
    out = _PUNCT_RUN.sub(r"\1", out)
    out = _SPACES.sub(" ", out).strip()
    speller = speller or Speller()
    if is_mash(out, speller):
        return out  # mostly words no list knows: keyboard mash, not typos (the fallback guard reads it as is)
    return _WORD.sub(lambda m: speller.correct(m.group()), out)


def is_mash(text: str, speller: Speller) -> bool:
    """Mostly Latin words that no word list knows ("zzkq bnnm ttrw"): keyboard mash, not a message."""
    words = [w for w in _WORD.findall(text) if w.lower() not in SHORTHAND]
    unknown = [w for w in words if not speller.known(w)]
    return len(unknown) >= 2 and len(unknown) * 2 > len(words)


def english_vocabulary(texts: Iterable[str]) -> set[str]:
    """The lower-case English words of the training examples (the shop's own words: "wechat", "alipay")."""
    words: set[str] = set()
    for text in texts:
        words.update(_VOCAB_WORD.findall(unicodedata.normalize("NFKC", text or "").lower()))
    return words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class TextNormaliser(GraphComponent):
    """First in the pipeline: the normalised text for NLU, the customer's own text kept alongside."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, model_storage: ModelStorage, resource: Resource, vocabulary: Iterable[str] = ()) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._speller = Speller(vocabulary)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormaliser:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TextNormaliser:
        vocabulary: list[str] = []
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / _VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.debug("no vocabulary stored for %s; the English word list alone is used", resource.name)
        return cls(model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary = english_vocabulary(m.get(TEXT) for m in training_data.training_examples)
        self._speller = Speller(vocabulary)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _VOCABULARY_FILE).write_text(json.dumps(sorted(vocabulary)), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # the examples are read the way live messages are (no spelling correction: they are written well)
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if isinstance(text, str) and text:
                example.set(TEXT, normalise(text, _NoCorrection()))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            normalised = normalise(text, self._speller)
            if not text.startswith("/") and is_mash(normalised, self._speller):
                message.set(TEXT_MASH, True)
            message.set(TEXT_ORIGINAL, text, add_to_output=True)
            message.set(TEXT_NORMALISED, normalised, add_to_output=True)
            message.set(TEXT, normalised)
        return messages


class _NoCorrection(Speller):
    def correct(self, word: str) -> str:
        return word


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class OriginalText(GraphComponent):
    """Last in the pipeline: the message text is what the customer wrote again."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OriginalText:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            original = message.get(TEXT_ORIGINAL)
            if isinstance(original, str):
                message.set(TEXT, original)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
