"""Mail domains that say who is behind an address: free mail, hiring
systems, schedulers, e-signature relays, interview vendors.

Hiring systems and schedulers send invitations and mail for the company
that uses them; their domains are never the employer's, and an address at
one is never an interviewer. Each entry is a registered domain: subdomains
(``hire.lever.co``, ``us.greenhouse-mail.io``) count too. The lists follow
the sending domains the systems document for their customers' SPF and
DKIM set-up and the addresses seen in their invitations and notifications.
"""

from __future__ import annotations

import re

FREE_MAIL = frozenset("""
gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.es
hotmail.it live.com live.co.uk live.fr live.de live.nl msn.com yahoo.com yahoo.co.uk yahoo.fr
yahoo.de yahoo.es yahoo.it yahoo.com.br ymail.com icloud.com me.com mac.com aol.com gmx.de gmx.net
gmx.com gmx.at gmx.ch web.de t-online.de posteo.de mailbox.org proton.me protonmail.com pm.me
fastmail.com fastmail.fm hey.com zoho.com yandex.ru yandex.com mail.ru qq.com 163.com 126.com
orange.fr free.fr laposte.net wanadoo.fr sfr.fr libero.it virgilio.it tiscali.it alice.it
bluewin.ch hetnet.nl ziggo.nl kpnmail.nl planet.nl telenet.be skynet.be uol.com.br bol.com.br
terra.com.br sapo.pt naver.com
""".split())

# Applicant-tracking systems and interview schedulers.
HIRING_SYSTEMS = frozenset("""
greenhouse.io greenhouse-mail.io lever.co ashbyhq.com ashbyhq-mail.com workday.com myworkday.com
myworkdayjobs.com smartrecruiters.com smartrecruitersmail.com icims.com jobvite.com
jobvite-mail.com teamtailor.com teamtailor-mail.com personio.de personio.com workable.com
workablemail.com recruitee.com recruiteemail.com bamboohr.com gem.com goodtime.io modernloop.io
rippling.com successfactors.com successfactors.eu taleo.net oraclecloud.com jazzhr.com
applytojob.com breezy.hr breezyhr.com pinpointhq.com homerun.co join.com softgarden.de
softgarden.io dvinci.de rexx-systems.com welcometothejungle.com flatchr.io beetween.com
talent-soft.com cornerstoneondemand.com csod.com paradox.ai olivia.paradox.ai phenom.com
hirebridge.com hireology.com recruiterbox.com manatal.com zohorecruit.com comeet.co
comeet.com occupop.com cvwarehouse.com jobylon.com hrmos.co herp.cloud
""".split())

# Interview-as-a-service and assessment platforms: they run a screen for
# the hiring company, which is the one to thank.
INTERVIEW_VENDORS = frozenset("""
karat.com karat.io hackerrank.com codesignal.com codility.com hirevue.com interviewing.io
coderpad.io coderbyte.com testgorilla.com pymetrics.ai pymetrics.com modernhire.com sparkhire.com
willo.video vidcruiter.com brighthire.ai metaview.ai woven.co qualified.io canditech.io
harver.com shl.com talentlens.com criteriacorp.com devskiller.com filtered.ai
""".split())
VENDOR_NAMES = frozenset("""
karat hackerrank codesignal codility hirevue interviewing.io coderpad coderbyte testgorilla
pymetrics brighthire metaview woven qualified spark hire willo vidcruiter harver shl devskiller
""".split())

# Schedulers and meeting services that send invitations on anyone's behalf.
SCHEDULERS = frozenset("""
calendly.com cal.com savvycal.com youcanbook.me acuityscheduling.com doodle.com chilipiper.com
x.ai reclaim.ai clockwise.com motion.com zcal.co tidycal.com
""".split())

# Professional networks and e-signature relays: mail through them is from
# a person or company named in the display name or subject.
RELAYS = frozenset("""
indeedemail.com docusign.net echosign.com adobesign.com hellosign.com dropboxsign.com
pandadoc.com signnow.com yousign.com welcomekit.co
""".split())

# Companies whose machines send invitations and relay messages for others
# (calendar notifications, meeting links, networks), but whose people are
# employers like any other: only their machines' addresses are left out.
MIXED = frozenset("""
google.com microsoft.com office365.com zoom.us zoom.com webex.com gotomeeting.com hubspot.com
linkedin.com indeed.com glassdoor.com xing.com stepstone.de docusign.com adobe.com
""".split())

# Recruiting agencies: they arrange interviews with their clients, who are
# the employer; their recruiters are not the interviewers.
AGENCIES = frozenset("""
hays.com hays.co.uk hays.de hays.fr hays.nl roberthalf.com roberthalf.net roberthalf.co.uk
michaelpage.com michaelpage.co.uk michaelpage.de michaelpage.fr pagegroup.com pagepersonnel.com
randstad.com randstad.de randstad.fr randstad.nl randstadusa.com adecco.com adecco.de adecco.fr
manpower.com manpowergroup.com experis.com kellyservices.com kforce.com teksystems.com aerotek.com
allegisgroup.com insightglobal.com harveynash.com reed.co.uk hudson.com spencer-ogden.com
modis.com akkodis.com gigroup.com tempo-team.nl yacht.nl brunelinternational.com brunel.net
hirequest.com apexsystems.com collabera.com cybercoders.com motionrecruitment.com
""".split())

# Never an employer, whoever writes from them (unless the event names the
# system's own company: interviews at a hiring-system vendor exist too).
SERVICES = HIRING_SYSTEMS | INTERVIEW_VENDORS | SCHEDULERS | RELAYS | AGENCIES

# Second-level suffixes where the organisation's name is one label further left.
TWO_PART_SUFFIXES = frozenset(
    "co.uk org.uk ac.uk com.au net.au co.nz co.jp co.in com.br com.mx co.za com.ar com.tr "
    "co.il com.sg com.hk".split())

# Local parts of addresses that belong to machines or group mailboxes, not people.
ROBOT_LOCAL_PARTS = re.compile(
    r"^(?:no-?reply|do-?not-?reply|donotreply|noreply-[\w.-]*|calendar-notification|"
    r"notifications?|notify|mailer-daemon|postmaster|bounces?|invites?|calendar|scheduling|"
    r"scheduler|automated|auto-confirm|system)(?:[+._-].*)?$",
    re.I,
)
# Group mailboxes of a hiring team: company contacts, but nobody to thank.
TEAM_LOCAL_PARTS = re.compile(
    r"^(?:jobs?|careers?|recruit(?:ing|ment|ers?)?|talent(?:[._-]?acquisition)?|hiring|hr|"
    r"people|interviews?|candidates?|applications?|apply|staffing|bewerbung(?:en)?|karriere|"
    r"recrutement|rh|empleo|rrhh|vacatures|werving|werkenbij|werken|lavora(?:-?con-?noi)?|carriere|"
    r"carreiras|vagas|recrutamento|selecao|seleccion|seleccion|talento|personal|personalabteilung)"
    r"(?:[+._-].*)?$",
    re.I,
)
# Calendar addresses that are resources or groups, whatever CUTYPE says.
RESOURCE_DOMAIN = re.compile(r"(?:^|\.)(?:resource|group)\.calendar\.google\.com$", re.I)


def registered(domain: str) -> str:
    """``mail.acme.co.uk`` -> ``acme.co.uk``."""
    labels = domain.lower().rstrip(".").split(".")
    keep = 3 if ".".join(labels[-2:]) in TWO_PART_SUFFIXES else 2
    return ".".join(labels[-keep:])


def domain_of(address: str | None) -> str:
    return (address or "").rpartition("@")[2].lower().rstrip(".")


def _in(domain: str, table: frozenset[str]) -> bool:
    """``domain`` or one of its parents is listed."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in table for i in range(len(labels) - 1))


def is_free_mail(domain: str) -> bool:
    return _in(domain, FREE_MAIL)


def is_hiring_system(domain: str) -> bool:
    return _in(domain, HIRING_SYSTEMS)


def is_agency(domain: str) -> bool:
    return _in(domain, AGENCIES) or bool(AGENCY_NAME.search(registered(domain).split(".")[0]))


def is_vendor(domain: str) -> bool:
    return _in(domain, INTERVIEW_VENDORS)


def is_relay(domain: str) -> bool:
    """Hiring systems, schedulers, networks and e-signature services: mail
    from them may carry a company's answer."""
    return _in(domain, SERVICES) or _in(domain, MIXED)


def is_service(domain: str) -> bool:
    return _in(domain, SERVICES)


def is_employer(address: str, named: str = "") -> bool:
    """Whether ``address`` can belong to a person at the hiring company.
    ``named`` is text that names the company (the event's title): a
    hiring system's own domain counts when the text names that system."""
    domain = domain_of(address)
    if not domain or "." not in domain or _in(domain, FREE_MAIL) or RESOURCE_DOMAIN.search(domain):
        return False
    if _in(domain, SERVICES) or is_agency(domain):
        name = registered(domain).split(".")[0]
        return bool(named) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", named, re.I) is not None \
            and not is_robot(address)
    return not (_in(domain, MIXED) and is_robot(address))


def is_robot(address: str) -> bool:
    local = address.partition("@")[0]
    return bool(ROBOT_LOCAL_PARTS.match(local))


# A team's word anywhere in a local part: "northwindhealthcareers", "bookings-acme".
TEAM_INSIDE = re.compile(r"careers|recruit|recrut|talent|bookings|hiring|karriere|scheduling|candidate|"
                         r"seleccion|selection|selezione|selecao|werving|bewerb", re.I)
# A domain whose name says it finds people for others: "caldersearch.co.uk".
AGENCY_NAME = re.compile(r"(?:recruit|staffing|headhunt|personnel|executive)|(?<!re)search(?:partners)?$", re.I)


def is_team_mailbox(address: str) -> bool:
    local = address.partition("@")[0]
    return bool(TEAM_LOCAL_PARTS.match(local) or TEAM_INSIDE.search(local))


def company_from_domain(domain: str) -> str:
    """``acme-robotics.com`` -> ``Acme Robotics``."""
    name = registered(domain).split(".")[0]
    return " ".join(w.capitalize() for w in re.split(r"[-_]", name) if w) or domain
