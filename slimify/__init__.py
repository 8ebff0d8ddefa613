"""slimify: migrate deep-learning model code between dialects, proving every rewrite."""

__version__ = "0.1.0"
