"""Desktop notifications through a real D-Bus session bus (``dbus-daemon``)
with a small notification server speaking the freedesktop Notifications
interface (org.freedesktop.Notifications, Notify(susssasa{sv}i) -> u, as
the Desktop Notifications Specification 1.2 defines it), and the paths
where there is no service."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest

from daemon import notify
from tests.servers.common import require_or_skip

from .test_run import START, acme


class _Server:
    """org.freedesktop.Notifications on a bus: records what it is shown."""

    def __init__(self, address: str):
        self.address = address
        self.shown: list[tuple[str, str, str]] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),), daemon=True).start()
        assert self.ready.wait(10), "the notification server did not start"

    async def _serve(self) -> None:
        from dbus_fast.aio import MessageBus
        from dbus_fast.service import ServiceInterface, method

        shown = self.shown

        class Notifications(ServiceInterface):
            def __init__(self):
                super().__init__("org.freedesktop.Notifications")

            @method()
            def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s",  # noqa: F821
                       body: "s", actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
                shown.append((app_name, summary, body))
                return len(shown)

            @method()
            def GetCapabilities(self) -> "as":  # noqa: F821
                return ["body"]

            @method()
            def GetServerInformation(self) -> "ssss":  # noqa: F821
                return ["test", "followup tests", "1", "1.2"]

            @method()
            def CloseNotification(self, id: "u"):  # noqa: F821
                return None

        bus = await MessageBus(bus_address=self.address).connect()
        bus.export("/org/freedesktop/Notifications", Notifications())
        await bus.request_name("org.freedesktop.Notifications")
        self.ready.set()
        await asyncio.Event().wait()


@pytest.fixture
def session_bus(monkeypatch):
    if shutil.which("dbus-daemon") is None:
        require_or_skip("dbus-daemon", "apt-get install dbus-daemon")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                              stdout=subprocess.PIPE, text=True)
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    daemon.terminate()
    daemon.wait(10)


def test_a_pass_that_writes_drafts_shows_one_notification(world, session_bus):
    server = _Server(session_bus)
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    (shown,) = server.shown
    app, title, body = shown
    assert app == "followup" and title == "1 draft waiting to be personalised and sent"
    assert "thank-you email: jane@acme.example, Acme Corp" in body
    assert "follow-up call: Acme Corp" in body


def test_a_bus_without_a_notification_service_is_a_log_line(session_bus, caplog):
    caplog.set_level(logging.INFO, "followup")
    assert notify.Notifier().tell("1 draft waiting", "thank-you email: Jane") is False
    assert "notification not shown" in caplog.text


def test_no_session_bus_at_all_is_a_log_line_and_the_pass_goes_on(world, monkeypatch, caplog):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    caplog.set_level(logging.INFO, "followup")
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    assert "notification not shown (no D-Bus session bus" in caplog.text
    assert len(world.drafts_list()) == 1


def test_notifications_are_off_with_one_key(world, session_bus):
    server = _Server(session_bus)
    world.config.write_text(world.config.read_text() + "\n[notifications]\nenabled = false\n")
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    assert server.shown == []
