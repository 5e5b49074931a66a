"""Desktop notifications: a draft is waiting, a call is placed or due today.

Through ``desktop-notifier`` (freedesktop notifications over the D-Bus
session bus on Linux, Notification Center on macOS), imported only when
there is something to say. A machine without a notification service gets a
log line instead; a notification never fails a pass and delays it by at most
``WAIT_SECONDS``. Off with ``[notifications] enabled = false``.

A draft the provider can show on the web (Gmail, Outlook on the web) gets a
button that opens it. Buttons are offered only by a process that stays to
hear them (``followup run``, not ``run --once``); the address is handed to
the desktop through the XDG desktop portal (``org.freedesktop.portal.OpenURI``),
which opens the browser outside the service's sandbox, and to
``webbrowser`` where there is no portal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import webbrowser
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger("followup")

#: the longest a pass waits for the notification service
WAIT_SECONDS = 3.0
APP_NAME = "followup"
#: buttons on one notification (servers show few; the rest stay in the text)
MAX_BUTTONS = 3


@dataclass(frozen=True)
class Message:
    """One notification: a title, a few lines, and (button, address) links."""

    title: str
    text: str
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Written:
    """One follow-up a pass wrote, as the notification names it."""

    label: str  # "thank-you email", "follow-up call", ...
    who: str  # recipient and company, e.g. "Jane Doe, Acme Corp"
    link: str = ""  # web address of the draft, where the provider has one


def summary(written: Iterable[Written]) -> Message | None:
    """The notification for what a pass wrote; None if nothing."""
    items = list(written)
    if not items:
        return None
    drafts = [w for w in items if w.label.endswith("email")]
    events = [w for w in items if not w.label.endswith("email")]
    title = (f"{len(drafts)} draft{'s' if len(drafts) != 1 else ''} waiting to be personalised and sent"
             if drafts else f"{len(events)} follow-up{'s' if len(events) != 1 else ''} in your calendar")
    lines = [f"{w.label}: {w.who}" for w in items[:6]]
    if len(items) > 6:
        lines.append(f"and {len(items) - 6} more (followup status)")
    linked = [w for w in drafts if w.link][:MAX_BUTTONS]
    links = tuple(("Open draft" if len(linked) == 1 else f"Open: {w.who.split(',')[0][:30]}", w.link)
                  for w in linked)
    return Message(title, "\n".join(lines), links)


class Notifier:
    """Shows notifications, or logs them where no service is reachable.

    ``listen``: the process keeps running, so buttons can be answered.
    """

    def __init__(self, enabled: bool = True, listen: bool = False):
        self.enabled = enabled
        self.listen = listen
        self._loop: asyncio.AbstractEventLoop | None = None
        self._desktop = None  # the library's notifier, made on the loop

    def available(self) -> str | None:
        """None when a notification service can be reached, else why not."""
        if sys.platform == "darwin":
            return None
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
        return None

    def tell(self, message: Message) -> bool:
        """Show one notification; True when the service took it. Never raises."""
        if not self.enabled:
            return False
        why = self.available()
        if why is None:
            try:
                future = asyncio.run_coroutine_threadsafe(self._send(message), self._running_loop())
                future.result(WAIT_SECONDS)
                return True
            except TimeoutError:
                future.cancel()
                why = f"the service did not answer within {WAIT_SECONDS:.0f} s"
            except Exception as exc:  # noqa: BLE001 - a notification never fails a pass
                why = str(exc) or type(exc).__name__
        log.info("notification not shown (%s): %s: %s", why, message.title, message.text.replace("\n", "; "))
        return False

    def close(self) -> None:
        """Stop hearing button presses (the process ends or reloads)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
            self._desktop = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """One event loop in a thread of its own for the life of the process:
        the library hears button presses on it."""
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True, name="followup-notify").start()
            self._loop = loop
        return self._loop

    async def _send(self, message: Message) -> None:
        from desktop_notifier import Button, DesktopNotifier

        if self._desktop is None:
            # the library logs a failure with its traceback and goes on: the
            # outcome is told here instead, by whether it was dispatched
            logging.getLogger("desktop_notifier").setLevel(logging.CRITICAL)
            self._desktop = DesktopNotifier(app_name=APP_NAME)
        links = message.links if self.listen else ()
        buttons = [Button(title=label, on_pressed=lambda url=url: self.open(url)) for label, url in links]
        dispatched = asyncio.Event()
        try:
            await self._desktop.send(
                title=message.title, message=message.text, buttons=buttons,
                on_clicked=(lambda url=links[0][1]: self.open(url)) if len(links) == 1 else None,
                on_dispatched=dispatched.set)
            if not dispatched.is_set():
                raise RuntimeError("no notification service answered")
        except BaseException:
            # the bus may be gone (a new login session): the next one connects anew
            self._desktop = None
            raise

    def open(self, url: str) -> None:
        """Open ``url`` on the desktop (from a button press; never raises)."""
        if not url.startswith("https://"):
            return
        if self._loop is not None and sys.platform != "darwin":
            asyncio.run_coroutine_threadsafe(self._open(url), self._loop)
        else:
            _browser(url)

    async def _open(self, url: str) -> None:
        try:
            if await open_with_portal(url):
                return
        except Exception as exc:  # noqa: BLE001 - then the browser module
            log.debug("desktop portal: %s", exc)
        await asyncio.get_running_loop().run_in_executor(None, _browser, url)


async def open_with_portal(url: str) -> bool:
    """Ask the XDG desktop portal to open ``url`` (OpenURI, which works from a
    sandboxed service); False when no portal answers."""
    from dbus_fast import Message as BusMessage
    from dbus_fast import MessageType
    from dbus_fast.aio import MessageBus

    bus = await MessageBus().connect()
    try:
        reply = await asyncio.wait_for(bus.call(BusMessage(
            destination="org.freedesktop.portal.Desktop", path="/org/freedesktop/portal/desktop",
            interface="org.freedesktop.portal.OpenURI", member="OpenURI",
            signature="ssa{sv}", body=["", url, {}])), WAIT_SECONDS)
        return reply.message_type == MessageType.METHOD_RETURN
    finally:
        bus.disconnect()


def _browser(url: str) -> None:
    try:
        webbrowser.open(url)
    except Exception as exc:  # noqa: BLE001 - a link that does not open is only logged
        log.info("could not open %s: %s", url, exc)
