"""The user has the last word: include, exclude, answered, not-answered,
and the tags in the calendar, through the ``followup`` command."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from .world import World, ics_event

TZ = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, tzinfo=TZ)
ACME = ("Jane Doe", "jane@acme.example")


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def mail(sender: str, subject: str, at: datetime, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "me@example.org", subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = f"<{abs(hash((sender, subject)))}@mail.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("(body)")
    return msg.as_bytes()


def test_a_maybe_is_listed_with_its_command_and_include_makes_it_an_interview(world, capsys):
    world.add("m", ics_event("maybe-1@x", "Final round", START))
    data = world.plan(START + timedelta(hours=3), capsys)
    assert data["interviews"] == []
    (maybe,) = [i for i in data["ignored"] if i["cause"] == "unsure"]
    assert "followup include maybe-1@x" in maybe["reason"]
    assert world.once(START + timedelta(hours=3)) == 0
    assert world.drafts_list() == [] and world.own_events() == []
    capsys.readouterr()
    assert world.run("status") == 0
    out = capsys.readouterr().out
    assert "Maybe interviews" in out and "followup include maybe-1@x" in out

    assert world.run("include", "maybe-1@x") == 0
    data = world.plan(START + timedelta(hours=3), capsys)
    (iv,) = data["interviews"]
    assert iv["why"] == "you included it (followup include)"
    capsys.readouterr()
    assert world.run("status") == 0
    assert "followup include 'maybe-1@x'" in capsys.readouterr().out
    assert world.run("include", "--undo", "maybe-1@x") == 0
    assert world.plan(START + timedelta(hours=3), capsys)["interviews"] == []


def test_exclude_by_title_and_a_tag_in_the_calendar(world, capsys):
    world.add("a", ics_event("a@x", "Interview at Acme", START, organizer=ACME))
    world.add("b", ics_event("b@x", "Coffee with Sam [followup]", START + timedelta(days=1)))
    world.add("c", ics_event("c@x", "Interview at Initech [no followup]", START, organizer=ACME))
    data = world.plan(START + timedelta(hours=3), capsys)
    assert sorted(i["uid"] for i in data["interviews"]) == ["a@x", "b@x"]
    assert [i["cause"] for i in data["ignored"] if i["uid"] == "c@x"] == ["user"]
    assert world.run("exclude", "--title", "at acme") == 0
    data = world.plan(START + timedelta(hours=3), capsys)
    assert [i["uid"] for i in data["interviews"]] == ["b@x"]
    # an exclusion replaces an earlier inclusion of the same target
    assert world.run("include", "--title", "at acme") == 0
    assert sorted(i["uid"] for i in world.plan(START + timedelta(hours=3), capsys)["interviews"]) == [
        "a@x", "b@x"]


def test_include_reads_an_event_that_holds_no_interview_word_at_all(world, capsys):
    world.add("p", ics_event("plain@x", "Coffee with Sam", START))
    assert world.plan(START, capsys)["interviews"] == []  # not even parsed: nothing to look for
    assert world.run("include", "plain@x") == 0
    assert [i["uid"] for i in world.plan(START, capsys)["interviews"]] == ["plain@x"]


def test_answered_and_not_answered(world, capsys):
    world.add("a", ics_event("a@x", "Interview at Acme", START, organizer=ACME,
                             attendees=[(*ACME, "ACCEPTED"), ("Me", "me@example.org", "ACCEPTED")]))
    now = START + timedelta(days=8)
    world.deliver("vac", mail("Jane Doe <jane@acme.example>", "Automatic reply: Thank you",
                              START + timedelta(hours=3), Auto_Submitted="auto-replied"))
    world.deliver("order", mail("Acme Shop <orders@acme.example>", "Your order has shipped",
                                START + timedelta(days=1)))

    def status_check() -> dict:
        (iv,) = world.plan(now, capsys)["interviews"]
        return next(a for a in iv["actions"] if a["kind"] == "status_check_email")

    assert status_check()["state"] == "planned"  # neither is an answer
    world.deliver("real", mail("Jane Doe <jane@acme.example>", "Re: Thank you", START + timedelta(days=2)))
    check = status_check()
    assert check["state"] == "cancelled" and "jane@acme.example replied" in check["reason"]
    ref = check["reason"].rpartition("followup not-answered '")[2].rstrip("'")
    assert ref.startswith("<") and ref.endswith("@mail.example>")
    assert world.run("not-answered", ref) == 0
    assert status_check()["state"] == "planned"
    assert world.once(now) == 0  # the processes are known from the state
    assert world.run("answered", "acme") == 0
    check = status_check()
    assert check["state"] == "cancelled" and "followup answered" in check["reason"]


def test_answered_names_the_processes_when_it_cannot_tell(world, capsys):
    world.add("a", ics_event("a@x", "Interview at Acme", START, organizer=ACME))
    assert world.once(START + timedelta(hours=3)) == 0
    capsys.readouterr()
    assert world.run("answered", "globex") == 2
    err = capsys.readouterr().err
    assert "no hiring processes match 'globex'" in err and "'acme'" in err
