"""What the inbox's observatory pages need, assembled from the runtime: the observation
store, the note's sentences, and the French names of départements and problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.model import SOURCE_LOCALE
from bot.documents.note import NoteKnowledge
from bot.storage.observations import ObservationStore

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(frozen=True)
class Observatory:
    store: ObservationStore
    notes: NoteKnowledge
    departements: dict[str, str] = field(default_factory=dict)  # code -> "Name (code)"
    problems: dict[str, str] = field(default_factory=dict)  # id -> French title


def observatory_of(runtime: Runtime) -> Observatory:
    """The pages' store and French names, from the runtime's storage and content."""
    engine, speaker = runtime.engine, runtime.engine.speaker
    departements = {} if engine.support is None else {
        code: d.label for code, d in engine.support.departements.by_code.items()}
    problems = {} if speaker.catalogue is None else {
        pid: speaker.translator.render(p.title, SOURCE_LOCALE).text
        for pid, p in speaker.catalogue.problems.items()}
    return Observatory(ObservationStore(runtime.storage), runtime.notes, departements, problems)
