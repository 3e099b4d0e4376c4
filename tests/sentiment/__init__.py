"""Test package (unique module names: tests/actions/test_tickets.py vs tests/desk/test_tickets.py)."""
