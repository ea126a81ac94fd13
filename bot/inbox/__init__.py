"""The caseworker inbox (issue 8): web pages under /inbox, staff accounts and sessions.

Mount it with `inbox_routes(app, store, act, canned, clock)`; see `bot.inbox.mount`.
"""

from bot.inbox.app import StaffAction
from bot.inbox.mount import inbox_routes

__all__ = ["StaffAction", "inbox_routes"]
