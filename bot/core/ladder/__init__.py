"""The support ladder: whom to contact next about an API not renewed, and from when.

`rules.py` holds the ladder as rules (the next step, the date it opens, the préfecture
appointment's substitute route), `contacts.py` the conversation around it (the contacts the
person records, the advice, the follow-up), `letters.py` the ready-to-copy French messages and
`departements.py` the préfectures found from a number or a name.
"""
