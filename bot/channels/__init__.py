"""The edges: each channel turns outbox messages into its own wire format, and back."""
