"""Rasa input channels of the assistant (registered in ``bot/credentials.yml``)."""
