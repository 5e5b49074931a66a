"""Drafts and call notes in the interview's language: every built-in
template of every language renders, hostile names included, and an
interview held in German, French or Spanish is followed up in it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from daemon.drafts.compose import Composer
from daemon.drafts.templates import LANGUAGES, PLACEHOLDERS, TEMPLATE_NAMES, load_template
from daemon.judge.detection import classify
from daemon.model import Attendee, CalendarEvent, Recipient
from daemon.settings import Detection, Me

TZ = ZoneInfo("Europe/Berlin")
ME = Me(name="Alex Morgan", email="me@example.org", timezone="Europe/Berlin", country="DE")
START = datetime(2026, 11, 17, 10, tzinfo=TZ)  # a Tuesday


def interview(title: str, name: str = "Max Mustermann", email: str = "max.mustermann@siemens.example"):
    person = Attendee(email=email, name=name)
    event = CalendarEvent(uid="u@x", start=START, end=START + timedelta(hours=1), title=title,
                          organizer=person, attendees=(person, Attendee(email=ME.email, partstat="ACCEPTED")))
    return classify(event, "cal", Detection(), ME.addresses, TZ)


@pytest.mark.parametrize("title, subject, greeting, words", [
    ("Vorstellungsgespräch bei Siemens AG (Softwareentwickler)",
     "Vielen Dank für das Gespräch am Dienstag, 17. November 2026", "Guten Tag Max Mustermann,",
     ["Position Softwareentwickler bei Siemens AG", "Mit freundlichen Grüßen"]),
    ("Entretien avec Capgemini (Développeur Java)",
     "Merci pour notre entretien du mardi 17 novembre 2026", "Bonjour Max Mustermann,",
     ["poste de Développeur Java chez Capgemini", "salutations distinguées"]),
    ("Entrevista con Telefónica (Analista de datos)",
     "Gracias por la entrevista del martes, 17 de noviembre de 2026", "Buenos días, Max Mustermann:",
     ["puesto de Analista de datos en Telefónica", "Atentamente"]),
    ("Sollicitatiegesprek bij Philips (Data-analist)",
     "Bedankt voor het gesprek op dinsdag 17 november 2026", "Beste Max Mustermann,",
     ["functie van Data-analist bij Philips", "Met vriendelijke groet"]),
    ("Colloquio con Luxottica (Sviluppatore Java)",
     "Grazie per il colloquio di martedì 17 novembre 2026", "Gentile Max Mustermann,",
     ["posizione di Sviluppatore Java presso Luxottica", "Cordiali saluti"]),
    ("Entrevista de emprego na Sonae (Analista de dados)",
     "Agradecimento pela entrevista de terça-feira, 17 de novembro de 2026", "Bom dia, Max Mustermann,",
     ["vaga de Analista de dados na Sonae", "Com os melhores cumprimentos"]),
    ("Interview with Initech (Product Manager)",
     "Thank you for the interview on Tuesday, November 17", "Dear Max,",
     ["Product Manager position at Initech", "Best regards"]),
])
def test_an_interview_is_followed_up_in_its_language(title, subject, greeting, words):
    iv = interview(title)
    draft = Composer.load(ME, None).draft("thank_you_email", "k", iv, (iv.interviewers[0],), iv.end)
    assert draft.subject == subject
    assert draft.text.startswith(greeting + "\n")
    assert all(w in draft.text for w in words), draft.text


def test_the_language_can_be_fixed_for_every_interview():
    iv = interview("Vorstellungsgespräch bei Siemens AG (Softwareentwickler)")
    draft = Composer.load(ME, None, language="en").draft("thank_you_email", "k", iv, (iv.interviewers[0],),
                                                         iv.end)
    assert draft.subject.startswith("Thank you for the interview on")


def test_a_calendar_can_fix_the_language_of_its_interviews():
    # "Entrevista" alone reads as Spanish; a calendar kept in Portuguese says so
    iv = interview("Entrevista - Sonae (Analista de dados)")
    assert Composer.load(ME, None).language_of(iv) == "es"
    composer = Composer.load(ME, None, language="en", by_calendar={"cal": "pt", "other": "de"})
    draft = composer.draft("thank_you_email", "k", iv, (iv.interviewers[0],), iv.end)
    assert draft.subject.startswith("Agradecimento pela entrevista")
    assert Composer.load(ME, None, language="de", by_calendar={"cal": "auto"}).language_of(iv) == "de"


def test_a_user_template_per_language_comes_first(tmp_path):
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "thank_you.txt").write_text("Subject: Danke, {greeting_name}\n\nHallo!\n")
    (tmp_path / "thank_you.txt").write_text("Subject: My own words\n\nHello!\n")
    composer = Composer.load(ME, tmp_path)
    german = interview("Vorstellungsgespräch bei Siemens AG (Softwareentwickler)")
    french = interview("Entretien avec Capgemini (Développeur Java)")
    assert composer.draft("thank_you_email", "k", german, german.interviewers, german.end).subject == \
        "Danke, Max Mustermann"
    assert composer.draft("thank_you_email", "k", french, french.interviewers, french.end).subject == \
        "My own words"  # their own text, in every language without one of its own


HOSTILE = ["Zoë Ðurić-Ångström", "محمد عبد الله", "{company}", "Dr. {0.__class__} ${HOME}", "Ünal, Ayşe"]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_renders_in_every_language_with_hostile_names(lang, name):
    template = load_template(name, None, lang)
    assert template.source.endswith(f"{'' if lang == 'en' else lang + '/'}{name}.txt")
    for hostile in HOSTILE:
        values = {p: hostile for p in PLACEHOLDERS}
        subject, body = template.render(values)
        assert subject and body and "\n" not in subject
        assert "{greeting_name}" not in body and "{interviewer_name}" not in body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_draft_without_a_known_name_still_greets_in_its_language(lang):
    titles = {"en": "Interview with Initech (Product Manager)",
              "nl": "Sollicitatiegesprek bij Philips (Data-analist)",
              "it": "Colloquio con Luxottica (Sviluppatore Java)",
              "pt": "Entrevista de emprego na Sonae (Analista de dados)",
              "de": "Vorstellungsgespräch bei Siemens AG (Softwareentwickler)",
              "fr": "Entretien avec Capgemini (Développeur Java)",
              "es": "Entrevista con Telefónica (Analista de datos)"}
    iv = interview(titles[lang])
    iv = replace(iv, interviewers=(Recipient("", "hr@siemens.example"),))
    draft = Composer.load(ME, None).draft("status_check_email", "k", iv, iv.interviewers, iv.end)
    first = draft.text.splitlines()[0]
    assert first in ("Dear Hiring team,", "Guten Tag zusammen,", "Bonjour Madame, Monsieur,",
                     "Buenos días, equipo de selección:", "Beste heer, mevrouw,",
                     "Gentile Responsabile della selezione,", "Bom dia, equipa de recrutamento,")
