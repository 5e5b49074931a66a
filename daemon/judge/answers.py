"""Has the company answered? Judged from a message's headers alone.

Every mailbox connector delivers the same thing, a ``Received`` (the
header fields in ``ANSWER_HEADERS``; bodies are never read), and this
module decides for all of them. An answer is a person at the company or an
interviewer writing directly, a reply to one of the user's thank-you
drafts, or a message through a hiring system, scheduler, network or
e-signature relay whose display name, Reply-To or subject ties it to the
company, the position or an interviewer; also another domain of the
company when the display name names it.

Not an answer: delivery reports, automatic replies (the headers and
subjects mail servers and providers use for vacation notices, in every
language file's words), calendar responses, mailing lists, newsletters and
transactional mail (orders, receipts, security codes, job alerts) even
from the company's own domain, a receipt for an application, the user's
own mail, anything from before the interview ended.

Sources for the header conventions: RFC 3834 and RFC 5230 (Auto-Submitted,
Sieve vacation), RFC 2369/2919/8058 (List-*), RFC 3464/6522
(multipart/report); Microsoft's MS-OXCMAIL on X-Auto-Response-Suppress,
which is a request and never enough alone; the auto-reply and bounce
fixtures of sisimai/set-of-emails, Zammad's out-of-office filter and
Discourse's receiver; the ATS sender shapes in
tests/corpus/replies/SOURCES.md. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses
from functools import cached_property

from daemon.judge import domains
from daemon.lang import Lexicon, Matcher, norm
from daemon.model import Received

# Local parts that send marketing, orders and notices, never an answer.
BULK_LOCAL = re.compile(
    r"^(?:news|newsletters?|marketing|promo(?:tions?)?|offers?|deals|shop|store|orders?|"
    r"receipts?|billing|invoices?|payments?|shipping|shipment-tracking|delivery|auto-confirm|"
    r"updates|digest|alerts?|jobalerts?(?:-noreply)?|jobs-noreply|account|accounts|security|"
    r"verify|info-?mail|mailings?|campaigns?|events?)(?:[+._-].*)?$", re.I)
# The same words inside a local part: "tech-events@", "candidate-experience@".
BULK_INSIDE = re.compile(r"(?:^|[._+-])(?:news|newsletters?|marketing|events?|survey|surveys|experience|promo|"
                         r"promotions?|offers?|deals|digest|community|webinars?)(?:$|[._+-])", re.I)
# Subdomains that send in bulk: "service-mail.zalando.de", "news.acme.com".
BULK_SUBDOMAIN = re.compile(r"^(?:[\w-]*mail[\w-]*|news|newsletter|marketing|promo|info|notify|notifications?|"
                            r"em|e|mkt|go|updates|email|crm|campaign[s]?)$", re.I)
# Local parts of shared or machine mailboxes: an answer through them needs
# the display name or subject to name the company or position.
ROLE_LOCAL = re.compile(r"^(?:info|hello|contact|team|office|mail|service|support|hi)(?:[+._-].*)?$", re.I)
BOUNCE_LOCAL = re.compile(r"^(?:mailer-daemon|postmaster|mail\.delivery\.system|mailer)$", re.I)
_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,40}\]|(?:re|aw|sv|vs|wg|fw|fwd|tr|rv|res|enc|rif|r|antw|antwort|odp|ynt)\s*:))+\s*",
    re.I)
_MESSAGE_ID = re.compile(r"<[^<>\s]{3,250}>")
_COMPANY_SUFFIX = re.compile(
    r"\s+(?:inc|llc|ltd|gmbh|ag|se|sa|sas|srl|spa|bv|nv|plc|corp|corporation|co|group|company)\.?$", re.I)
_VIA = re.compile(r"\s(?:via|through|über|par|vía|per|por)\s", re.I)


@dataclass(frozen=True)
class Facts:
    """What is known of one hiring process, to judge mail against."""

    process: str
    since: datetime  # the end of its latest interview
    addresses: tuple[str, ...] = ()  # interviewers' addresses, lower case
    domains: tuple[str, ...] = ()  # the company's domains
    companies: tuple[str, ...] = ()  # the company's names as written
    people: tuple[str, ...] = ()  # interviewers' names
    positions: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()  # the user's drafts' Message-IDs, with brackets


@dataclass(frozen=True)
class Verdict:
    answer: bool
    reason: str
    sender: str = ""


def _addresses(value: str | None) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address header."""
    if not value:
        return []
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001 - a malformed header holds no usable address
        return []
    return [(name.strip(), addr.strip().lower()) for name, addr in pairs if "@" in addr]


def subject_core(subject: str) -> str:
    """The subject without list tags and reply or forward prefixes, normalised."""
    return norm(_REPLY_PREFIX.sub("", subject or "")).strip()


def _word_in(needle: str, haystack: str) -> bool:
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


@dataclass
class Judge:
    """The judgement for the user's addresses and the languages' words."""

    me: frozenset[str]
    lexicon: Lexicon = field(default_factory=Lexicon)

    @cached_property
    def _lists(self) -> dict[str, Matcher]:
        return {key: self.lexicon.matcher(f"answers.{key}")
                for key in ("auto_subjects", "calendar_subjects", "bounce_subjects",
                            "transactional_subjects", "hiring_subjects", "receipt_subjects")}

    # -- the verdict ----------------------------------------------------------

    def judge(self, msg: Received, facts: Facts) -> Verdict:
        """Whether ``msg`` is the company answering in ``facts``' process."""
        sender_pairs = _addresses(msg.get("from"))
        sender = sender_pairs[0][1] if sender_pairs else ""
        display = sender_pairs[0][0] if sender_pairs else ""

        def no(reason: str) -> Verdict:
            return Verdict(False, reason, sender)

        if msg.date < facts.since:
            return no("sent before the interview ended")
        if sender in self.me:
            return no("your own message")
        why = self._bounce(msg, sender)
        if why:
            return no(why)
        why = self._automatic(msg)
        if why:
            return no(why)
        subject = subject_core(msg.get("subject") or "")
        why = self._calendar(msg, subject)
        if why:
            return no(why)
        if self._replies_to_draft(msg, facts):
            return Verdict(True, "a reply to your thank-you", sender)
        why = self._bulk(msg, sender, subject, facts)
        if why:
            return no(why)
        tie = self._tie(msg, facts, subject, sender, display)
        local = sender.partition("@")[0]
        domain = domains.domain_of(sender)
        if sender in facts.addresses:
            return Verdict(True, "an interviewer", sender)
        if self._at(domain, facts.domains):
            if domains.is_robot(sender) and not self._hiring_subject(subject) \
                    and tie != "the subject names the position":
                return no(f"{sender} is a machine's address and the subject is not about an application")
            if ROLE_LOCAL.match(local) and not tie and not self._hiring_subject(subject):
                return no(f"{sender} is a shared mailbox and nothing names the application")
            return Verdict(True, "from the company's domain", sender)
        reply_to = [addr for _, addr in _addresses(msg.get("reply-to"))]
        if any(a in facts.addresses or self._at(domains.domain_of(a), facts.domains) for a in reply_to):
            return Verdict(True, "Reply-To at the company", sender)
        if domains.is_relay(domain) or _VIA.search(display or ""):
            if not tie:
                return no(f"{sender} relays mail for many; nothing ties it to this application")
            return Verdict(True, f"through {domains.registered(domain)}; {tie}", sender)
        if tie == "the sender's name names the company" and domains.is_employer(sender):
            return Verdict(True, "another domain of the company: the sender's name names it", sender)
        if tie == "the sender's name names an interviewer" and (
                self._hiring_subject(subject) or any(_word_in(_key(c), subject) for c in facts.companies)):
            # a namesake writing about a hike is no answer: the subject must be about the application
            return Verdict(True, f"an interviewer, from {domain}", sender)
        return no("not from the company")

    # -- what the headers say ---------------------------------------------------

    def _bounce(self, msg: Received, sender: str) -> str:
        ctype = norm(msg.get("content-type") or "")
        if ctype.startswith("multipart/report"):
            if "disposition-notification" in ctype:
                return "a read receipt"
            return "a delivery report"
        if BOUNCE_LOCAL.match(sender.partition("@")[0]):
            return "a delivery report"
        if msg.get("x-failed-recipients") is not None or msg.get("x-ms-exchange-message-is-ndr") is not None:
            return "a delivery report"
        subject = subject_core(msg.get("subject") or "")
        hit = self._lists["bounce_subjects"].search(subject)
        if hit is not None and hit.start < 5 and (msg.get("return-path") or "").strip() in ("<>", ""):
            return "a delivery report"
        if subject.startswith("delayed mail") or subject.startswith("delivery delayed"):
            return "a delivery delay notice"
        return ""

    def _automatic(self, msg: Received) -> str:
        """Vacation notices and other automatic replies."""
        auto = norm(msg.get("auto-submitted") or "")
        if auto.startswith("auto-replied") or auto.startswith("auto-notified"):
            return "an automatic reply (Auto-Submitted)"
        for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from",
                     "x-mail-autoreply"):
            if msg.get(name) is not None:
                return f"an automatic reply ({name})"
        if norm(msg.get("x-apple-action") or "").startswith("vacation"):
            return "an automatic reply (iCloud vacation)"
        for name in ("precedence", "x-precedence"):
            if norm(msg.get(name) or "").strip() == "auto_reply":
                return "an automatic reply (Precedence)"
        if norm(msg.get("x-autogenerated") or "").strip() == "reply":
            return "an automatic reply (X-Autogenerated)"
        if norm(msg.get("delivered-to") or "").strip() == "autoresponder":
            return "an automatic reply"
        # X-Auto-Response-Suppress rides on ordinary Exchange mail: only with
        # the inbox-rules loop header (or the rules agent) is it a reply by rule
        if msg.get("x-ms-exchange-inbox-rules-loop") is not None and (
                msg.get("x-auto-response-suppress") is not None
                or "mailbox rules agent" in norm(msg.get("x-ms-exchange-generated-message-source") or "")):
            return "an automatic reply (Exchange rule)"
        subject = subject_core(msg.get("subject") or "")
        if subject.startswith("auto:") or subject.startswith("automated reply"):
            return "an automatic reply (subject)"
        hit = self._lists["auto_subjects"].search(subject)
        if hit is not None and (hit.start == 0 or " " in hit.word):
            return f"an automatic reply ({hit.word!r} in the subject)"
        return ""

    def _calendar(self, msg: Received, subject: str) -> str:
        ctype = norm(msg.get("content-type") or "")
        if ctype.startswith("text/calendar") and "method=request" not in ctype.replace(" ", ""):
            return "a calendar response"
        hit = self._lists["calendar_subjects"].search(subject)
        if hit is not None and hit.start == 0:
            if hit.word.rstrip(" :") in ("invitation", "einladung", "invitación", "uitnodiging", "invito",
                                         "convite"):
                return ""  # a new invitation from the company is it getting in touch
            return "a calendar response or update"
        return ""

    def _replies_to_draft(self, msg: Received, facts: Facts) -> bool:
        if not facts.message_ids:
            return False
        ours = {m.strip().lower() for m in facts.message_ids}
        for name in ("in-reply-to", "references"):
            for found in _MESSAGE_ID.findall(msg.get(name) or ""):
                if found.lower() in ours:
                    return True
        return False

    def _bulk(self, msg: Received, sender: str, subject: str, facts: Facts) -> str:
        if msg.get("list-id") is not None or msg.get("list-post") is not None:
            return "a mailing list message"
        local = sender.partition("@")[0]
        if BULK_LOCAL.match(local) or BULK_INSIDE.search(local):
            return f"{sender} sends newsletters, orders or notices"
        domain = domains.domain_of(sender)
        below = domain[:-len(domains.registered(domain))].strip(".").split(".") if "." in domain else []
        if any(BULK_SUBDOMAIN.match(label) for label in below if label) and not domains.is_relay(domain) \
                and (ROLE_LOCAL.match(local) or domains.is_robot(sender)) and not self._hiring_subject(subject):
            return f"{domain} is a domain for mailings"
        if norm(msg.get("x-linkedin-class") or "") in ("savedsearch", "jobs-alert", "job_alert"):
            return "a job alert"
        # the company's and the position's own names say nothing ("Payments Engineer")
        plain = subject
        for name in (*facts.positions, *facts.companies):
            for word in norm(name or "").split():
                if len(word) >= 4:
                    plain = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", plain)
        hit = self._lists["transactional_subjects"].search(plain)
        if hit is not None:
            return f"{hit.word!r} in the subject: a notice, not an answer"
        hit = self._lists["receipt_subjects"].search(subject)
        if hit is not None:
            return f"{hit.word!r} in the subject: a receipt for an application"
        if msg.get("list-unsubscribe") is not None and ROLE_LOCAL.match(local) \
                and not self._hiring_subject(subject):
            return "a newsletter"
        return ""

    def _hiring_subject(self, subject: str) -> bool:
        return self._lists["hiring_subjects"].search(subject) is not None

    @staticmethod
    def _at(domain: str, company_domains: Iterable[str]) -> bool:
        return any(domain == d or domain.endswith("." + d) for d in company_domains if d)

    def _tie(self, msg: Received, facts: Facts, subject: str, sender: str, display: str) -> str:
        """What ties a message to this process, or ""."""
        names = [_key(c) for c in facts.companies if _key(c)]
        people = [norm(p) for p in facts.people if len(p.split()) >= 2]
        displays = [norm(n) for header in ("from", "sender", "reply-to")
                    for n, _ in _addresses(msg.get(header)) if n]
        for text in displays:
            if any(_word_in(n, text) for n in names):
                return "the sender's name names the company"
            if any(p in text for p in people):
                return "the sender's name names an interviewer"
        local = sender.partition("@")[0]
        if domains.is_hiring_system(domains.domain_of(sender)) and \
                any(n.replace(" ", "") == norm(local).split("+")[0] for n in names):
            return "the hiring system's address names the company"
        if any(_word_in(n, subject) for n in names):
            return "the subject names the company"
        positions = [norm(p) for p in facts.positions if len(p) > 3]
        if any(p in subject for p in positions):
            return "the subject names the position"
        return ""


def _key(company: str) -> str:
    """"Acme Corp." -> "acme"; "" for names too short to be safe."""
    name = norm(_COMPANY_SUFFIX.sub("", company.strip()))
    return name if len(name) >= 3 else ""


def first_answer(judge: Judge, messages: Sequence[Received], facts: Facts) -> tuple[Received, Verdict] | None:
    """The earliest message that answers for ``facts``' process."""
    for msg in sorted(messages, key=lambda m: (m.date, m.ref)):
        verdict = judge.judge(msg, facts)
        if verdict.answer:
            return msg, verdict
    return None
