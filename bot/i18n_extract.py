"""Babel extractor for the conversation flows: `pybabel extract -F babel.cfg` reads flows/*.yaml.

Every mapping that has a `key` and a `text` is a message: the key becomes the gettext context,
the French text the message id, and the `note` the translator comment.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml


def _scalar(node: yaml.MappingNode, name: str) -> yaml.ScalarNode | None:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name and isinstance(
                value, yaml.ScalarNode):
            return value
    return None


def _walk(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        yield node
        for _, value in node.value:
            yield from _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)


Extracted = tuple[int, str, tuple[str, ...], list[str]]


def extract_flow(fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
                 options: Mapping[str, Any]) -> Iterator[Extracted]:
    root = yaml.compose(fileobj.read().decode("utf-8"), Loader=yaml.SafeLoader)
    if root is None:
        return
    for mapping in _walk(root):
        key, text = _scalar(mapping, "key"), _scalar(mapping, "text")
        french = _scalar(mapping, "french")
        if key is None or text is None or (french is not None and french.value == "true"):
            continue  # `french: true` texts are sent in French on purpose
        note = _scalar(mapping, "note")
        comments = [" ".join(note.value.split())] if note is not None else []
        # Same normalisation as bot.core.flows.definition: the message id is the stripped text.
        plural = _scalar(mapping, "plural")
        if plural is not None:
            yield (text.start_mark.line + 1, "npgettext",
                   (key.value, text.value.strip(), plural.value.strip()), comments)
        else:
            yield text.start_mark.line + 1, "pgettext", (key.value, text.value.strip()), comments
