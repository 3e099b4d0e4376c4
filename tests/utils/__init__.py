"""Test helpers shared by the actions, desk and profiles tests (builders, fakes, domain loading)."""
