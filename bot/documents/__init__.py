"""Documents the assistant hands to a person: the note about the API for an organisation that
refuses it, and the complaint text for the Défenseur des droits (PDF and plain text)."""
