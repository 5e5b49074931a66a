"""Desktop notifications: a draft is waiting, a call is placed.

One notification per pass that wrote something, through ``desktop-notifier``
(freedesktop notifications over the D-Bus session bus on Linux, Notification
Center on macOS), imported only when there is something to say. A machine
without a notification service gets a log line instead; a notification
never fails a pass and delays it by at most ``WAIT_SECONDS``. Off with
``[notifications] enabled = false``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable

log = logging.getLogger("followup")

#: the longest a pass waits for the notification service
WAIT_SECONDS = 3.0
APP_NAME = "followup"


def summary(written: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """(title, text) for what a pass wrote: (kind label, where/for whom)
    pairs, e.g. ("thank-you email", "Jane Doe, Acme Corp"); None if nothing."""
    items = list(written)
    if not items:
        return None
    drafts = [who for kind, who in items if kind.endswith("email")]
    events = [(kind, who) for kind, who in items if not kind.endswith("email")]
    title = (f"{len(drafts)} draft{'s' if len(drafts) != 1 else ''} waiting to be personalised and sent"
             if drafts else f"{len(events)} follow-up{'s' if len(events) != 1 else ''} in your calendar")
    lines = [f"{kind}: {who}" for kind, who in items[:6]]
    if len(items) > 6:
        lines.append(f"and {len(items) - 6} more (followup status)")
    return title, "\n".join(lines)


class Notifier:
    """Shows notifications, or logs them where no service is reachable."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def available(self) -> str | None:
        """None when a notification service can be reached, else why not."""
        if sys.platform == "darwin":
            return None
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
        return None

    def tell(self, title: str, text: str) -> bool:
        """Show one notification; True when the service took it. Never raises."""
        if not self.enabled:
            return False
        why = self.available()
        if why is None:
            outcome: list[BaseException | None] = []
            thread = threading.Thread(target=self._send, args=(title, text, outcome), daemon=True,
                                      name="followup-notify")
            thread.start()
            thread.join(WAIT_SECONDS)
            if outcome and outcome[0] is None:
                return True
            why = f"{outcome[0]}" if outcome else f"the service did not answer within {WAIT_SECONDS:.0f} s"
        log.info("notification not shown (%s): %s: %s", why, title, text.replace("\n", "; "))
        return False

    @staticmethod
    def _send(title: str, text: str, outcome: list) -> None:
        try:
            import asyncio

            from desktop_notifier import DesktopNotifier

            # the library logs a failure with its traceback and goes on: the
            # outcome is told here instead, by whether it was dispatched
            logging.getLogger("desktop_notifier").setLevel(logging.CRITICAL)
            dispatched: list[bool] = []

            async def send() -> None:
                await DesktopNotifier(app_name=APP_NAME).send(
                    title=title, message=text, on_dispatched=lambda: dispatched.append(True))

            asyncio.run(send())
            outcome.append(None if dispatched else RuntimeError("no notification service answered"))
        except BaseException as exc:  # noqa: BLE001 - a notification never fails a pass
            outcome.append(exc)
