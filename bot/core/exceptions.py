"""The project's one root exception.

Every exception class of Relais derives from `RelaisError`, so that an edge can tell the
project's own failures (content to fix, a setting missing, a message it cannot read) from a
bug in a library. Each class keeps its standard base too (`ValueError`, `LookupError`...), so
code that catches those still does. The message of each says how to fix the problem.
"""

from __future__ import annotations


class RelaisError(Exception):
    """Something Relais knows can go wrong."""
