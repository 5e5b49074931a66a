"""Desktop notifications through a real D-Bus session bus (``dbus-daemon``)
with a small notification server speaking the freedesktop Notifications
interface (org.freedesktop.Notifications, Notify(susssasa{sv}i) -> u and the
ActionInvoked(us) signal, as the Desktop Notifications Specification 1.2
defines them), a desktop portal answering OpenURI(ssa{sv}) -> o (XDG Desktop
Portal, org.freedesktop.portal.OpenURI), and the paths where there is no
service."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import threading
import time
from datetime import timedelta

import pytest

from daemon.app import notify
from tests.servers.common import require_or_skip

from .test_run import START, acme


class _Server:
    """org.freedesktop.Notifications and the desktop portal on a bus: records
    what it is shown and the addresses it is asked to open; ``press`` plays
    a user pressing a notification's button."""

    def __init__(self, address: str, portal: bool = True):
        self.address = address
        self.portal = portal
        self.shown: list[tuple[str, str, str]] = []
        self.actions: list[list[str]] = []
        self.opened: list[str] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),), daemon=True).start()
        assert self.ready.wait(10), "the notification server did not start"

    async def _serve(self) -> None:
        from dbus_fast.aio import MessageBus
        from dbus_fast.service import ServiceInterface, method, signal

        shown, actions, opened = self.shown, self.actions, self.opened

        class Notifications(ServiceInterface):
            def __init__(self):
                super().__init__("org.freedesktop.Notifications")

            @method()
            def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s",  # noqa: F821
                       body: "s", actions_: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
                shown.append((app_name, summary, body))
                actions.append(list(actions_))
                return len(shown)

            @signal()
            def ActionInvoked(self, pair) -> "us":  # noqa: F821
                return pair

            @method()
            def GetCapabilities(self) -> "as":  # noqa: F821
                return ["body", "actions"]

            @method()
            def GetServerInformation(self) -> "ssss":  # noqa: F821
                return ["test", "followup tests", "1", "1.2"]

            @method()
            def CloseNotification(self, id: "u"):  # noqa: F821
                return None

        class Portal(ServiceInterface):
            def __init__(self):
                super().__init__("org.freedesktop.portal.OpenURI")

            @method()
            def OpenURI(self, parent_window: "s", uri: "s", options: "a{sv}") -> "o":  # noqa: F821
                opened.append(uri)
                return "/org/freedesktop/portal/desktop/request/1_1/t"

        bus = await MessageBus(bus_address=self.address).connect()
        self.notifications = Notifications()
        bus.export("/org/freedesktop/Notifications", self.notifications)
        await bus.request_name("org.freedesktop.Notifications")
        if self.portal:
            bus.export("/org/freedesktop/portal/desktop", Portal())
            await bus.request_name("org.freedesktop.portal.Desktop")
        self.ready.set()
        await asyncio.Event().wait()

    def press(self, number: int, action: str) -> None:
        """The user presses the button ``action`` of notification ``number``."""
        self.loop.call_soon_threadsafe(self.notifications.ActionInvoked, [number, action])


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
    assert notify.Notifier().tell(notify.Message("1 draft waiting", "thank-you email: Jane")) is False
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


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


LINK = "https://outlook.office365.com/owa/?ItemID=msg-1&exvsurl=1&viewmodel=ReadMessageItem"


@pytest.fixture
def notifier():
    made: list[notify.Notifier] = []

    def make(listen: bool = True) -> notify.Notifier:
        made.append(notify.Notifier(listen=listen))
        return made[-1]
    yield make
    for one in made:
        one.close()


def press(server: _Server, label: str) -> None:
    """The user presses the button ``label`` of the first notification."""
    actions = server.actions[0]  # (key, label) pairs
    server.press(1, actions[actions.index(label) - 1])


def test_a_button_opens_the_draft_through_the_desktop_portal(session_bus, notifier):
    server = _Server(session_bus)
    assert notifier().tell(notify.Message("1 draft waiting", "thank-you email: Jane", (("Open draft", LINK),)))
    press(server, "Open draft")
    assert _until(lambda: server.opened == [LINK]), server.opened


def test_a_process_that_does_not_stay_offers_no_buttons(session_bus, notifier):
    server = _Server(session_bus)
    assert notifier(listen=False).tell(notify.Message("1 draft waiting", "x", (("Open draft", LINK),)))
    assert server.actions and "Open draft" not in server.actions[0]


def test_without_a_portal_the_browser_module_opens_it(session_bus, notifier, monkeypatch):
    server = _Server(session_bus, portal=False)
    opened = []
    monkeypatch.setattr(notify.webbrowser, "open", opened.append)  # the user's browser is not ours to start
    assert notifier().tell(notify.Message("1 draft waiting", "x", (("Open draft", LINK),)))
    press(server, "Open draft")
    assert _until(lambda: opened == [LINK]) and server.opened == []


def test_only_web_addresses_are_ever_opened(session_bus, notifier):
    server = _Server(session_bus)
    listening = notifier()
    listening.tell(notify.Message("t", "x"))
    for url in ("file:///etc/passwd", "javascript:alert(1)", "http://plain.example/"):
        listening.open(url)
    listening.open(LINK)
    assert _until(lambda: server.opened == [LINK])


def test_summary_gives_each_linked_draft_a_button():
    one = notify.summary([notify.Written("thank-you email", "Jane Doe, Acme", LINK),
                          notify.Written("follow-up call", "Acme")])
    assert one.links == (("Open draft", LINK),)
    many = notify.summary([notify.Written("thank-you email", f"P{i}, Acme", f"{LINK}{i}") for i in range(5)])
    assert [label for label, _ in many.links] == ["Open: P0", "Open: P1", "Open: P2"]
    assert notify.summary([notify.Written("thank-you email", "Jane")]).links == ()


def _call_due(world):
    from daemon.store.state import State

    st = State(world.root / "state.sqlite3")
    try:
        (call,) = [r for r in st.records().values() if r.kind == "follow_up_call"]
        return call.due
    finally:
        st.close()


def test_the_morning_of_a_call_brings_one_reminder(world, session_bus):
    server = _Server(session_bus)
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    due = _call_due(world).astimezone(START.tzinfo)
    assert due.hour >= 9  # a morning reminder comes first
    day_before = due - timedelta(days=1)
    morning = due.replace(hour=8, minute=5)
    for moment in (day_before, morning, morning + timedelta(minutes=30), due + timedelta(minutes=5)):
        assert world.once(moment) == 0
    reminders = [(title, body) for _, title, body in server.shown if title.startswith("Follow-up call today")]
    (title,) = [p.read_text().partition("SUMMARY:")[2].partition("\n")[0].strip().replace("\\,", ",")
                for p in world.own_events() if "call" in p.read_text().lower()]
    assert reminders == [(f"Follow-up call today at {due:%H:%M}",
                          f"{title}\nWhat to say is in the calendar event.")]
    assert "Jane Doe" in title or "jane" in title.lower()


def test_a_call_the_user_deleted_is_not_reminded_of(world, session_bus):
    server = _Server(session_bus)
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    due = _call_due(world).astimezone(START.tzinfo)
    (call,) = [p for p in world.own_events() if b"SUMMARY:Follow-up call" in p.read_bytes()
               or b"SUMMARY:Call" in p.read_bytes()]
    call.unlink()
    assert world.once(due - timedelta(days=1)) == 0  # the deletion is noticed
    assert world.once(due.replace(hour=8, minute=5)) == 0
    assert not [t for _, t, _ in server.shown if t.startswith("Follow-up call today")]


def _wake_the_day_before_the_call(world):
    """When the daemon, a day before the follow-up call, plans to wake next;
    and the 08:00 of the call's day."""
    from daemon.app.config import load
    from daemon.app.engine import Engine

    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    due = _call_due(world).astimezone(START.tzinfo)
    engine = Engine(load(world.config))
    try:
        report = engine.run_pass(due - timedelta(days=1), apply=True)
    finally:
        engine.close()
    return report.plan.next_wake, due.replace(hour=8, minute=0)


def test_the_next_reminder_wakes_the_daemon(world):
    wake, morning = _wake_the_day_before_the_call(world)
    assert wake == morning


def test_a_call_the_user_moved_is_reminded_of_on_its_new_day(world, session_bus):
    import icalendar

    server = _Server(session_bus)
    acme(world)
    assert world.once(START + timedelta(hours=2, minutes=5)) == 0
    due = _call_due(world).astimezone(START.tzinfo)
    (path,) = [p for p in world.own_events() if b"call" in p.read_bytes().lower()]
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    for ev in cal.walk("VEVENT"):
        for prop in ("DTSTART", "DTEND"):
            moved = ev.decoded(prop) + timedelta(days=1, hours=3)
            del ev[prop]
            ev.add(prop, moved)
    path.write_bytes(cal.to_ical())
    assert world.once(due.replace(hour=8, minute=5)) == 0
    assert world.once(due.replace(hour=8, minute=5) + timedelta(days=1)) == 0
    reminders = [title for _, title, _ in server.shown if title.startswith("Follow-up call today")]
    assert reminders == [f"Follow-up call today at {due + timedelta(hours=3):%H:%M}"]


def test_a_draft_written_to_outlook_gets_a_button_that_opens_it(world, session_bus, tmp_path):
    from connectors.outlook import OutlookMailbox
    from daemon.app.config import load
    from daemon.app.engine import Engine
    from daemon.connector import Context
    from tests.fakes.graph import FakeGraph

    server = _Server(session_bus)
    fake = FakeGraph().start()
    box = fake.new_mailbox("alex@example.org")
    acme(world)
    engine = Engine(load(world.config))
    try:
        engine.mailboxes["mail"].close()
        engine.mailboxes["mail"] = OutlookMailbox(
            "mail", {"client_id": "cid", "graph_url": fake.url},
            Context(base_dir=tmp_path, state_dir=tmp_path), token=lambda: box.token)
        engine.notifier.listen = True
        engine.run_pass(START + timedelta(hours=2, minutes=5), apply=True)
        (draft,) = box.drafts()
        press(server, "Open draft")
        assert _until(lambda: server.opened == [draft["webLink"]]), server.opened
    finally:
        engine.close()
        fake.stop()


def test_with_notifications_off_no_reminder_wakes_the_daemon(world):
    world.config.write_text(world.config.read_text() + "\n[notifications]\nenabled = false\n")
    wake, morning = _wake_the_day_before_the_call(world)
    assert wake != morning



def test_a_new_session_bus_is_reached_by_the_next_notification(notifier, monkeypatch):
    # the service keeps running across a logout: the bus it knew is gone
    if shutil.which("dbus-daemon") is None:
        require_or_skip("dbus-daemon", "apt-get install dbus-daemon")
    listening = notifier()
    buses = []
    for _ in range(2):
        daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                                  stdout=subprocess.PIPE, text=True)
        address = daemon.stdout.readline().strip()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        server = _Server(address)
        buses.append((daemon, server))
        assert listening.tell(notify.Message(f"to bus {len(buses)}", "x"))
        assert [title for _, title, _ in server.shown] == [f"to bus {len(buses)}"]
        daemon.terminate()
        daemon.wait(10)
        if len(buses) == 1:
            assert not listening.tell(notify.Message("into the void", "x"))
