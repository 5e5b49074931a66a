"""How right the judgements are on the corpora in ``tests/corpus``.

``invites`` and ``invites-intl``: calendar invitations written the way
hiring systems, schedulers and calendar apps send them, labelled by hand
(is it Alex's own interview; the company, position, interviewers and
decision date a careful person reads in it). ``replies``: the headers of
mail after an interview, labelled answer or not. Each file is read through
the real reader (``daemon.ics.ical.parse_ics``, ``daemon.headers``) and judged
by the daemon's own ``Judge``s. Every figure is a fraction of the labelled
cases; ``tests/test_judgement.py`` holds the goals.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from zoneinfo import ZoneInfo

from .rows import Row

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
INVITE_SETS = ("invites", "invites-intl", "invites-more", "invites-holdout")
REPLY_SETS = ("replies", "replies-more", "replies-holdout")
# the user of each corpus: Alex Morgan, Sam Rivera in the -more sets, Dana
# Kowalski in the -holdout sets
USERS = {
    "": ("Alex Morgan", frozenset({"alex.morgan@gmail.com", "alex.morgan@northwind-traders.com"})),
    "-more": ("Sam Rivera", frozenset({"sam.rivera@fastmail.com", "sam.rivera@contoso-retail.com"})),
    "-holdout": ("Dana Kowalski", frozenset({"dana.k@posteo.de", "dana.kowalski@fabrikam.io"})),
}


def _user(folder_name: str) -> tuple[str, frozenset[str]]:
    suffix = next((s for s in USERS if s and folder_name.endswith(s)), "")
    return USERS[suffix]
TZ = ZoneInfo("Europe/Berlin")
WINDOW = (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 12, 31, tzinfo=timezone.utc))
# the goals of the judgement (fractions of the labelled cases)
GOALS = {
    "detection recall": 0.95, "detection precision": 0.95, "company": 0.90, "interviewers": 0.90,
    "decision date": 0.90, "position": 0.80, "answers found": 0.90, "non-answers left": 0.90,
}
_SUFFIX = re.compile(r"\b(inc|llc|ltd|gmbh|ag|se|sa|sas|srl|spa|bv|nv|plc|corp|corporation|co|group|"
                     r"m/w/d|w/m/d|m/f/d|f/m/d|h/f|f/h|m/v|m/v/x)\b\.?")


def _key(text: str | None) -> str:
    """A name as compared: case, accents' composition, punctuation and legal suffixes aside."""
    text = unicodedata.normalize("NFC", text or "").casefold()
    text = _SUFFIX.sub(" ", text)
    return " ".join(re.sub(r"[^\w&]+", " ", text).split())


def _position_key(text: str | None) -> str:
    """A position as a person compares it: what parentheses add (a team, a
    place, a gender marker) aside, "Staff Engineer (Infrastructure)" is
    the Staff Engineer position."""
    return _key(re.sub(r"\([^)]*\)", " ", text or ""))


@dataclass
class Tally:
    """Right and total per figure, and the cases that were wrong."""

    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    wrong: dict[str, list[str]] = field(default_factory=dict)

    def count(self, figure: str, ok: bool, case: str) -> None:
        self.total[figure] = self.total.get(figure, 0) + 1
        self.right[figure] = self.right.get(figure, 0) + int(ok)
        if not ok:
            self.wrong.setdefault(figure, []).append(case)

    def value(self, figure: str) -> float | None:
        total = self.total.get(figure, 0)
        return self.right.get(figure, 0) / total if total else None


def _judge(folder_name: str):
    from daemon.judge.detection import Judge
    from daemon.settings import Detection

    name, me = _user(folder_name)
    return Judge(Detection(), me, TZ, name, month_first=True)


def invites(tally: Tally | None = None) -> Tally:
    """Detection and extraction on every labelled invitation."""
    from daemon.ics.ical import parse_ics
    from daemon.judge.detection import Interview

    tally = tally or Tally()
    for name in INVITE_SETS:
        judge = _judge(name)
        folder = CORPUS / name
        labels_file = folder / "labels.toml"
        if not labels_file.is_file():
            continue
        labels = tomllib.loads(labels_file.read_text(encoding="utf-8"))
        for file, label in sorted(labels.items()):
            if not isinstance(label, dict) or "interview" not in label:
                continue
            case = f"{name}/{file}"
            events, _ = parse_ics((folder / file).read_bytes(), file, *WINDOW, TZ)
            found = [judge.classify(e, "corpus") for e in events]
            interview = next((f for f in found if isinstance(f, Interview)), None)
            expected = label["interview"]
            if expected == "maybe":
                continue
            if expected == "yes":
                tally.count("detection recall", interview is not None, case)
            if interview is not None:
                tally.count("detection precision", expected == "yes", case)
            if expected != "yes" or interview is None:
                continue
            tally.count("company", _key(interview.company) == _key(label.get("company")),
                        f"{case}: {interview.company!r} != {label.get('company')!r}")
            if "position" in label:
                tally.count("position", _position_key(interview.position) == _position_key(label["position"]),
                            f"{case}: {interview.position!r} != {label['position']!r}")
            people = sorted(p.email for p in interview.interviewers if p.email)
            tally.count("interviewers", people == sorted(a.lower() for a in label.get("interviewers", [])),
                        f"{case}: {people} != {sorted(label.get('interviewers', []))}")
            wanted = label.get("decision_by")
            expected_day = date.fromisoformat(wanted) if isinstance(wanted, str) else wanted
            tally.count("decision date", interview.decision_by == expected_day,
                        f"{case}: {interview.decision_by} != {expected_day}")
    return tally


def replies(tally: Tally | None = None) -> Tally:
    """The answer judgement on every labelled message."""

    tally = tally or Tally()
    for name in REPLY_SETS:
        _replies(CORPUS / name, tally)
    return tally


def _replies(folder: Path, tally: Tally) -> None:
    from daemon.headers import received_of
    from daemon.judge.answers import Facts, Judge

    labels_file = folder / "labels.toml"
    if not labels_file.is_file():
        return
    labels = tomllib.loads(labels_file.read_text(encoding="utf-8"))
    processes = labels.pop("processes", {})
    judge = Judge(_user(folder.name)[1])
    parser = BytesHeaderParser(policy=policy.default)
    def facts(name: str) -> Facts:
        p = processes[name]
        return Facts(process=name, since=datetime.fromisoformat(p["interview_end"]),
                     addresses=tuple(a.lower() for a in p.get("interviewers", [])),
                     domains=tuple(p.get("domains", [])), companies=(p["company"],),
                     people=tuple(p.get("interviewer_names", [])),
                     positions=tuple(x for x in [p.get("position")] if x),
                     message_ids=tuple(p.get("our_message_ids", [])))

    for file, label in sorted(labels.items()):
        if not isinstance(label, dict) or "answer" not in label:
            continue
        raw = (folder / file).read_bytes()
        # a message that belongs to no process must be no answer for any
        names = [label["process"]] if label.get("process") else sorted(processes)
        verdicts = []
        for name in names:
            process = facts(name)
            received = received_of(parser.parsebytes(raw), file, process.since.timestamp())
            verdicts.append(judge.judge(received, process))
        verdict = next((v for v in verdicts if v.answer), verdicts[0])
        figure = "answers found" if label["answer"] else "non-answers left"
        tally.count(figure, verdict.answer == label["answer"],
                    f"{folder.name}/{file} ({label.get('kind')}): {verdict.reason}")


FIGURES = (
    ("detection recall", "interview detection, recall (own interviews found)"),
    ("detection precision", "interview detection, precision (found ones that are own interviews)"),
    ("company", "company right, on found interviews"),
    ("interviewers", "interviewers exactly right, on found interviews"),
    ("decision date", "decision date right (or rightly none), on found interviews"),
    ("position", "position right, where a person can tell"),
    ("answers found", "real answers that cancel the status check"),
    ("non-answers left", "non-answers that leave the status check in place"),
)


def run(quick: bool) -> list[Row]:
    tally = replies(invites())
    rows = []
    for key, figure in FIGURES:
        value = tally.value(key)
        goal = GOALS[key]
        if value is None:
            rows.append(Row(figure, None, "fraction", f">= {goal}", None, "skipped: no labelled cases"))
            continue
        note = f"{tally.right[key]} of {tally.total[key]} labelled cases"
        rows.append(Row(figure, round(value, 3), "fraction", f">= {goal}", value >= goal, note))
    return rows


def report() -> str:
    """Every figure with the cases it got wrong (``python -m bench.judgement``)."""
    tally = replies(invites())
    lines = []
    for key, figure in FIGURES:
        value = tally.value(key)
        lines.append(f"{figure}: {tally.right.get(key, 0)}/{tally.total.get(key, 0)}"
                     + (f" = {value:.3f}" if value is not None else ""))
        lines += [f"    {w}" for w in tally.wrong.get(key, [])]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
