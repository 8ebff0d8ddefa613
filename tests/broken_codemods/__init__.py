"""Codemods made wrong on purpose, for tests that --verify refuses them. Never in codemods/."""
