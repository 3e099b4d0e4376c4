"""The declared accessibility need, read from what the customer wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from profiles.accessibility import need_from_text


@pytest.mark.parametrize("text, need", [
    ("我视力不好", "visual"),
    ("I'm visually impaired", "visual"),
    ("I use a screen reader", "visual"),
    ("我用读屏软件", "visual"),
    ("我耳朵不好，听不见电话", "hearing"),
    ("I'm hard of hearing", "hearing"),
    ("我手不方便，打字很慢", "motor"),
    ("I use a wheelchair and typing is hard", "motor"),
    ("我记性不好，长的看不懂", "cognitive"),
    ("I'm dyslexic", "cognitive"),
    ("ＳＣＲＥＥＮ ＲＥＡＤＥＲ please", "visual"),
])
def test_need_from_text(text: str, need: str) -> None:
    assert need_from_text(text) == need


@pytest.mark.parametrize("text", ["", None, "where is my order", "我想退货"])
def test_no_need_in_ordinary_lines(text: str | None) -> None:
    assert need_from_text(text) is None


def test_unknown_need_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("smell: [nose]", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown accessibility"):
        need_from_text("nose", path)
