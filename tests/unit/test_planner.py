"""The planner's decisions, applied to an in-memory record table.

``settle`` stores each action's resulting record the way the executor does
when the provider call succeeds, so several passes can be chained.
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from daemon.drafts.compose import Composer
from daemon.judge.detection import Ignored, classify
from daemon.model import Attendee, CalendarEvent, Reply, StoredItem
from daemon.plan import planner, timing
from daemon.plan.planner import CALL, NOTE, STATUS, THANK_YOU, PlanInput
from daemon.settings import Detection, HandwrittenNotePolicy, Me, Policy, StatusCheckPolicy

TZ = ZoneInfo("America/New_York")
ME = Me(name="Alex Morgan", email="me@example.org", timezone="America/New_York")
COMPOSER = Composer.load(ME, None)
DAYS = timing.BusinessDays()


def interview(uid="r1", title="Phone screen - Acme (Backend Engineer)", start=datetime(2026, 11, 2, 14, tzinfo=TZ),
              people=(("Jane Doe", "jane@acme.example"), ("Bob Roe", "bob@acme.example")), status="CONFIRMED",
              description=""):
    ev = CalendarEvent(uid=uid, start=start, end=start + timedelta(hours=1), title=title, status=status,
                       description=description,
                       attendees=tuple(Attendee(email=e, name=n) for n, e in people)
                       + (Attendee(email="me@example.org", partstat="ACCEPTED"),))
    return classify(ev, "cal", Detection(), ME.addresses, TZ)


def make_input(now, interviews, records=None, replies=None, policy=Policy(), withdrawn=()):
    return PlanInput(now=now, tz=TZ, policy=policy, days=DAYS, composer=COMPOSER,
                     interviews=interviews, withdrawn=withdrawn, records=records or {},
                     replies=replies or {}, mailbox_of={"cal": "mail"})


def settle(records, plan):
    for a in plan.actions:
        rec = a.record
        if a.op.startswith("create"):
            rec = replace(rec, ref=f"ref-{rec.key[:6]}", etag="e1")
        records[rec.key] = rec
    return records


def by_kind(plan, kind):
    return [o for o in plan.outcomes if o.kind == kind]


def ops(plan):
    return sorted((a.op, a.record.kind) for a in plan.actions)


def test_before_the_interview_everything_is_planned():
    iv = interview()
    plan = planner.plan(make_input(iv.start - timedelta(days=1), [iv]))
    assert {a.op for a in plan.actions} == {"record"}
    thanks = by_kind(plan, THANK_YOU)
    assert [o.to for o in thanks] == [("jane@acme.example",), ("bob@acme.example",)]
    assert all(o.due == iv.end + timedelta(hours=1) for o in thanks)
    assert by_kind(plan, CALL)[0].due == datetime(2026, 11, 9, 10, tzinfo=TZ)
    assert by_kind(plan, STATUS)[0].due == datetime(2026, 11, 16, 9, tzinfo=TZ)
    assert by_kind(plan, NOTE)[0].state == "cancelled"  # off by default


def test_calendar_follow_ups_are_written_once_the_interview_ended():
    iv = interview()
    plan = planner.plan(make_input(iv.end + timedelta(minutes=1), [iv]))
    assert ("create_event", CALL) in ops(plan)
    assert not any(op == "create_draft" for op, _ in ops(plan))
    call = next(a for a in plan.actions if a.op == "create_event")
    assert call.event.start == datetime(2026, 11, 9, 10, tzinfo=TZ)
    assert call.event.end - call.event.start == timedelta(minutes=15)
    assert "Acme" in call.event.title or "Acme" in call.event.description


def test_one_thank_you_draft_per_interviewer_at_end_plus_one_hour():
    iv = interview()
    records = settle({}, planner.plan(make_input(iv.end, [iv])))
    plan = planner.plan(make_input(iv.end + timedelta(hours=1), [iv], records))
    drafts = [a for a in plan.actions if a.op == "create_draft"]
    assert sorted(d.draft.to[0].email for d in drafts) == ["bob@acme.example", "jane@acme.example"]
    assert all(b"X-Followup-Key" in d.draft.raw for d in drafts)


def test_a_draft_is_composed_only_when_needed_with_the_recorded_message_id(monkeypatch):
    iv = interview()
    records = settle({}, planner.plan(make_input(iv.end, [iv])))
    composed = []
    real = COMPOSER.draft
    monkeypatch.setattr(COMPOSER, "draft", lambda *a: composed.append(a) or real(*a))
    plan = planner.plan(make_input(iv.end + timedelta(hours=1), [iv], records))
    drafts = [a for a in plan.actions if a.op == "create_draft"]
    assert len(drafts) == 2 and composed == []  # a dry run never builds the messages
    assert all(d.draft.message_id == d.record.message_id for d in drafts)
    assert drafts[0].draft is drafts[0].draft and len(composed) == 2  # once each


def test_no_known_address_gives_one_draft_with_empty_to():
    iv = interview(people=(("Jane", None),))
    plan = planner.plan(make_input(iv.end + timedelta(hours=2), [iv]))
    drafts = [a for a in plan.actions if a.op == "create_draft" and a.record.kind == THANK_YOU]
    assert len(drafts) == 1 and drafts[0].draft.to == ()
    assert b"\nTo:" not in drafts[0].draft.raw


def test_thank_you_expires_three_days_past_due():
    iv = interview()
    plan = planner.plan(make_input(iv.end + timedelta(hours=1, days=3, minutes=1), [iv]))
    assert {o.state for o in by_kind(plan, THANK_YOU)} == {"expired"}
    assert not any(a.op == "create_draft" and a.record.kind == THANK_YOU for a in plan.actions)


def test_second_pass_at_the_same_moment_does_nothing():
    iv = interview()
    now = datetime(2026, 11, 17, 12, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    again = planner.plan(make_input(now, [iv], records))
    assert again.actions == []


def test_status_check_is_one_draft_to_the_latest_rounds_interviewers():
    iv = interview()
    plan = planner.plan(make_input(datetime(2026, 11, 16, 9, 1, tzinfo=TZ), [iv]))
    status = [a for a in plan.actions if a.record.kind == STATUS]
    assert len(status) == 1 and status[0].op == "create_draft"
    assert {r.email for r in status[0].draft.to} == {"jane@acme.example", "bob@acme.example"}


def test_a_reply_cancels_the_pending_status_check():
    iv = interview()
    now = datetime(2026, 11, 10, 12, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    inp = make_input(now, [iv], records)
    (query,) = planner.reply_queries(inp)
    assert query.addresses == ("bob@acme.example", "jane@acme.example")
    assert query.domains == ("acme.example",) and query.since == iv.end
    reply = Reply("jane@acme.example", datetime(2026, 11, 10, 8, tzinfo=TZ))
    plan = planner.plan(make_input(now, [iv], records, {query.process: reply}))
    (status,) = [a for a in plan.actions if a.record.kind == STATUS]
    assert status.op == "record" and status.record.state == "cancelled" and "jane@acme.example" in status.record.reason
    settle(records, plan)
    assert planner.reply_queries(make_input(now, [iv], records)) == []


def test_a_reply_deletes_the_status_check_draft_already_written():
    iv = interview()
    now = datetime(2026, 11, 16, 10, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    status_key = next(k for k, r in records.items() if r.kind == STATUS)
    assert records[status_key].state == "done"
    (query,) = planner.reply_queries(make_input(now, [iv], records))
    reply = Reply("hr@acme.example", now)
    plan = planner.plan(make_input(now, [iv], records, {query.process: reply}))
    (action,) = plan.actions
    assert action.op == "delete_draft" and action.previous.ref and action.record.state == "cancelled"


def test_a_later_round_supersedes_the_earlier_call_and_status_check():
    r1 = interview("r1")
    r2 = interview("r2", title="Onsite - Acme (Backend Engineer)", start=datetime(2026, 11, 6, 10, tzinfo=TZ))
    # round 1 is over and its call was written; round 2 is then put in the calendar
    now = datetime(2026, 11, 3, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [r1])))
    assert any(r.kind == CALL and r.state == "done" for r in records.values())
    plan = planner.plan(make_input(now, [r1, r2], records))
    by_op = {(a.op, a.record.kind, a.record.interview.split("\x1f")[1]) for a in plan.actions}
    assert ("delete_event", CALL, "r1") in by_op
    assert ("record", STATUS, "r1") in by_op
    deleted = next(a for a in plan.actions if a.op == "delete_event")
    assert deleted.record.state == "cancelled" and "later round" in deleted.record.reason
    # round 2's call is planned from round 2
    call2 = next(o for o in plan.outcomes if o.kind == CALL and o.interview.endswith("r2\x1f"))
    assert call2.due == datetime(2026, 11, 13, 10, tzinfo=TZ)
    # thank-yous of round 1 are untouched
    assert not any(a.record.kind == THANK_YOU and a.op != "record" for a in plan.actions)


def _calls_written(records):
    return sorted(r.interview.split("\x1f")[1] for r in records.values()
                  if r.kind == CALL and r.state == "done")


def test_a_vanished_earlier_round_is_superseded_by_a_later_one():
    # Regression: round 1's call was written, round 1 vanished from the
    # calendar, round 2 came: round 2 got a call of its own next to round 1's.
    r1 = interview("r1")
    r2 = interview("r2", title="Onsite - Acme (Backend Engineer)", start=datetime(2026, 11, 6, 10, tzinfo=TZ))
    now = datetime(2026, 11, 3, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [r1])))
    assert _calls_written(records) == ["r1"]
    plan = planner.plan(make_input(now, [r2], records))
    deleted = [a for a in plan.actions if a.op == "delete_event"]
    assert [a.record.interview.split("\x1f")[1] for a in deleted] == ["r1"]
    assert deleted[0].record.cause == "superseded"
    settle(records, plan)
    later = datetime(2026, 11, 7, 9, tzinfo=TZ)  # round 2 is over
    settle(records, planner.plan(make_input(later, [r2], records)))
    assert _calls_written(records) == ["r2"]


def test_a_call_written_for_a_vanished_later_round_keeps_earlier_rounds_quiet():
    # Regression: round 2's call was written (round 1's withdrawn), then round
    # 2 vanished: round 1's call came back, a second call in one process.
    r1 = interview("r1")
    r2 = interview("r2", title="Onsite - Acme (Backend Engineer)", start=datetime(2026, 11, 6, 10, tzinfo=TZ))
    now = datetime(2026, 11, 7, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(datetime(2026, 11, 3, 9, tzinfo=TZ), [r1])))
    settle(records, planner.plan(make_input(now, [r1, r2], records)))
    assert _calls_written(records) == ["r2"]
    plan = planner.plan(make_input(now + timedelta(days=1), [r1], records))
    assert ("create_event", CALL) not in ops(plan)
    call1 = next(o for o in plan.outcomes if o.kind == CALL and o.interview.endswith("r1\x1f"))
    assert call1.state == "cancelled" and "superseded" in call1.reason
    # round 2's call was not written yet when it vanished: round 1 takes over
    records = settle({}, planner.plan(make_input(datetime(2026, 11, 3, 9, tzinfo=TZ), [r1])))
    settle(records, planner.plan(make_input(datetime(2026, 11, 4, 9, tzinfo=TZ), [r1, r2], records)))
    assert _calls_written(records) == []
    plan = planner.plan(make_input(datetime(2026, 11, 5, 9, tzinfo=TZ), [r1], records))
    assert ("create_event", CALL) in ops(plan)


def test_different_positions_at_one_company_are_separate_processes():
    a = interview("a", title="Interview - Acme (Backend Engineer)")
    b = interview("b", title="Interview - Acme (Product Manager)", start=datetime(2026, 11, 4, 10, tzinfo=TZ))
    processes = planner.group_processes([a, b])
    assert len(set(processes.values())) == 2


def test_cancelled_interview_withdraws_its_follow_ups():
    iv = interview()
    now = datetime(2026, 11, 3, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    cancelled = interview(status="CANCELLED")
    assert isinstance(cancelled, Ignored)
    plan = planner.plan(make_input(now, [], records, withdrawn=[cancelled]))
    kinds = {(a.op, a.record.kind) for a in plan.actions}
    assert ("delete_event", CALL) in kinds  # our own unchanged calendar item
    assert ("record", STATUS) in kinds
    assert not any(a.op == "delete_draft" for a in plan.actions)  # thank-you drafts stay
    settle(records, plan)
    assert all(r.state != "planned" for r in records.values())
    # re-accepted: the follow-ups come back
    plan = planner.plan(make_input(now, [iv], records))
    assert ("create_event", CALL) in ops(plan)


def test_an_interview_that_vanished_is_on_hold_not_cancelled():
    iv = interview()
    now = datetime(2026, 11, 3, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    plan = planner.plan(make_input(now + timedelta(days=30), [], records))
    assert plan.actions == []
    held = [o for o in plan.outcomes if o.state in ("planned", "due")]
    assert held and all("no longer in the calendar" in o.reason for o in held)


def test_done_items_are_never_created_again():
    iv = interview()
    now = datetime(2026, 11, 17, 12, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    # the user deleted everything at the provider; the records still say done
    for later in (now + timedelta(days=1), now + timedelta(days=20)):
        assert planner.plan(make_input(later, [iv], records)).actions == []


def test_rescheduled_interview_moves_the_written_call_event():
    iv = interview()
    now = datetime(2026, 11, 3, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    moved = interview(start=datetime(2026, 11, 2, 16, tzinfo=TZ), description="decision within two weeks")
    plan = planner.plan(make_input(now, [moved], records))
    (update,) = [a for a in plan.actions if a.op == "update_event"]
    assert update.event.start == datetime(2026, 11, 17, 10, tzinfo=TZ)
    assert update.previous.etag == "e1"


def test_decision_date_moves_the_call():
    iv = interview(description="We will make a decision within two weeks.")
    plan = planner.plan(make_input(iv.start - timedelta(days=1), [iv]))
    assert by_kind(plan, CALL)[0].due == datetime(2026, 11, 17, 10, tzinfo=TZ)
    assert by_kind(plan, STATUS)[0].due == datetime(2026, 11, 24, 9, tzinfo=TZ)


def test_handwritten_note_when_enabled():
    policy = Policy(handwritten_note=HandwrittenNotePolicy(enabled=True))
    iv = interview()
    plan = planner.plan(make_input(iv.end, [iv], policy=policy))
    (note,) = [a for a in plan.actions if a.record.kind == NOTE]
    assert note.op == "create_event" and note.event.start == datetime(2026, 11, 3, 10, tzinfo=TZ)


def test_disabled_status_check_is_not_written():
    policy = Policy(status_check=StatusCheckPolicy(enabled=False))
    iv = interview()
    plan = planner.plan(make_input(datetime(2026, 11, 20, tzinfo=TZ), [iv], policy=policy))
    assert by_kind(plan, STATUS)[0].state == "cancelled"
    assert planner.reply_queries(make_input(datetime(2026, 11, 20, tzinfo=TZ), [iv], policy=policy)) == []


def test_keys_are_deterministic_and_distinct():
    iv = interview()
    a = planner.plan(make_input(iv.start, [iv]))
    b = planner.plan(make_input(iv.start + timedelta(days=2), [iv]))
    keys = [o.key for o in a.outcomes]
    assert keys == [o.key for o in b.outcomes] and len(set(keys)) == len(keys)


def test_an_interviewer_removed_from_the_event_puts_their_draft_on_hold():
    iv = interview()
    records = settle({}, planner.plan(make_input(iv.start - timedelta(days=1), [iv])))
    fewer = interview(people=(("Jane Doe", "jane@acme.example"),))
    plan = planner.plan(make_input(iv.start - timedelta(hours=1), [fewer], records))
    assert plan.actions == []
    (bob,) = [o for o in plan.outcomes if o.to == ("bob@acme.example",)]
    assert bob.state == "planned" and "event changed" in bob.reason


def test_next_wake_is_when_the_next_follow_up_becomes_writable():
    iv = interview()
    before = planner.plan(make_input(iv.start - timedelta(days=1), [iv]))
    assert before.next_wake == iv.end  # the call event is written when the interview is over
    records = settle({}, planner.plan(make_input(iv.end, [iv])))
    after = planner.plan(make_input(iv.end, [iv], records))
    assert after.next_wake == iv.end + timedelta(hours=1)  # the thank-you drafts


def test_replies_are_looked_for_while_a_superseded_status_check_can_come_back():
    # round 2 superseded round 1's status check, then round 2 was cancelled:
    # round 1 is the latest again and its status check would be revived, so
    # a reply the company sent meanwhile must be looked for and must stop it
    r1 = interview("r1")
    r2 = interview("r2", title="Onsite - Acme (Backend Engineer)", start=datetime(2026, 11, 6, 10, tzinfo=TZ))
    now = datetime(2026, 11, 3, 9, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [r1])))
    records = settle(records, planner.plan(make_input(now, [r1, r2], records)))
    status = next(r for r in records.values() if r.kind == STATUS and r.interview.endswith("r1\x1f"))
    assert (status.state, status.cause) == ("cancelled", "superseded")
    later = datetime(2026, 11, 16, 10, tzinfo=TZ)  # past round 1's status check (11-16 09:00)
    cancelled = interview("r2", title="Onsite - Acme (Backend Engineer)",
                          start=datetime(2026, 11, 6, 10, tzinfo=TZ), status="CANCELLED")
    inp = make_input(later, [r1], records, withdrawn=[cancelled])
    (query,) = planner.reply_queries(inp)
    reply = Reply("jane@acme.example", datetime(2026, 11, 10, 8, tzinfo=TZ))
    plan = planner.plan(make_input(later, [r1], records, {query.process: reply}, withdrawn=[cancelled]))
    assert not any(a.op == "create_draft" and a.record.kind == STATUS for a in plan.actions)
    assert by_kind(plan, STATUS)[0].state == "cancelled"


def test_a_due_time_in_the_repeated_hour_is_not_planned_again_every_pass():
    # ends 00:30 on the day daylight saving time ends: the thank-you is due at
    # 01:30 EDT, inside the hour that repeats; the state database gives the
    # due time back in UTC
    iv = interview(start=datetime(2026, 10, 31, 23, 30, tzinfo=TZ))
    now = datetime(2026, 10, 31, 12, tzinfo=TZ)
    records = settle({}, planner.plan(make_input(now, [iv])))
    stored = {k: replace(r, due=r.due.astimezone(timezone.utc)) for k, r in records.items()}
    assert planner.plan(make_input(now, [iv], stored)).actions == []


def test_a_reply_from_the_company_domain_counts_when_only_an_earlier_round_named_it():
    # the latest round has nobody invited; the company's domain is known
    # from the interviewers of the first round
    r1 = interview("r1")
    r2 = interview("r2", title="Onsite - Acme (Backend Engineer)", start=datetime(2026, 11, 6, 10, tzinfo=TZ),
                   people=())
    (query,) = planner.reply_queries(make_input(datetime(2026, 11, 16, 10, tzinfo=TZ), [r1, r2]))
    assert query.domains == ("acme.example",) and query.since == r2.end


def test_each_process_asks_for_replies_from_its_own_rounds_only():
    acme1, acme2 = interview("a1"), interview("a2", title="Onsite - Acme (Backend Engineer)",
                                              start=datetime(2026, 11, 6, 10, tzinfo=TZ),
                                              people=(("Kim Poe", "kim@acme.example"),))
    initech = interview("i1", title="Phone screen - Initech (Engineer)",
                        start=datetime(2026, 11, 3, 9, tzinfo=TZ),
                        people=(("Sam Lee", "sam@initech.example"),))
    queries = planner.reply_queries(make_input(datetime(2026, 11, 16, 10, tzinfo=TZ),
                                               [acme1, initech, acme2]))
    found = {q.domains: q.addresses for q in queries}
    assert found == {("acme.example",): ("bob@acme.example", "jane@acme.example", "kim@acme.example"),
                     ("initech.example",): ("sam@initech.example",)}


# -- what the drafts and the call say --------------------------------------------------


def test_people_are_greeted_by_first_name_and_the_call_is_to_one_person():
    from daemon.drafts.compose import first_name

    assert [first_name(n) for n in ("Priya Patel", "Patel, Priya", "Dr. Priya Patel", "Prince",
                                    "  Jane   Doe ")] == ["Priya", "Priya", "Priya", "Prince", "Jane"]
    iv = interview(people=(("Priya Patel", "priya@acme.example"), ("Sam Lee", "sam@acme.example")))
    iv = replace(iv, event=replace(iv.event, organizer=Attendee(email="sam@acme.example", name="Sam Lee")))
    plan = planner.plan(make_input(iv.end + timedelta(hours=1, minutes=5), [iv]))
    drafts = {a.record.recipient: a.draft for a in plan.actions if a.op == "create_draft"}
    assert drafts["priya@acme.example"].text.startswith("Dear Priya,\n")
    (call,) = [a.event for a in plan.actions if a.op == "create_event"]
    assert call.description.count("Sam") == 2  # whom to call, and the one greeting
    assert '"Hello Sam, this is Alex Morgan.' in call.description and "Priya" not in call.description


def test_the_formal_address_is_one_setting():
    composer = Composer.load(replace(ME, address_by="full_name"), None)
    iv = interview()
    draft = composer.draft(THANK_YOU, "k", iv, (iv.interviewers[0],), iv.end)
    assert draft.text.startswith("Dear Jane Doe,\n")


def test_a_draft_is_dated_when_it_is_written():
    iv = interview()
    late = iv.end + timedelta(days=2)  # the laptop was off when it came due
    plan = planner.plan(make_input(late, [iv]))
    drafts = [a.draft for a in plan.actions if a.op == "create_draft"]
    assert drafts and all(f"Date: {late.strftime('%a, %d %b %Y %H:%M')}" in d.raw.decode() for d in drafts)


def test_adopt_takes_back_own_items_as_written_or_as_the_user_left_them():
    iv = interview()
    now = iv.end + timedelta(minutes=1)
    inp = make_input(now, [iv])
    call = next(a for a in planner.plan(inp).actions if a.op == "create_event")
    ev = call.event
    as_written = StoredItem(key=ev.key, ref="r1", etag="e1", start=ev.start, end=ev.end, title=ev.title)
    moved = replace(as_written, start=ev.start + timedelta(days=1), end=ev.end + timedelta(days=1))
    stranger = replace(as_written, key="not-a-key-of-this-policy")

    (rec,) = planner.adopt(inp, [as_written, stranger])
    assert (rec.key, rec.state, rec.ref, rec.etag, rec.user_changed) == (ev.key, "done", "r1", "e1", False)
    assert rec.due == call.record.due
    (rec,) = planner.adopt(inp, [moved])
    assert rec.user_changed and rec.due == moved.start and "as you left it" in rec.reason
    # an item that has a record already is the executor's to reconcile, not adopted
    assert planner.adopt(make_input(now, [iv], records={ev.key: call.record}), [as_written]) == []


def test_the_input_groups_its_processes_once_and_keeps_them_in_copies():
    inp = make_input(datetime(2026, 11, 3, tzinfo=TZ), [interview(), interview(uid="r2")])
    first = inp.processes
    assert inp.processes is first and inp.but(records={}).processes is first
    assert inp.but(interviews=[interview()]).processes is not first
