"""bot.wording takes the word-list file from common.settings (FORBIDDEN_WORDS_FILE)."""

from __future__ import annotations

import dataclasses

from bot.wording import REPO_ROOT, forbidden_words_path, load_forbidden_words
from common.settings import Settings


def test_the_word_list_file_comes_from_the_settings(tmp_path):
    words = tmp_path / "words.yml"
    words.write_text("zh: [坏词]\nen: [awful]\n", encoding="utf-8")
    settings = Settings.from_env({"FORBIDDEN_WORDS_FILE": str(words)})
    assert forbidden_words_path(settings) == words
    assert load_forbidden_words(forbidden_words_path(settings)) == {"zh": ["坏词"], "en": ["awful"]}


def test_a_relative_file_is_taken_from_the_repository_root():
    settings = dataclasses.replace(Settings(), forbidden_words_file=Settings().forbidden_words_file.relative_to(REPO_ROOT))
    assert forbidden_words_path(settings) == REPO_ROOT / "bot" / "forbidden_words.yml"


def test_the_default_is_the_shipped_list():
    assert forbidden_words_path(Settings()) == REPO_ROOT / "bot" / "forbidden_words.yml"
