"""The flow language: how the YAML under flows/ becomes conversations.

`definition.py` turns a parsed flow file into typed, checked data; `registry.py` holds the only
names a flow may use, and `actions.py`, `conditions.py` and `inputs.py` what those names do (the
support ladder adds its own, bot/core/ladder/contacts.py); `machine.py` compiles each flow into
a `transitions.Machine`; `check.py` checks the flows as a whole (what `python -m bot flows check`
reports, and what the engine needs from the content).
"""
