"""The pure core: conversation flows, the engine and the texts.

Nothing in this package performs I/O, reads the environment or the wall clock, or draws random
numbers. Time, ids and catalogs are passed in. `tests/test_architecture.py` enforces it.
"""
