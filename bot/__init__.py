"""Relais: a chat assistant for people under international protection facing ANEF."""

__version__ = "0.1.0"
