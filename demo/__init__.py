"""Demo data for development and the tests: the seeded customers (``demo.seed``) and the demo console
users (``demo.users``). Product code never imports it; ``scripts/seed_demo.py`` and
``python -m desk.console.users seed-demo`` do.
"""
