"""Issue 11 item 13: once an AES key is set, the WeChat channel runs in safe mode unless told otherwise,
so a signed but unencrypted body is refused."""

from __future__ import annotations

import pytest

from common.settings import Settings
from devtools.wechat_sim.simulator import WeChatSimulator
from wechat.api import Forbidden, WeChatCodec, WeChatConfig

AES_KEY = WeChatSimulator.aes_key_for_tests()


def _settings(**extra: str) -> Settings:
    sim = WeChatSimulator()
    env = {"WECHAT_TOKEN": sim.token, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APP_ID": sim.app_id, **extra}
    return Settings.from_env(env)


def test_an_aes_key_without_a_mode_means_safe_mode() -> None:
    assert _settings().wechat_mode == "safe"
    assert Settings.from_env({"WECHAT_TOKEN": "t"}).wechat_mode == "plain"


def test_with_an_aes_key_an_unencrypted_body_is_refused() -> None:
    settings = _settings()
    config = WeChatConfig.from_settings(settings)
    assert config is not None
    codec = WeChatCodec(config)
    plain = WeChatSimulator(token=settings.wechat_token or "")
    with pytest.raises(Forbidden):
        codec.open(*plain.signed(plain.text("o-attacker", "hi")))
    encrypted = WeChatSimulator(mode="safe", aes_key=AES_KEY, token=settings.wechat_token or "",
                                app_id=settings.wechat_app_id or "")
    assert codec.open(*encrypted.signed(encrypted.text("o-customer", "hi"))).inbound.openid == "o-customer"


def test_compatible_mode_only_when_asked_for() -> None:
    assert _settings(WECHAT_MODE="compatible").wechat_mode == "compatible"
