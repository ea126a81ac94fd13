"""What is spotted in what the person sends, to protect them: an SMS code or a password, never
kept (`secrets.py`); personal details read off a screenshot, cut before anything keeps the text
(`redact.py`); talk of paying someone, answered with the scam warning (`safety.py`, the `safety`
flow)."""
