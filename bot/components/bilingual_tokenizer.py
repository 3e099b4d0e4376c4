"""A tokenizer for Chinese, English and mixed turns in one model.

Chinese runs go through jieba (with the shop's user dictionary from ``nlu_data/jieba``), Latin runs
through spaCy's rule-based English tokenizer (``spacy.blank("en")``: contractions, e-mail, URLs,
order numbers stay whole). Whitespace and bare punctuation are dropped. "我的order E20261120001到哪了"
→ 我的 · order · E20261120001 · 到 · 哪 · 了.
"""

from __future__ import annotations

import glob
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$", re.UNICODE)
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")


def split_runs(text: str) -> list[tuple[str, int, bool]]:
    """Split ``text`` into (run, offset, is_chinese) pieces, in order."""
    runs: list[tuple[str, int, bool]] = []
    last = 0
    for match in _CJK_RUN.finditer(text):
        if match.start() > last:
            runs.append((text[last : match.start()], last, False))
        runs.append((match.group(), match.start(), True))
        last = match.end()
    if last < len(text):
        runs.append((text[last:], last, False))
    return runs


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class BilingualTokenizer(Tokenizer):
    """jieba for Chinese runs + spaCy for Latin runs."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        return None

    @staticmethod
    def required_packages() -> list[str]:
        return ["jieba", "spacy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "dictionary_path": None,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        import jieba
        import spacy

        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self._spacy = spacy.blank("en")

    def _load_dictionaries(self, directory: str) -> None:
        for path in sorted(glob.glob(f"{directory}/*")):
            logger.debug("loading jieba user dictionary %s", path)
            self._jieba.load_userdict(path)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BilingualTokenizer:
        tokenizer = cls(config, model_storage, resource)
        if config.get("dictionary_path"):
            tokenizer._load_dictionaries(config["dictionary_path"])
        return tokenizer

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BilingualTokenizer:
        tokenizer = cls(config, model_storage, resource)
        if config.get("dictionary_path"):
            try:
                with model_storage.read_from(resource) as directory:
                    tokenizer._load_dictionaries(str(directory))
            except ValueError:
                logger.debug("no jieba dictionary stored for %s", resource.name)
        return tokenizer

    def train(self, training_data: TrainingData) -> Resource:
        dictionary_path = self._config.get("dictionary_path")
        if dictionary_path:
            with self._model_storage.write_to(self._resource) as directory:
                for path in glob.glob(f"{dictionary_path}/*"):
                    shutil.copy2(path, Path(directory))
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        tokens: list[Token] = []
        for run, offset, chinese in split_runs(text):
            if chinese:
                for word, start, _end in self._jieba.tokenize(run):
                    if not _PUNCT_ONLY.match(word):
                        tokens.append(Token(word, offset + start))
            else:
                for token in self._spacy.tokenizer(run):
                    if token.is_space:
                        continue
                    if _PUNCT_ONLY.match(token.text) and not _EMOJI.search(token.text):
                        continue
                    tokens.append(Token(token.text, offset + token.idx))
        if not tokens:
            # Rasa's featurizers need at least one token: keep the (stripped) text as one
            stripped = text.strip() or text or " "
            tokens = [Token(stripped, max(0, text.find(stripped)))]
        return self._apply_token_pattern(tokens)
