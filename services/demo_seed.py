"""The demo data set: client accounts, clinics, patients, reports with real PDFs, and demo logins.

Everything comes from one `random.Random(random_seed)` and dates are offsets from `now`, so the
same seed and `now` give the same rows and byte-identical PDFs on SQLite and PostgreSQL.
Run `python -m services.demo_seed` to migrate and fill an empty database.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.blob_store import BlobStore
from db.engine import Database
from db.migrate import upgrade
from db.models import (
    REPORT_TYPES,
    Account,
    AccountMembership,
    Membership,
    Patient,
    Provider,
    ProviderGroup,
    Report,
    ReportRecipient,
    StaffRole,
    User,
)
from services import audit, clock, npi, passwords, settings
from services.demo_report_pdfs import DemoPdf, DemoReportContent, build
from services.errors import DomainError
from services.policy import ROLE_LABELS, STAFF_ROLES, Role

DEMO_PASSWORD = "Demo-Password-1!"

# Results stay in the portal for 60 days after posting, then archive (results-portal FAQ).
RETENTION = timedelta(days=60)
POSTING_WINDOW = timedelta(days=120)
PROGRESS_EVERY = 250

# Which report types each kind of client account receives (results-portal FAQ): payors and TPAs
# get the injury-care list, employers that list plus the two employer letters. State forms are
# "being added over time" for everyone.
EMPLOYER_REPORT_TYPES = frozenset(REPORT_TYPES)
PAYOR_REPORT_TYPES = EMPLOYER_REPORT_TYPES - {"recheck_reminder", "first_notice"}
RECEIVED_REPORT_TYPES = {"employer": EMPLOYER_REPORT_TYPES, "payor": PAYOR_REPORT_TYPES,
                         "tpa": PAYOR_REPORT_TYPES}

INJURY_REPORT_TYPES = frozenset({"injury_status", "first_notice", "transcription", "state_wc_form",
                                 "referral", "recheck_reminder"})
NON_INJURY_REPORT_TYPES = frozenset({"atf", "ccf", "no_show"})
# transcription_summary is either: an injury visit or a pre-employment / DOT examination.

# Drug and alcohol testing is most of an occupational clinic's volume.
_TYPE_WEIGHTS = {
    "ccf": 30, "atf": 9, "no_show": 5, "injury_status": 16, "transcription": 9,
    "transcription_summary": 8, "referral": 6, "recheck_reminder": 6, "first_notice": 6,
    "state_wc_form": 5,
}
# A new injury report starts a claim this often even when an open claim could take it.
_NEW_CLAIM_SHARE = 0.35
_CLAIM_OPEN_DAYS = 45
_INSERT_BATCH = 1000
# Blob writes wait on the file system; two threads hide them behind PDF drawing, more only
# compete with it for the interpreter lock.
_BLOB_WRITERS = 2

# --- Organisations ---------------------------------------------------------------------------

_EMPLOYERS = ("Harborline Freight Co.", "Cedar Ridge Fabrication", "Bluebonnet Market Group")
_EMPLOYER_WEIGHTS = (45, 35, 20)
_PAYORS = ("Prairie Mutual Insurance", "Keystone Casualty Company")
_TPA = "Northgate Claims Services"
# The claim number format of each payor / the TPA, in the order above.
_CLAIM_PREFIXES = ("PMI-", "KCC", "NG-")
_CLAIM_PAYER_WEIGHTS = (40, 35, 25)

_GROUPS = (
    ("Sunbelt Occupational Medicine", (
        ("Sunbelt Occupational Medicine - Houston", "4100 Harrisburg Blvd", "Houston", "TX", "77011"),
        ("Sunbelt Occupational Medicine - Dallas", "2250 Irving Blvd", "Dallas", "TX", "75207"),
        ("Sunbelt Occupational Medicine - Tampa", "5310 W Cypress St", "Tampa", "FL", "33607"),
    )),
    ("Summit Worker Health Partners", (
        ("Summit Worker Health - Sacramento", "1820 Del Paso Blvd", "Sacramento", "CA", "95815"),
        ("Summit Worker Health - Albany", "96 Wolf Rd", "Albany", "NY", "12205"),
    )),
)
# Two treating physicians per clinic, in the order of _GROUPS.
_PHYSICIANS = (
    ("Dr. Maya Okafor, MD", "Dr. Daniel Reyes, DO"),
    ("Dr. Hannah Brooks, MD", "Dr. Victor Lam, MD"),
    ("Dr. Elena Marsh, DO", "Dr. Samuel Ortiz, MD"),
    ("Dr. Priya Natarajan, MD", "Dr. Colin Becker, MD"),
    ("Dr. Laura Kim, MD", "Dr. Marcus Webb, DO"),
)
_MROS = ("Dr. Gregory Hale, MD, MRO", "Dr. Nadia Farouk, MD, MRO")
_TECHNICIANS = ("Tanya Greer, BAT", "Luis Moreno, BAT", "Kim Nguyen, BAT", "Derek Shaw, BAT")
_COLLECTORS = ("Rosa Alvarez", "Jamal Carter", "Megan Fox-Hill", "Ivan Petrov")
_COORDINATORS = ("Patient services coordinator", "Clinic operations coordinator")
_LABORATORY = "Northpoint Toxicology Laboratory"

# --- Patients --------------------------------------------------------------------------------

_FIRST_NAMES = (
    "James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos",
    "Elizabeth", "Jose", "Barbara", "Daniel", "Susan", "Matthew", "Jessica", "Anthony", "Sarah",
    "Mark", "Karen", "Luis", "Nancy", "Steven", "Lisa", "Andrew", "Betty", "Joshua", "Sandra",
    "Kevin", "Ashley", "Brian", "Kimberly", "Juan", "Emily", "Ryan", "Donna", "Jacob", "Michelle",
    "Gary", "Carol", "Eric", "Amanda", "Jonathan", "Melissa", "Tyrone", "Deborah", "Linh",
    "Stephanie", "Rafael", "Rebecca", "Samuel", "Sharon", "Gregory", "Laura", "Terrell", "Cynthia",
    "Hector", "Angela", "Marcus", "Yolanda", "Wei", "Priya", "Omar", "Fatima", "Dmitri", "Keisha",
)
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Okonkwo", "Patel", "Kowalski", "Delgado", "Brennan",
    "Castillo", "Whitaker", "Huang", "Fitzgerald", "Ibarra", "Lindqvist", "Morales", "Petrovic",
)

# --- Clinical content ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Injury:
    body_part: str
    diagnosis: str
    mechanism: str
    restrictions: str
    exam: str


_INJURIES = (
    _Injury("Lower back", "Lumbar strain (S39.012A)", "lifting a 50 lb carton from a pallet",
            "No lifting over 15 lb; no repetitive bending or twisting; change position every 30 minutes",
            "Paraspinal tenderness L3-L5 bilaterally. Flexion limited to 60 degrees by pain. Straight "
            "leg raise negative bilaterally. Reflexes symmetric. Gait is slow but steady."),
    _Injury("Right shoulder", "Strain of right rotator cuff (S46.011A)",
            "reaching overhead to stock a high shelf",
            "No overhead reaching with the right arm; no lifting over 10 lb with the right arm",
            "Tenderness over the right supraspinatus. Abduction to 110 degrees with pain. Empty can "
            "test positive on the right. Strength 4/5 in abduction. Neurovascularly intact distally."),
    _Injury("Left wrist", "Sprain of left wrist (S63.502A)",
            "falling from a loading dock step onto an outstretched hand",
            "No gripping or lifting over 5 lb with the left hand; wear the wrist splint at work",
            "Mild swelling over the dorsal left wrist. No snuffbox tenderness. Range of motion "
            "reduced by about a third. Grip strength reduced. Capillary refill brisk."),
    _Injury("Right knee", "Contusion of right knee (S80.01XA)", "slipping on a wet floor in the warehouse",
            "Seated work at least half of the shift; no climbing ladders; no squatting or kneeling",
            "Ecchymosis over the anterior right knee. Small effusion. Ligaments stable to stress "
            "testing. McMurray test negative. Full weight bearing with a mild limp."),
    _Injury("Right hand", "Laceration of right index finger (S61.210A)",
            "a box cutter slipping while opening cartons",
            "Keep the dressing clean and dry; no wet work; no knife or blade use",
            "1.8 cm laceration over the volar right index finger, edges well approximated after "
            "repair. Flexor and extensor function intact. Sensation intact at the fingertip."),
    _Injury("Left ankle", "Sprain of left ankle (S93.402A)", "stepping off a forklift onto uneven ground",
            "Sedentary work only; walking limited to 10 minutes per hour; no ladders",
            "Swelling and tenderness over the left anterior talofibular ligament. Able to bear "
            "weight for four steps. No bony tenderness at the malleoli. Anterior drawer negative."),
    _Injury("Neck", "Strain of neck muscles (S16.1XXA)",
            "a low-speed rear-end collision while driving a company vehicle",
            "No driving company vehicles; no lifting over 20 lb; no overhead work",
            "Tenderness of the paracervical and upper trapezius muscles. Rotation limited to 50 "
            "degrees each side. Spurling test negative. Upper extremity strength and reflexes normal."),
    _Injury("Right eye", "Foreign body in cornea, right eye (T15.01XA)",
            "grinding metal without a face shield",
            "Wear safety glasses at all times; no grinding or cutting work until the recheck",
            "Visual acuity 20/25 right, 20/20 left. Small corneal foreign body removed at 10 o'clock. "
            "Fluorescein shows a 1 mm abrasion. No rust ring remaining."),
    _Injury("Left forearm", "Burn of first degree of left forearm (T22.112A)",
            "contact with a hot press plate on the production line",
            "Keep the burn covered; no work near heat sources; no gloves that rub the area",
            "5 x 3 cm area of erythema on the dorsal left forearm without blistering. Surrounding "
            "skin intact. No signs of infection."),
)

_WORK_STATUSES = ("Full duty", "Modified duty with restrictions", "Off work")
_WORK_STATUS_WEIGHTS = (25, 60, 15)
_TEST_REASONS = ("Pre-employment", "Random", "Post-accident", "Reasonable suspicion", "Return-to-duty",
                 "Follow-up")
_TEST_REASON_WEIGHTS = (50, 30, 8, 2, 5, 5)
_PANELS = (
    ("DOT 5-panel (FMCSA)", ("marijuana metabolite", "cocaine metabolite", "amphetamines", "opioids",
                             "phencyclidine")),
    ("Non-DOT 10-panel", ("marijuana metabolite", "cocaine metabolite", "amphetamines", "opiates",
                          "benzodiazepines", "oxycodone")),
    ("Non-DOT 5-panel", ("marijuana metabolite", "cocaine metabolite", "amphetamines", "opiates")),
    ("Non-DOT 4-panel (no THC)", ("cocaine metabolite", "amphetamines", "opiates", "phencyclidine")),
)
_CANCEL_REASONS = ("Fatal flaw: specimen ID on the bottle does not match the form",
                   "Fatal flaw: insufficient specimen volume and no second collection",
                   "Laboratory rejected: specimen bottle seal broken on arrival")
_SPECIALTIES = (
    ("Orthopedic surgery", "Persistent instability and pain despite four weeks of conservative care"),
    ("Physical therapy", "Restore range of motion and strength for return to full duty"),
    ("Neurology", "Radiating symptoms with numbness; evaluate for nerve involvement"),
    ("Pain management", "Pain limiting function after six weeks; consider interventional options"),
    ("Ophthalmology", "Persistent visual symptoms; slit lamp examination"),
    ("Hand surgery", "Evaluate tendon function and wound healing"),
    ("Physical medicine and rehabilitation", "Plateau in recovery; functional capacity planning"),
)
_SPECIALIST_NAMES = ("Dr. Irene Walsh", "Dr. Tomas Herrera", "Dr. Alan Cho", "Dr. Beatrice Osei",
                     "Dr. Kurt Lindgren", "Dr. Sofia Mendez")
_NO_SHOW_APPOINTMENTS = ("Pre-employment drug screen collection", "DOT physical examination",
                         "Random drug test collection", "Respirator fit test and medical clearance",
                         "Pre-employment physical examination")
_APPOINTMENT_TIMES = ("8:00 AM", "8:30 AM", "9:15 AM", "10:00 AM", "10:45 AM", "11:30 AM", "1:00 PM",
                      "1:45 PM", "2:30 PM", "3:15 PM", "4:00 PM")

# State-specific forms for the states the demo clinics are in: name, then the form's own fields.
_STATE_FORMS = {
    "TX": "Texas DWC Form-073 Work Status Report",
    "CA": "California DWC Form 5021 Doctor's First Report of Occupational Injury or Illness",
    "FL": "Florida DWC-25 Uniform Medical Treatment/Status Reporting Form",
    "NY": "New York Form C-4 Doctor's Initial Report",
}


# --- What the seed creates --------------------------------------------------------------------


@dataclass(frozen=True)
class SeedSummary:
    """How much demo data a seed created."""

    employer_accounts: int
    payor_accounts: int
    tpa_accounts: int
    provider_groups: int
    providers: int
    patients: int
    users: int
    reports: int
    archived_reports: int
    injury_reports: int
    claims: int
    report_recipients: int
    pdf_pages: int
    pdf_bytes: int
    reports_by_type: tuple[tuple[str, int], ...] = ()

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "reports_by_type"}

    def describe(self) -> str:
        lines = [f"{name.replace('_', ' ')}: {value:,}" for name, value in self.counts().items()]
        lines += [f"  {REPORT_TYPES[key]}: {count:,}" for key, count in self.reports_by_type]
        return "\n".join(lines)


class DatabaseNotEmpty(DomainError):
    """Demo data goes only into an empty database, never next to real users or reports."""

    def __init__(self) -> None:
        super().__init__("The database already has users or reports; demo data was not added.")


@dataclass(frozen=True)
class _DemoUser:
    email: str
    name: str
    role: Role
    scope: str = ""  # which group, provider or account the role covers; "" for staff


_DEMO_USERS = (
    _DemoUser("admin@demo.test", "Avery Admin", Role.SYSTEM_ADMIN),
    _DemoUser("support@demo.test", "Sam Sutton", Role.SUPPORT_REP),
    _DemoUser("accounts@demo.test", "Alex Acosta", Role.ACCOUNT_REP),
    _DemoUser("privacy@demo.test", "Priya Prakash", Role.PRIVACY_OFFICER),
    _DemoUser("manager@demo.test", "Morgan Miller", Role.MANAGER),
    _DemoUser("groupadmin@demo.test", "Grace Gonzalez", Role.PROVIDER_GROUP_ADMIN, _GROUPS[0][0]),
    _DemoUser("clinicadmin@demo.test", "Carmen Castillo", Role.PROVIDER_ADMIN, _GROUPS[0][1][0][0]),
    _DemoUser("clinic@demo.test", "Chris Chen", Role.PROVIDER_STAFF, _GROUPS[0][1][0][0]),
    _DemoUser("employer@demo.test", "Erin Ellis", Role.ACCOUNT_USER, _EMPLOYERS[0]),
    _DemoUser("payor@demo.test", "Paul Perez", Role.ACCOUNT_USER, _PAYORS[0]),
    _DemoUser("tpa@demo.test", "Tara Thompson", Role.ACCOUNT_USER, _TPA),
)

DEMO_LOGINS: list[tuple[str, str]] = [
    (user.email, f"{ROLE_LABELS[user.role]}, {user.scope}" if user.scope else ROLE_LABELS[user.role])
    for user in _DEMO_USERS
]


# --- Generation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clinic:
    id: int
    name: str
    npi: str
    address: str
    state: str
    physicians: tuple[str, str]


@dataclass(frozen=True)
class _Person:
    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    employee_id: str
    employer_id: int

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass
class _Claim:
    number: str
    patient: _Person
    clinic: _Clinic
    payer: Account
    injury_date: date
    injury: _Injury
    physician: str


@dataclass
class _Visit:
    """What one report is about, before its type-specific content is drawn."""

    report_type: str
    patient: _Person
    clinic: _Clinic
    service_date: date
    posted_at: datetime
    claim: _Claim | None  # set exactly for injury reports
    employer_name: str
    age: int = field(init=False)

    def __post_init__(self) -> None:
        born = self.patient.date_of_birth
        self.age = self.service_date.year - born.year - (
            (self.service_date.month, self.service_date.day) < (born.month, born.day))


def _npi(rng: random.Random, used: set[str]) -> str:
    while True:
        first_nine = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
        candidate = first_nine + npi.check_digit(first_nine)
        if candidate not in used:
            used.add(candidate)
            return candidate


def _us_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def _lower_first(text: str) -> str:
    """For a restriction quoted mid-sentence ("... restrictions: no lifting over 15 lb")."""
    return text[:1].lower() + text[1:]


def _atf(rng: random.Random, visit: _Visit):
    reason = rng.choices(_TEST_REASONS, _TEST_REASON_WEIGHTS)[0]
    technician = rng.choice(_TECHNICIANS)
    roll = rng.random()
    screening = 0.0 if roll < 0.92 else round(rng.uniform(0.005, 0.019), 3) if roll < 0.97 else round(
        rng.uniform(0.021, 0.095), 3)
    hour = rng.randint(7, 16)
    minute = rng.randrange(0, 60)
    details = [
        ("Test reason", reason),
        ("Testing authority", rng.choice(("DOT - FMCSA", "DOT - FTA", "Non-DOT (employer policy)"))),
        ("Breath alcohol technician", technician),
        ("Device", f"Evidential breath tester, serial EBT-{rng.randint(10000, 99999)}"),
        ("Screening test", f"{hour:02d}:{minute:02d}, BAC {screening:.3f}"),
    ]
    if screening >= 0.02:
        confirmation = max(0.02, round(screening + rng.uniform(-0.006, 0.004), 3))
        minute += 16
        at = f"{hour + minute // 60:02d}:{minute % 60:02d}"
        details.append(("Confirmation test", f"{at}, BAC {confirmation:.3f}"))
        if confirmation >= 0.04:
            result = "Positive: 0.040 or greater; removed from safety-sensitive duty"
        else:
            result = "0.020-0.039: removed from safety-sensitive duty for at least 24 hours"
    else:
        details.append(("Confirmation test", "Not required (screening result below 0.020)"))
        result = "Negative"
    details.append(("Result", result))
    narrative = ("Step 1 completed by the employee; steps 2 and 3 completed by the breath alcohol "
                 "technician. The employee was shown each result on the device display.",)
    return "Breath alcohol test", tuple(details), narrative, technician


def _ccf(rng: random.Random, visit: _Visit):
    reason = rng.choices(_TEST_REASONS, _TEST_REASON_WEIGHTS)[0]
    panel, substances = rng.choice(_PANELS)
    roll = rng.random()
    if roll < 0.85:
        result = "Negative"
    elif roll < 0.91:
        result = "Negative-dilute"
    elif roll < 0.96:
        result = f"Positive for {rng.choice(substances)}"
    else:
        result = f"Cancelled: {rng.choice(_CANCEL_REASONS)}"
    mro = rng.choice(_MROS)
    verified = visit.service_date + timedelta(days=rng.randint(1, 2))
    details = (
        ("Specimen ID", f"{rng.randint(1_000_000, 9_999_999)}"),
        ("Test reason", reason),
        ("Panel", panel),
        ("Specimen type", rng.choice(("Urine, split specimen", "Urine, single specimen"))),
        ("Collector", rng.choice(_COLLECTORS)),
        ("Temperature in range", "Yes"),
        ("Laboratory", _LABORATORY),
        ("Result", result),
        ("MRO verification", f"{mro}, {_us_date(min(verified, visit.posted_at.date()))}"),
    )
    narrative = ("Chain of custody maintained from collection to laboratory receipt. Results are "
                 "reported after Medical Review Officer verification.",)
    return "Custody and control", details, narrative, mro


def _work_status(rng: random.Random, injury: _Injury) -> tuple[str, str]:
    status = rng.choices(_WORK_STATUSES, _WORK_STATUS_WEIGHTS)[0]
    restrictions = {"Full duty": "None", "Off work": "Off work until the next visit"}.get(
        status, injury.restrictions)
    return status, restrictions


def _injury_status(rng: random.Random, visit: _Visit):
    claim = visit.claim
    status, restrictions = _work_status(rng, claim.injury)
    next_visit = visit.service_date + timedelta(days=rng.randint(5, 14))
    details = (
        ("Date of injury", _us_date(claim.injury_date)),
        ("Body part", claim.injury.body_part),
        ("Diagnosis", claim.injury.diagnosis),
        ("Work status", status),
        ("Restrictions", restrictions),
        ("Treatment", rng.choice(("Physical therapy 2 times a week for 3 weeks; home exercise program",
                                  "Ice 20 minutes 3 times a day; ibuprofen 600 mg as needed",
                                  "Splint or brace at work; over-the-counter analgesics as needed",
                                  "Wound care daily; return for suture removal"))),
        ("Progress", rng.choice(("Improving as expected", "Slower than expected",
                                 "Unchanged since last visit", "Initial visit"))),
        ("Next visit", f"{_us_date(next_visit)} at {rng.choice(_APPOINTMENT_TIMES)}"),
    )
    return "Activity status", details, (), claim.physician


def _referral(rng: random.Random, visit: _Visit):
    specialty, reason = rng.choice(_SPECIALTIES)
    claim = visit.claim
    details = (
        ("Referred to", f"{specialty}, {rng.choice(_SPECIALIST_NAMES)}"),
        ("Reason", reason),
        ("Diagnosis", claim.injury.diagnosis),
        ("Date of injury", _us_date(claim.injury_date)),
        ("Urgency", rng.choice(("Routine", "Routine", "Urgent"))),
        ("Authorization", "Requested from the claims adjuster with this report"),
    )
    return "Referral", details, (), claim.physician


def _no_show(rng: random.Random, visit: _Visit):
    appointment = rng.choice(_NO_SHOW_APPOINTMENTS)
    at = rng.choice(_APPOINTMENT_TIMES)
    details = (
        ("Missed appointment", f"{_us_date(visit.service_date)} at {at}"),
        ("Appointment type", appointment),
        ("Attempts to reach", f"{rng.randint(1, 3)} phone call(s) to the number on file"),
    )
    narrative = (
        f"Dear {visit.employer_name} representative,",
        f"This letter is to let you know that your employee {visit.patient.first_name} "
        f"{visit.patient.last_name} did not arrive for the {appointment.lower()} scheduled at "
        f"{visit.clinic.name} on {_us_date(visit.service_date)} at {at}.",
        "If the service is still needed, please have the employee call the clinic or walk in during "
        "business hours. No results will be posted for this appointment.",
    )
    return "Missed appointment", details, narrative, rng.choice(_COORDINATORS)


def _days_ago(days: int) -> str:
    return {0: "the same day", 1: "yesterday"}.get(days, f"{days} days ago")


def _transcription(rng: random.Random, visit: _Visit):
    claim = visit.claim
    injury = claim.injury
    pain = rng.randint(2, 8)
    days = (visit.service_date - claim.injury_date).days
    status, restrictions = _work_status(rng, injury)
    # About four in ten dictations are full ones (history, job demands, discussion) and run
    # onto a second page, as real ones do; the rest are short follow-up notes.
    full = rng.random() < 0.4
    sections: list[tuple[str, str]] = [
        ("CHIEF COMPLAINT", f"{injury.body_part} pain after a work injury on {_us_date(claim.injury_date)}."),
        ("HISTORY OF PRESENT ILLNESS",
         f"The patient is a {visit.age}-year-old employee of {visit.employer_name} who reports "
         f"{injury.mechanism}. Symptoms began {_days_ago(days)} "
         f"and are rated {pain} out of 10, worse with activity and better with rest. "
         + rng.choice(("No prior injury to this area.", "A similar strain several years ago resolved fully.",
                       "No numbness or tingling."))),
    ]
    if full:
        sections += [
            ("PAST MEDICAL HISTORY", rng.choice((
                "Hypertension, controlled on lisinopril. No surgeries.",
                "Seasonal allergies. Appendectomy in childhood.",
                "Type 2 diabetes managed with metformin. No prior work injuries.",
                "No significant past medical history."))),
            ("MEDICATIONS", rng.choice(("Ibuprofen as needed.", "Acetaminophen as needed.", "None."))
             + " Allergies: "
             + rng.choice(("no known drug allergies.", "penicillin (rash).", "sulfa drugs."))),
            ("SOCIAL AND WORK HISTORY", rng.choice((
                "Works full-time on the day shift; tasks include lifting, pushing carts and operating a "
                "pallet jack. Nonsmoker.",
                "Works ten-hour shifts four days a week in production. Former smoker, quit five years ago.",
                "Drives a delivery route and loads the truck at the start of each shift. Nonsmoker."))),
            ("JOB DEMANDS",
             "The patient describes the usual job as medium physical demand, with frequent lifting of "
             f"{rng.choice(('20 to 40', '25 to 50', '10 to 30'))} lb, prolonged standing and walking, and "
             "occasional climbing. According to the patient, the employer has light-duty positions "
             "available, including inventory counting, labeling and quality checks at a seated station."),
            ("REVIEW OF SYSTEMS",
             "Negative for fever, chills, weight loss, chest pain, shortness of breath, bowel or bladder "
             "changes. Positive only as noted in the history of present illness. All other systems "
             "reviewed and negative."),
        ]
    sections += [
        ("VITAL SIGNS", f"Blood pressure {rng.randint(112, 148)}/{rng.randint(68, 92)}, pulse "
                        f"{rng.randint(60, 96)}, respirations {rng.randint(12, 18)}, temperature "
                        f"{rng.choice(('97.9', '98.2', '98.4', '98.6', '98.7'))} F."),
        ("EXAMINATION", injury.exam),
    ]
    if full:
        sections += [
            ("FUNCTIONAL ASSESSMENT",
             "Transfers from sitting to standing are independent. The patient can carry a light object "
             "across the room and climb two steps with a handrail. Guarding is appropriate to the injury "
             "and consistent between distracted and formal testing. No signs of symptom magnification."),
            ("DIAGNOSTICS", rng.choice((
                f"X-rays of the {injury.body_part.lower()} show no fracture or dislocation.",
                "No imaging indicated at this visit.",
                f"Point-of-care ultrasound of the {injury.body_part.lower()} shows soft tissue "
                "swelling only."))),
        ]
    sections.append(("ASSESSMENT", f"{injury.diagnosis}, work related."))
    if full:
        sections.append((
            "DISCUSSION",
            "Findings are consistent with the reported mechanism of injury. Expected recovery is two to "
            "six weeks with activity modification and a graded return to usual duties. If improvement "
            "stalls, imaging and a specialist referral will be considered at the next visit."))
    sections.append((
        "PLAN",
        rng.choice(("Continue the home exercise program.", "Start physical therapy.",
                    "Continue current medication.")) + f" Work status: {status.lower()}. Restrictions: "
        f"{_lower_first(restrictions)}. Recheck in {rng.randint(5, 14)} days or sooner if "
        "symptoms worsen."))
    if full:
        sections += [
            ("PATIENT EDUCATION",
             "The diagnosis, expected course and warning signs were discussed. The patient verbalized "
             "understanding of the restrictions and agrees to share them with the supervisor today. "
             "Written instructions were provided."),
            ("COORDINATION OF CARE",
             f"Work status and restrictions were sent to the employer and the claims adjuster on claim "
             f"{claim.number}. The patient was asked to bring any outside records and the completed pain "
             "diary to the next appointment."),
        ]
    narrative = tuple(f"{heading}: {text}" for heading, text in sections)
    return "Visit note", (("Dictated by", claim.physician),), narrative, claim.physician


def _transcription_summary(rng: random.Random, visit: _Visit):
    if visit.claim is not None:
        claim = visit.claim
        status, restrictions = _work_status(rng, claim.injury)
        summary = (f"Seen for {claim.injury.diagnosis.lower()} from an injury on "
                   f"{_us_date(claim.injury_date)}. "
                   f"{rng.choice(('Improving.', 'Stable.', 'Slowly improving.'))} "
                   f"Work status {status.lower()}; restrictions: {restrictions.lower()}.")
        details = (("Visit", "Injury follow-up"), ("Diagnosis", claim.injury.diagnosis),
                   ("Work status", status))
        return "Visit summary", details, (summary,), claim.physician
    exam = rng.choice(("DOT physical examination", "Pre-employment physical examination",
                       "Respirator medical clearance"))
    outcome = rng.choice(("Meets standards; 2-year certificate issued", "Meets standards; 1-year certificate "
                          "issued (blood pressure monitoring)", "Cleared without restrictions",
                          "Determination pending: additional records requested"))
    details = (("Visit", exam), ("Outcome", outcome),
               ("Blood pressure", f"{rng.randint(110, 150)}/{rng.randint(68, 94)}"),
               ("Vision", rng.choice(("20/20 both eyes", "20/25 corrected", "20/30 corrected"))))
    summary = f"{exam} completed at {visit.clinic.name}. {outcome}."
    return "Visit summary", details, (summary,), rng.choice(visit.clinic.physicians)


def _recheck_reminder(rng: random.Random, visit: _Visit):
    appointment = visit.posted_at.date() + timedelta(days=rng.randint(2, 10))
    at = rng.choice(_APPOINTMENT_TIMES)
    details = (
        ("Appointment", f"{_us_date(appointment)} at {at}"),
        ("Location", f"{visit.clinic.name}, {visit.clinic.address}"),
        ("Claim", visit.claim.number),
    )
    narrative = (
        f"Dear {visit.employer_name} representative,",
        f"This is a reminder that {visit.patient.first_name} {visit.patient.last_name} has a recheck "
        f"appointment for the work injury of {_us_date(visit.claim.injury_date)} on "
        f"{_us_date(appointment)} at {at}. Please allow the employee time to attend; the "
        "work status will be updated after the visit.",
        "To reschedule, call the clinic at least 24 hours ahead.",
    )
    return "Recheck appointment", details, narrative, rng.choice(_COORDINATORS)


def _first_notice(rng: random.Random, visit: _Visit):
    claim = visit.claim
    status, restrictions = _work_status(rng, claim.injury)
    details = (
        ("Date of injury", _us_date(claim.injury_date)),
        ("Body part", claim.injury.body_part),
        ("Description", f"Employee reports {claim.injury.mechanism}."),
        ("Initial diagnosis", claim.injury.diagnosis),
        ("Work status", status),
        ("Restrictions", restrictions),
        ("Claim", claim.number),
    )
    narrative = (
        f"Dear {visit.employer_name} representative,",
        f"Your employee was seen at {visit.clinic.name} on {_us_date(visit.service_date)} for a "
        "work-related injury. Please report the injury to your workers' compensation carrier if you "
        "have not already done so, and contact the clinic with any questions about the work status.",
    )
    return "First report of injury", details, narrative, claim.physician


def _state_wc_form(rng: random.Random, visit: _Visit):
    claim = visit.claim
    state = visit.clinic.state
    status, restrictions = _work_status(rng, claim.injury)
    if state == "TX":
        details = (
            ("Part II work status", {"Full duty": "Allowed to return to work without restrictions",
                                     "Off work": "Prevented from returning to work"}.get(
                status, "Allowed to return to work with the restrictions below")),
            ("Part III restrictions", restrictions),
            ("Expected to last through", _us_date(visit.service_date + timedelta(days=rng.randint(7, 21)))),
            ("Diagnosis", claim.injury.diagnosis),
            ("Date of injury", _us_date(claim.injury_date)),
        )
    elif state == "CA":
        details = (
            ("How the injury occurred", f"Employee reports {claim.injury.mechanism}."),
            ("Subjective complaints", f"{claim.injury.body_part} pain rated {rng.randint(3, 8)}/10"),
            ("Objective findings", claim.injury.exam),
            ("Diagnosis", claim.injury.diagnosis),
            ("Findings consistent with account", "Yes"),
            ("Able to perform usual work", "Yes" if status == "Full duty" else f"No: {restrictions}"),
        )
    elif state == "FL":
        details = (
            ("Diagnosis", claim.injury.diagnosis),
            ("Functional limitations", restrictions),
            ("Work status", status),
            ("Maximum medical improvement", "Not yet reached"),
            ("Date of injury", _us_date(claim.injury_date)),
        )
    else:
        details = (
            ("WCB case number", f"G{rng.randint(1_000_000, 9_999_999)}"),
            ("Date of injury", _us_date(claim.injury_date)),
            ("Description", f"Employee reports {claim.injury.mechanism}."),
            ("Diagnosis", claim.injury.diagnosis),
            ("Temporary impairment", {"Full duty": "0%", "Off work": "100%"}.get(status, "50%")),
            ("Work status", status if status == "Full duty" else f"{status}: {_lower_first(restrictions)}"),
        )
    return _STATE_FORMS[state], details, (), claim.physician


_BUILDERS = {
    "atf": _atf, "ccf": _ccf, "injury_status": _injury_status, "referral": _referral,
    "no_show": _no_show, "transcription": _transcription,
    "transcription_summary": _transcription_summary, "recheck_reminder": _recheck_reminder,
    "first_notice": _first_notice, "state_wc_form": _state_wc_form,
}


def _report_types(rng: random.Random, count: int) -> list[str]:
    # One of each first, so even a small seed shows every type.
    keys = list(REPORT_TYPES)
    types = keys[:count] + rng.choices(list(_TYPE_WEIGHTS), list(_TYPE_WEIGHTS.values()),
                                       k=max(0, count - len(keys)))
    rng.shuffle(types)
    return types


def _is_injury(rng: random.Random, report_type: str) -> bool:
    if report_type in INJURY_REPORT_TYPES:
        return True
    if report_type in NON_INJURY_REPORT_TYPES:
        return False
    return rng.random() < 0.6  # transcription summaries: mostly injury visits, some exams


def _service_lag(rng: random.Random, injury: bool) -> int:
    if injury:
        return rng.randint(0, 5)
    # Non-injury results are due within 72 hours (results-portal FAQ); a few run late.
    return rng.choices((0, 1, 2, 3, 4, 5), (30, 35, 20, 10, 3, 2))[0]


def _has_data(session: Session) -> bool:
    return (session.scalar(select(User.id).limit(1)) is not None
            or session.scalar(select(Report.id).limit(1)) is not None)


def database_is_empty(db: Database) -> bool:
    """True when there are no users and no reports (the only time the demo seed runs)."""
    with db.transaction(write=False) as session:
        return not _has_data(session)


@dataclass(frozen=True)
class _Draft:
    row: dict
    recipients: tuple[int, ...]
    pdf: DemoPdf


class _ReportDrafts:
    """Draws the reports one by one in posting order, with the injury claims they belong to."""

    def __init__(self, rng: random.Random, *, now: datetime, clinics: list[_Clinic],
                 people: list[_Person], employer_names: dict[int, str], payers: list[Account]) -> None:
        self.rng = rng
        self.archive_before = now - RETENTION
        self.clinics = clinics
        self.people = people
        self.employer_names = employer_names
        self.payers = payers
        self.claims: list[_Claim] = []
        self._open: list[_Claim] = []
        self._numbers: set[str] = set()

    def _new_claim(self, service_date: date) -> _Claim:
        rng = self.rng
        payer_index = rng.choices(range(len(self.payers)), _CLAIM_PAYER_WEIGHTS)[0]
        number = ""
        while not number or number in self._numbers:
            number = f"{_CLAIM_PREFIXES[payer_index]}{rng.randint(10_000_000, 99_999_999)}"
        self._numbers.add(number)
        clinic = rng.choice(self.clinics)
        claim = _Claim(number=number, patient=rng.choice(self.people), clinic=clinic,
                       payer=self.payers[payer_index],
                       injury_date=service_date - timedelta(days=rng.randint(0, 2)),
                       injury=rng.choice(_INJURIES), physician=rng.choice(clinic.physicians))
        self.claims.append(claim)
        self._open.append(claim)
        return claim

    def _claim_for(self, report_type: str, service_date: date) -> _Claim:
        self._open = [c for c in self._open if (service_date - c.injury_date).days <= _CLAIM_OPEN_DAYS]
        candidates = [c for c in self._open if c.injury_date <= service_date]
        # A first notice opens a claim; other injury reports mostly follow one already open.
        if report_type == "first_notice" or not candidates or self.rng.random() < _NEW_CLAIM_SHARE:
            return self._new_claim(service_date)
        return self.rng.choice(candidates)

    def draft(self, number: int, report_type: str, posted_at: datetime) -> _Draft:
        rng = self.rng
        injury = _is_injury(rng, report_type)
        service_date = posted_at.date() - timedelta(days=_service_lag(rng, injury))
        claim = self._claim_for(report_type, service_date) if injury else None
        if claim is not None:
            patient, clinic = claim.patient, claim.clinic
        else:
            patient, clinic = rng.choice(self.people), rng.choice(self.clinics)
        employer_name = self.employer_names[patient.employer_id]
        visit = _Visit(report_type, patient, clinic, service_date, posted_at, claim, employer_name)
        title, details, narrative, signer = _BUILDERS[report_type](rng, visit)
        claim_number = claim.number if claim else None
        pdf = build(DemoReportContent(
            report_label=f"RD-{posted_at:%y%m%d}-{number:05d}", report_type=report_type,
            patient_name=patient.display_name, date_of_birth=patient.date_of_birth,
            employee_id=patient.employee_id, employer_name=employer_name, provider_name=clinic.name,
            provider_npi=clinic.npi, provider_address=clinic.address, service_date=service_date,
            posted_at=posted_at, state=clinic.state, claim_number=claim_number, section_title=title,
            details=details, narrative=narrative, signed_by=signer,
        ))
        recipients = [patient.employer_id] if report_type in RECEIVED_REPORT_TYPES["employer"] else []
        if claim is not None and report_type in RECEIVED_REPORT_TYPES[claim.payer.kind]:
            recipients.append(claim.payer.id)
        row = {
            "report_type": report_type, "patient_id": patient.id, "provider_id": clinic.id,
            "service_date": service_date, "posted_at": posted_at,
            "status": "archived" if posted_at < self.archive_before else "available",
            "injury": injury, "state": clinic.state, "claim_number": claim_number,
            "file_sha256": hashlib.sha256(pdf.data).hexdigest(), "file_size": len(pdf.data),
            "page_count": pdf.page_count,
        }
        return _Draft(row, tuple(recipients), pdf)


def seed(db: Database, *, blob_store: BlobStore, reports: int = 5000, patients: int = 3000,
         now: datetime | None = None, random_seed: int = 20261123,
         progress: Callable[[int, int], None] | None = None) -> SeedSummary:
    """Fill an empty database with the demo data set; raises DatabaseNotEmpty otherwise."""
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(timezone.utc)
    if patients < 1 or reports < 0:
        raise ValueError("the demo needs at least one patient and a non-negative report count")
    rng = random.Random(random_seed)

    with db.transaction() as session, ThreadPoolExecutor(_BLOB_WRITERS, "demo-blobs") as blob_writer:
        # Checked inside the write transaction: on SQLite it holds the write lock, and on
        # PostgreSQL a concurrent seed trips over the unique account names and rolls back.
        if _has_data(session):
            raise DatabaseNotEmpty()

        employers = [Account(name=name, kind="employer", created_at=now) for name in _EMPLOYERS]
        payors = [Account(name=name, kind="payor", created_at=now) for name in _PAYORS]
        tpa = Account(name=_TPA, kind="tpa", created_at=now)
        session.add_all([*employers, *payors, tpa])
        groups, clinics = _add_providers(session, rng, now=now)
        users = _add_users(session, now=now, group_id=groups[0].id, provider_id=clinics[0].id,
                           accounts={_EMPLOYERS[0]: employers[0], _PAYORS[0]: payors[0], _TPA: tpa})
        people = _add_patients(session, rng, count=patients, now=now,
                               employer_ids=[account.id for account in employers])
        drafts = _ReportDrafts(rng, now=now, clinics=clinics, people=people,
                               employer_names={account.id: account.name for account in employers},
                               payers=[*payors, tpa])

        types = _report_types(rng, reports)
        # Oldest first, so report ids and labels grow with posting time.
        offsets = sorted((rng.randrange(int(POSTING_WINDOW.total_seconds())) for _ in range(reports)),
                         reverse=True)
        totals: Counter[str] = Counter()
        by_type: Counter[str] = Counter()
        batch: list[_Draft] = []
        writes: list[Future[str]] = []

        def insert_batch() -> None:
            # Every PDF of the batch is on disk before its row is even inserted.
            for write, draft in zip(writes, batch, strict=True):
                if write.result() != draft.row["file_sha256"]:
                    raise RuntimeError("blob store returned a different hash for a demo PDF")
            ids = session.scalars(insert(Report).returning(Report.id, sort_by_parameter_order=True),
                                  [draft.row for draft in batch]).all()
            routing = [
                {"report_id": report_id, "account_id": account_id, "routed_at": draft.row["posted_at"]}
                for report_id, draft in zip(ids, batch, strict=True)
                for account_id in draft.recipients
            ]
            if routing:
                session.execute(insert(ReportRecipient), routing)
            totals["report_recipients"] += len(routing)
            batch.clear()
            writes.clear()

        for index, (report_type, offset) in enumerate(zip(types, offsets, strict=True)):
            posted_at = (now - timedelta(seconds=offset)).replace(microsecond=0)
            draft = drafts.draft(index + 1, report_type, posted_at)
            # Storing a blob is mostly waiting on the file system (temp file, write, rename: about
            # a third of the seed's time when done inline), so writer threads do it while the next
            # PDFs are drawn. Blobs written for a seed that then rolls back stay behind
            # unreferenced: harmless, since they are content-addressed synthetic PDFs and a re-run
            # stores the same bytes under the same names.
            writes.append(blob_writer.submit(blob_store.put, draft.pdf.data))
            batch.append(draft)
            by_type[report_type] += 1
            totals["archived"] += draft.row["status"] == "archived"
            totals["injury"] += draft.row["injury"]
            totals["pages"] += draft.pdf.page_count
            totals["bytes"] += len(draft.pdf.data)
            if len(batch) >= _INSERT_BATCH:
                insert_batch()
            done = index + 1
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == reports):
                progress(done, reports)
        if batch:
            insert_batch()

        summary = SeedSummary(
            employer_accounts=len(employers), payor_accounts=len(payors), tpa_accounts=1,
            provider_groups=len(groups), providers=len(clinics), patients=len(people),
            users=users, reports=reports, archived_reports=totals["archived"],
            injury_reports=totals["injury"], claims=len(drafts.claims),
            report_recipients=totals["report_recipients"], pdf_pages=totals["pages"],
            pdf_bytes=totals["bytes"],
            reports_by_type=tuple((key, by_type[key]) for key in REPORT_TYPES),
        )
        audit.record(session, action="demo.seeded", now=now,
                     details={**summary.counts(), "reports_by_type": dict(summary.reports_by_type)})
    return summary


def _add_providers(session: Session, rng: random.Random, *,
                   now: datetime) -> tuple[list[ProviderGroup], list[_Clinic]]:
    used_npis: set[str] = set()
    groups: list[ProviderGroup] = []
    located: list[tuple[Provider, str]] = []
    for group_name, locations in _GROUPS:
        group = ProviderGroup(name=group_name, npi=_npi(rng, used_npis), created_at=now)
        groups.append(group)
        for name, street, city, state, postcode in locations:
            provider = Provider(group=group, name=name, npi=_npi(rng, used_npis), address=street,
                                city=city, state=state)
            located.append((provider, f"{street}, {city}, {state} {postcode}"))
    session.add_all(groups)
    session.add_all(provider for provider, _ in located)
    session.flush()
    clinics = [
        _Clinic(provider.id, provider.name, provider.npi, address, provider.state, physicians)
        for (provider, address), physicians in zip(located, _PHYSICIANS, strict=True)
    ]
    return groups, clinics


def _add_users(session: Session, *, now: datetime, group_id: int, provider_id: int,
               accounts: dict[str, Account]) -> int:
    # One bcrypt hash (cost 12, about a quarter second) shared by every demo login: they all
    # have the same published password anyway, and eleven hashes would add some 2.5 s to every
    # seed, including each test that seeds. Sharing it reveals only what is published anyway:
    # that the demo logins share one password.
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    users = [User(email=spec.email, name=spec.name, password_hash=password_hash, status="active",
                  terms_accepted_at=None, created_at=now) for spec in _DEMO_USERS]
    session.add_all(users)
    session.flush()
    for spec, user in zip(_DEMO_USERS, users, strict=True):
        if spec.role in STAFF_ROLES:
            session.add(StaffRole(user_id=user.id, role=spec.role.value))
        elif spec.role == Role.PROVIDER_GROUP_ADMIN:
            session.add(Membership(user_id=user.id, group_id=group_id, provider_id=None,
                                   role=spec.role.value))
        elif spec.role in (Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF):
            session.add(Membership(user_id=user.id, group_id=group_id, provider_id=provider_id,
                                   role=spec.role.value))
        else:
            session.add(AccountMembership(user_id=user.id, account_id=accounts[spec.scope].id,
                                          role=spec.role.value))
    session.flush()
    return len(users)


def _add_patients(session: Session, rng: random.Random, *, count: int, now: datetime,
                  employer_ids: list[int]) -> list[_Person]:
    today = now.date()
    employee_numbers = rng.sample(range(100_000, 1_000_000), count)
    rows = []
    for number in employee_numbers:
        rows.append({
            "first_name": rng.choice(_FIRST_NAMES),
            "last_name": rng.choice(_LAST_NAMES),
            "date_of_birth": today - timedelta(days=rng.randint(18 * 365 + 5, 67 * 365)),
            "employee_id": f"E{number}",
            "employer_account_id": rng.choices(employer_ids, _EMPLOYER_WEIGHTS)[0],
        })
    ids: list[int] = []
    for start in range(0, len(rows), _INSERT_BATCH):
        batch = rows[start:start + _INSERT_BATCH]
        ids += session.scalars(insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
                               batch).all()
    return [
        _Person(patient_id, row["first_name"], row["last_name"], row["date_of_birth"],
                row["employee_id"], row["employer_account_id"])
        for patient_id, row in zip(ids, rows, strict=True)
    ]


def seed_if_empty(db: Database, *, say: Callable[[str], None] = print) -> bool:
    """Seed the demo data unless the database already has users or reports; True if it did."""
    if not database_is_empty(db):
        say("Database already has data; demo seed skipped.")
        return False
    store = BlobStore(settings.current().blob_dir)

    def report_progress(done: int, total: int) -> None:
        if done % 1000 == 0 or done == total:
            say(f"  {done:,} of {total:,} reports")

    started = time.perf_counter()
    say("Seeding demo data (synthetic patients and reports)...")
    summary = seed(db, blob_store=store, progress=report_progress)
    say(f"Demo data seeded in {time.perf_counter() - started:.1f} s (PDFs in {store.root}):")
    say(summary.describe())
    return True


def describe_logins() -> str:
    lines = [f"Demo logins (password {DEMO_PASSWORD}):"]
    lines += [f"  {email:<24} {role}" for email, role in DEMO_LOGINS]
    return "\n".join(lines)


def main() -> None:
    db = Database()
    try:
        upgrade(db)
        seed_if_empty(db)
        print(describe_logins())
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
