"""The WeChat Official Account library: API client, message codec, key-value stores, outbox and delivery.

No Rasa imports: the Rasa channel (``bot/connectors/wechat.py``, ``wechat_turns.py``) and the agent
console (``desk/gateway.py``) both build on it.
"""
