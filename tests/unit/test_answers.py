"""Each rule of the answer judgement (``daemon.judge.answers``), from headers alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from daemon.headers import answer_headers
from daemon.judge.answers import Facts, Judge, first_answer, subject_core
from daemon.model import Received

UTC = timezone.utc
END = datetime(2026, 11, 16, 15, tzinfo=UTC)
FACTS = Facts(process="acme", since=END, addresses=("priya.patel@acme.com", "sam.ortiz@acme.com"),
              domains=("acme.com",), companies=("Acme Corp",), people=("Priya Patel", "Sam Ortiz"),
              positions=("Senior Backend Engineer",),
              message_ids=("<followup.1234abcd@alex.example>",))
JUDGE = Judge(frozenset({"alex.morgan@gmail.com"}))


def msg(sender: str, subject: str = "Re: Thank you", at: datetime | None = None, **headers: str) -> Received:
    pairs = [("From", sender), ("Subject", subject)]
    pairs += [(name.replace("_", "-"), value) for name, value in headers.items()]
    return Received(ref="<m@x>", date=at or END + timedelta(days=1), headers=answer_headers(pairs))


def verdict(received: Received):
    return JUDGE.judge(received, FACTS)


@pytest.mark.parametrize("received, why", [
    (msg("Priya Patel <priya.patel@acme.com>"), "an interviewer"),
    (msg("Jordan Fox <jordan.fox@acme.com>", "Next steps"), "the company's domain"),
    (msg("Jordan Fox <jordan@mail.acme.com>", "Hello"), "the company's domain"),
    (msg("Priya <priya@gmail.com>", "Re: Thank you", In_Reply_To="<followup.1234abcd@alex.example>"),
     "a reply to your thank-you"),
    (msg("Acme Corp via Greenhouse <no-reply@us.greenhouse-mail.io>", "Your application",
         List_Unsubscribe="<https://x>", Auto_Submitted="auto-generated"), "through greenhouse-mail.io"),
    (msg("Talent Team <no-reply@ashbyhq.com>", "An update on your application to Acme"), "through"),
    (msg("Hiring <no-reply@ashbyhq.com>", "About the Senior Backend Engineer role"), "the position"),
    (msg("Acme Careers <jobs@acme-careers.com>", "Update"), "another domain of the company"),
    (msg("Priya Patel via LinkedIn <inmail-hit-reply@linkedin.com>", "Following up"), "through linkedin.com"),
    (msg("Recruiting <careers@ats.example>", "Hi", Reply_To="Sam Ortiz <sam.ortiz@acme.com>"), "Reply-To"),
    (msg("Jane Roe via Docusign <dse_NA4@docusign.net>", "Please DocuSign: Acme Corp offer letter"),
     "through docusign.net"),
    (msg("Priya Patel <priya@gmail.com>", "Re: next steps for the Senior Backend Engineer role"),
     "an interviewer"),
    (msg("Priya Patel <priya.patel@acme.com>", "Invitation: Onsite @ Tue Nov 24"), "an interviewer"),
])
def test_answers(received, why):
    found = verdict(received)
    assert found.answer, found.reason
    assert why in found.reason


@pytest.mark.parametrize("received, why", [
    (msg("Priya Patel <priya.patel@acme.com>", at=END - timedelta(hours=1)), "before the interview"),
    (msg("Alex <alex.morgan@gmail.com>"), "your own message"),
    (msg("Priya Patel <priya.patel@acme.com>", "Automatic reply: Thank you",
         X_Auto_Response_Suppress="All", X_MS_Exchange_Inbox_Rules_Loop="priya.patel@acme.com"),
     "automatic reply"),
    (msg("Priya Patel <priya.patel@acme.com>", "Re: Thank you", Auto_Submitted="auto-replied (vacation)"),
     "automatic reply"),
    (msg("Priya Patel <priya.patel@acme.com>", "Out of Office: Thank you"), "automatic reply"),
    (msg("Priya Patel <priya.patel@acme.com>", "Abwesenheitsnotiz: Danke"), "automatic reply"),
    (msg("Priya Patel <priya.patel@acme.com>", "Réponse automatique : Merci"), "automatic reply"),
    (msg("Priya Patel <priya.patel@acme.com>", "Auto: Thank you"), "automatic reply"),
    (msg("Priya Patel <priya.patel@acme.com>", "Thank you", X_Apple_Action="VACATION"), "iCloud"),
    (msg("Priya Patel <priya.patel@acme.com>", "Thank you", X_Autoreply="yes", Precedence="bulk"),
     "automatic reply"),
    (msg("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)"),
     "delivery report"),
    (msg("Microsoft Outlook <postmaster@acme.com>", "Undeliverable: Thank you",
         Content_Type="multipart/report; report-type=delivery-status; boundary=x"), "delivery report"),
    (msg("Priya Patel <priya.patel@acme.com>", "Accepted: Follow-up call"), "calendar"),
    (msg("Priya Patel <priya.patel@acme.com>", "Thank you",
         Content_Type="text/calendar; method=REPLY"), "calendar"),
    (msg("Acme <news@acme.com>", "Our winter sale", List_Unsubscribe="<https://acme.com/u>"), "newsletters"),
    (msg("Acme Store <orders@acme.com>", "Your order #1234 has shipped"), "orders"),
    (msg("Acme <hello@acme.com>", "Introducing Acme Cloud", List_Unsubscribe="<https://acme.com/u>"),
     "newsletter"),
    (msg("Acme Corp <updates@acme.com>", "Hi", List_Id="<announce.acme.com>"), "mailing list"),
    (msg("LinkedIn Job Alerts <jobalerts-noreply@linkedin.com>", "Senior Backend Engineer at Acme Corp"),
     "newsletters, orders or notices"),
    (msg("Acme Corp via Greenhouse <no-reply@us.greenhouse-mail.io>", "Security code for your application"),
     "notice"),
    (msg("Acme Corp <no-reply@us.greenhouse-mail.io>", "Thank you for applying to Acme Corp"), "receipt"),
    (msg("Globex via Greenhouse <no-reply@us.greenhouse-mail.io>", "Your application to Globex"),
     "nothing ties it"),
    (msg("Someone <someone@else.example>", "Hello"), "not from the company"),
    # a namesake of an interviewer writing about something else
    (msg("Priya Patel <priya@gmail.com>", "Hike on Saturday?"), "not from the company"),
    (msg("Acme <info@service-mail.acme.com>", "Your code: 482913"), "mailings"),
    (msg("Acme Events <tech-events@acme.com>", "Invitation: Acme Tech Night"), "newsletters"),
    (msg("Jane Roe via Docusign <dse_NA4@docusign.net>", "Please DocuSign: lease agreement"), "nothing ties"),
])
def test_not_answers(received, why):
    found = verdict(received)
    assert not found.answer, found.reason
    assert why in found.reason


def test_x_auto_response_suppress_alone_is_an_ordinary_message():
    # Exchange puts it on ordinary mail: never enough on its own
    found = verdict(msg("Priya Patel <priya.patel@acme.com>", "Re: Thank you", X_Auto_Response_Suppress="All"))
    assert found.answer


def test_auto_generated_alone_does_not_hide_a_hiring_systems_answer():
    found = verdict(msg("Acme Corp <acme@myworkday.com>", "Update on your application",
                        Auto_Submitted="auto-generated"))
    assert found.answer


def test_a_reply_prefix_and_a_list_tag_are_no_part_of_the_subject():
    assert subject_core("[External] RE: AW: Automatic reply: Thanks") == "automatic reply: thanks"


def test_the_first_answer_is_taken():
    early = msg("Acme <news@acme.com>", "Sale", at=END + timedelta(hours=1), List_Unsubscribe="<x>")
    answer = msg("Priya Patel <priya.patel@acme.com>", "Thanks", at=END + timedelta(hours=5))
    later = msg("Sam Ortiz <sam.ortiz@acme.com>", "Thanks", at=END + timedelta(hours=9))
    found, why = first_answer(JUDGE, [later, early, answer], FACTS)
    assert found is answer and why.sender == "priya.patel@acme.com"


def test_hostile_headers_are_just_text():
    found = verdict(msg("=?utf-8?q?=00=1b[31m?= <\x00@acme.com>", "\u202e}{0} $(rm -rf)",
                        References="<" * 500, Content_Type="multipart/" + "x" * 5000))
    assert isinstance(found.answer, bool)
