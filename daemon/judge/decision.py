"""When the company said it would decide, read out of an invitation.

A sentence counts when it holds a cue of a decision or an answer ("we will
decide", "you'll hear back", "wir melden uns", "nous reviendrons vers
vous") and one of: a period ("within two weeks", "in 10 business days",
"innerhalb von zwei Wochen", "sous quinze jours"), a day ("by Friday", "by
next Wednesday", "bis Freitag"), a date ("by December 12", "12. Dezember",
"le 12 décembre", "2026-12-12", "12.12.2026"), or a relative moment ("end
of next week", "Ende nächster Woche", "fin de la semaine prochaine").
The words come from the language files (``decision`` tables). Pure.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cached_property

from daemon.lang import Lexicon, _trie, norm

MAX_DAYS = 366  # a period longer than a year is not a decision date
TEXT_LIMIT = 20_000
# Sentence ends: a full stop, !, ? before a space, a line end.
_SENTENCES = re.compile(r"(?<=[.!?])\s+|[\r\n]+")
_DAY_DOT = re.compile(r"\d\.$")


def _one_space(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text)


def _alt(words) -> str:
    words = [w for w in words if w]
    return _trie(words) if words else r"(?!x)x"


class DecisionReader:
    """The decision grammar of a ``Lexicon``'s languages, compiled once."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    @cached_property
    def _grammar(self) -> dict:
        lx = self.lexicon
        numbers = {k: int(v) for k, v in lx.table("decision.numbers").items()}
        units = {k: int(v) for k, v in lx.table("decision.units").items()}
        business_units = set(lx.words("decision.business_units"))
        hour_units = set(lx.words("decision.hour_units"))
        weekdays: dict[str, int] = {}
        months: dict[str, int] = {}
        for code in lx.languages:
            from daemon.lang import data

            table = data(code).get("decision", {})
            for i, forms in enumerate(table.get("weekdays", [])):
                for form in forms:
                    weekdays.setdefault(_one_space(norm(form)), i)
            for i, forms in enumerate(table.get("months", [])):
                for form in forms:
                    months.setdefault(_one_space(norm(form)), i + 1)
        relative = {_one_space(k): str(v) for k, v in lx.table("decision.relative").items()}
        numbers = {_one_space(k): v for k, v in numbers.items()}
        units = {_one_space(k): v for k, v in units.items()}
        num = r"(\d{1,3}|" + _alt(numbers) + r")"
        unit = r"(" + _alt([*units, *business_units, *hour_units]) + r")" + r"(?:s|es|e|en|n)?"
        business = r"(?:(" + _alt(lx.words("decision.business")) + r")\w*\s+)?"
        business_after = r"(?:\s+(" + _alt(lx.words("decision.business")) + r")\w*)?"
        within = _alt(lx.words("decision.within"))
        fillers = _alt(lx.words("decision.fillers"))
        # "within two weeks", "innerhalb von zwei Wochen", "dans les deux semaines"
        period = re.compile(
            rf"(?<!\w)(?:{within})(?:\s+(?:{fillers}))*\s+"
            rf"{num}\s+{business}{unit}{business_after}(?!\w)")
        month = r"(" + _alt(months) + r")\.?"
        weekday = r"(" + _alt(weekdays) + r")"
        by = _alt(lx.words("decision.by"))
        nxt = _alt(lx.words("decision.next"))
        dates = re.compile(
            rf"(?<!\w)(?:{month}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?"
            rf"|(\d{{1,2}})(?:st|nd|rd|th|er|º|°|\.)?\s+(?:of\s+|de\s+)?{month}(?:,?\s+(?:de\s+)?(\d{{4}}))?"
            rf"|(\d{{4}})-(\d{{2}})-(\d{{2}})"
            rf"|(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}|\d{{2}})?"
            rf"|(\d{{1,2}})/(\d{{1,2}})(?:/(\d{{4}}|\d{{2}}))?)(?!\w)")
        day = re.compile(rf"(?<!\w)(?:{by})\s+(?:(?:the|le|el|la|il|o|a|de|der|den)\s+)?"
                         rf"(?:({nxt})\s+)?{weekday}(?!\w)")
        rel = re.compile(r"(?<!\w)(" + _alt(relative) + r")(?!\w)")
        before = re.compile(r"(?<!\w)(?:" + _alt(lx.words("decision.before")) + r")\s+$")
        before_start = re.compile(r"(?:" + _alt(lx.words("decision.before")) + r")\s")
        weeks = _alt(lx.words("decision.week_numbers"))
        week = re.compile(rf"(?<!\w)(?:(?:{weeks})\.?\s*(\d{{1,2}})|(\d{{1,2}})\.\s*(?:{weeks}))(?!\w)")
        cues = self.lexicon.matcher("decision.cues")
        return {"numbers": numbers, "units": units, "business_units": business_units,
                "hour_units": hour_units,
                "weekdays": weekdays, "months": months, "relative": relative,
                "period": period, "dates": dates, "day": day, "rel": rel, "cues": cues,
                "before": before, "before_start": before_start, "week": week,
                "week_words": set(lx.words("decision.week_numbers"))}

    def read(self, text: str, interview_day: date, month_first: bool = True) -> date | None:
        """The decision date the first sentence with a cue gives, or None.
        ``month_first`` reads 12/11 as December 11 (as in the US); a date
        with a day above 12 is read either way."""
        if not text:
            return None
        g = self._grammar
        if not g["cues"]:
            return None
        for sentence in self._sentences(norm(text[:TEXT_LIMIT])):
            if g["cues"].search(sentence) is None:
                continue
            found = (self._date(sentence, interview_day, month_first) or self._period(sentence, interview_day)
                     or self._weekday(sentence, interview_day) or self._week(sentence, interview_day)
                     or self._relative(sentence, interview_day))
            if found is not None:
                return found
        return None

    def _sentences(self, text: str) -> list[str]:
        """Sentences, keeping "12. Dezember" together (a day's dot before a month)."""
        months = self._grammar["months"]
        out: list[str] = []
        for piece in _SENTENCES.split(text):
            first = piece.split(" ", 1)[0].strip(",.")
            if out and _DAY_DOT.search(out[-1]) and (first in months or first in self._grammar["week_words"]):
                out[-1] += " " + piece
            else:
                out.append(piece)
        return out

    def _period(self, sentence: str, day: date) -> date | None:
        g = self._grammar
        m = g["period"].search(sentence)
        if not m:
            return None
        amount_text, business, unit, business_after = m.group(1), m.group(2), m.group(3), m.group(4)
        amount = int(amount_text) if amount_text.isdigit() else g["numbers"].get(_one_space(amount_text))
        unit = _one_space(unit)
        if not amount or amount > MAX_DAYS:
            return None
        if unit in g["hour_units"]:
            return day + timedelta(days=-(-amount // 24))  # 48 hours: two days
        if unit in g["business_units"] or ((business or business_after) and g["units"].get(unit) == 1):
            left = amount
            while left:
                day += timedelta(days=1)
                left -= day.weekday() < 5
            return day
        days = g["units"].get(unit)
        if days is None or amount * days > MAX_DAYS:
            return None
        return day + timedelta(days=amount * days)

    def _date(self, sentence: str, day: date, month_first: bool) -> date | None:
        g = self._grammar
        for m in g["dates"].finditer(sentence):
            try:
                found = self._one_date(m, day, month_first, g["months"])
            except ValueError:
                found = None
            if found is not None and day <= found <= day + timedelta(days=MAX_DAYS):
                if g["before"].search(sentence[:m.start()]):
                    found = max(day, found - timedelta(days=1))  # "before December 4": by the 3rd
                return found
        return None

    def _week(self, sentence: str, day: date) -> date | None:
        """"in KW 50", "in der 50. Kalenderwoche", "week 50": that ISO week's Friday."""
        m = self._grammar["week"].search(sentence)
        if not m:
            return None
        number = int(m.group(1) or m.group(2))
        for year in (day.year, day.year + 1):
            try:
                friday = date.fromisocalendar(year, number, 5)
            except ValueError:
                continue
            if friday >= day:
                return friday
        return None

    @staticmethod
    def _one_date(m: re.Match, day: date, month_first: bool, months: dict[str, int]) -> date | None:
        def complete(month: int, dom: int, year: str | None) -> date:
            if year:
                y = int(year)
                return date(y + 2000 if y < 100 else y, month, dom)
            found = date(day.year, month, dom)
            return found if found >= day else date(day.year + 1, month, dom)

        if m.group(1):  # December 12 (2026)
            return complete(months[_one_space(m.group(1))], int(m.group(2)), m.group(3))
        if m.group(5):  # 12 December (2026), 12. Dezember, 12 de diciembre de 2026
            return complete(months[_one_space(m.group(5))], int(m.group(4)), m.group(6))
        if m.group(7):
            return date(int(m.group(7)), int(m.group(8)), int(m.group(9)))
        if m.group(10):  # 12.12.2026: day first everywhere dots are used
            return complete(int(m.group(11)), int(m.group(10)), m.group(12))
        if m.group(13):
            a, b = int(m.group(13)), int(m.group(14))
            if a > 12 and b <= 12:
                month_first = False
            elif b > 12 and a <= 12:
                month_first = True
            month, dom = (a, b) if month_first else (b, a)
            return complete(month, dom, m.group(15))
        return None

    def _weekday(self, sentence: str, day: date) -> date | None:
        g = self._grammar
        m = g["day"].search(sentence)
        if not m:
            return None
        wanted = g["weekdays"][_one_space(m.group(2))]
        ahead = (wanted - day.weekday()) % 7 or 7
        found = day + timedelta(days=ahead)
        if m.group(1):  # "next Friday": the Friday of the following week
            monday_next = day + timedelta(days=7 - day.weekday())
            found = monday_next + timedelta(days=wanted)
        if g["before_start"].match(m.group(0)):
            found = max(day, found - timedelta(days=1))  # "before Friday": by Thursday
        return found

    def _relative(self, sentence: str, day: date) -> date | None:
        g = self._grammar
        m = g["rel"].search(sentence)
        if not m:
            return None
        kind = g["relative"].get(_one_space(m.group(1)))
        monday = day - timedelta(days=day.weekday())
        if kind == "next_week_end":
            return monday + timedelta(days=11)
        if kind == "next_week_start":
            return monday + timedelta(days=8)
        if kind == "week_end":
            return max(day, monday + timedelta(days=4))
        if kind == "tomorrow":
            return day + timedelta(days=1)
        if kind == "same_day":
            return day
        if kind in ("month_end", "next_month_end"):
            year, month = day.year, day.month + (kind == "next_month_end")
            if month > 12:
                year, month = year + 1, 1
            first_after = date(year + (month == 12), month % 12 + 1, 1)
            return first_after - timedelta(days=1)
        return None
