"""What each demo report says: the clinical and administrative content of every report type.

Each builder takes the random generator and the visit a report is about, and returns the
section title, the labelled details, the narrative and who signed it; services/demo/seed.py
turns that into a PDF. All of it is synthetic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from db.models import Account
from services.wording import plural

_MROS = ("Dr. Gregory Hale, MD, MRO", "Dr. Nadia Farouk, MD, MRO")
_TECHNICIANS = ("Tanya Greer, BAT", "Luis Moreno, BAT", "Kim Nguyen, BAT", "Derek Shaw, BAT")
_COLLECTORS = ("Rosa Alvarez", "Jamal Carter", "Megan Fox-Hill", "Ivan Petrov")
_COORDINATORS = ("Patient services coordinator", "Clinic operations coordinator")
_LABORATORY = "Northpoint Toxicology Laboratory"


# --- Clinical content ------------------------------------------------------------------------


@dataclass(frozen=True)
class Injury:
    body_part: str
    diagnosis: str
    mechanism: str
    restrictions: str
    exam: str


INJURIES = (
    Injury("Lower back", "Lumbar strain (S39.012A)", "lifting a 50 lb carton from a pallet",
            "No lifting over 15 lb; no repetitive bending or twisting; change position every 30 minutes",
            "Paraspinal tenderness L3-L5 bilaterally. Flexion limited to 60 degrees by pain. Straight "
            "leg raise negative bilaterally. Reflexes symmetric. Gait is slow but steady."),
    Injury("Right shoulder", "Strain of right rotator cuff (S46.011A)",
            "reaching overhead to stock a high shelf",
            "No overhead reaching with the right arm; no lifting over 10 lb with the right arm",
            "Tenderness over the right supraspinatus. Abduction to 110 degrees with pain. Empty can "
            "test positive on the right. Strength 4/5 in abduction. Neurovascularly intact distally."),
    Injury("Left wrist", "Sprain of left wrist (S63.502A)",
            "falling from a loading dock step onto an outstretched hand",
            "No gripping or lifting over 5 lb with the left hand; wear the wrist splint at work",
            "Mild swelling over the dorsal left wrist. No snuffbox tenderness. Range of motion "
            "reduced by about a third. Grip strength reduced. Capillary refill brisk."),
    Injury("Right knee", "Contusion of right knee (S80.01XA)", "slipping on a wet floor in the warehouse",
            "Seated work at least half of the shift; no climbing ladders; no squatting or kneeling",
            "Ecchymosis over the anterior right knee. Small effusion. Ligaments stable to stress "
            "testing. McMurray test negative. Full weight bearing with a mild limp."),
    Injury("Right hand", "Laceration of right index finger (S61.210A)",
            "a box cutter slipping while opening cartons",
            "Keep the dressing clean and dry; no wet work; no knife or blade use",
            "1.8 cm laceration over the volar right index finger, edges well approximated after "
            "repair. Flexor and extensor function intact. Sensation intact at the fingertip."),
    Injury("Left ankle", "Sprain of left ankle (S93.402A)", "stepping off a forklift onto uneven ground",
            "Sedentary work only; walking limited to 10 minutes per hour; no ladders",
            "Swelling and tenderness over the left anterior talofibular ligament. Able to bear "
            "weight for four steps. No bony tenderness at the malleoli. Anterior drawer negative."),
    Injury("Neck", "Strain of neck muscles (S16.1XXA)",
            "a low-speed rear-end collision while driving a company vehicle",
            "No driving company vehicles; no lifting over 20 lb; no overhead work",
            "Tenderness of the paracervical and upper trapezius muscles. Rotation limited to 50 "
            "degrees each side. Spurling test negative. Upper extremity strength and reflexes normal."),
    Injury("Right eye", "Foreign body in cornea, right eye (T15.01XA)",
            "grinding metal without a face shield",
            "Wear safety glasses at all times; no grinding or cutting work until the recheck",
            "Visual acuity 20/25 right, 20/20 left. Small corneal foreign body removed at 10 o'clock. "
            "Fluorescein shows a 1 mm abrasion. No rust ring remaining."),
    Injury("Left forearm", "Burn of first degree of left forearm (T22.112A)",
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


@dataclass(frozen=True)
class Clinic:
    id: int
    name: str
    npi: str
    address: str
    state: str
    physicians: tuple[str, str]


@dataclass(frozen=True)
class Person:
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
class Claim:
    number: str
    patient: Person
    clinic: Clinic
    payer: Account
    injury_date: date
    injury: Injury
    physician: str


@dataclass
class Visit:
    """What one report is about, before its type-specific content is drawn."""

    report_type: str
    patient: Person
    clinic: Clinic
    service_date: date
    posted_at: datetime
    claim: Claim | None  # set exactly for injury reports and the tests and letters of a claim
    employer_name: str
    age: int = field(init=False)

    def __post_init__(self) -> None:
        born = self.patient.date_of_birth
        self.age = self.service_date.year - born.year - (
            (self.service_date.month, self.service_date.day) < (born.month, born.day))


def _us_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def _lower_first(text: str) -> str:
    """For a restriction quoted mid-sentence ("... restrictions: no lifting over 15 lb")."""
    return text[:1].lower() + text[1:]


def _test_reason(rng: random.Random, visit: Visit) -> str:
    reason = rng.choices(_TEST_REASONS, _TEST_REASON_WEIGHTS)[0]
    return "Post-accident" if visit.claim is not None else reason


def _atf(rng: random.Random, visit: Visit):
    reason = _test_reason(rng, visit)
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


def _ccf(rng: random.Random, visit: Visit):
    reason = _test_reason(rng, visit)
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


def _work_status(rng: random.Random, injury: Injury) -> tuple[str, str]:
    status = rng.choices(_WORK_STATUSES, _WORK_STATUS_WEIGHTS)[0]
    restrictions = {"Full duty": "None", "Off work": "Off work until the next visit"}.get(
        status, injury.restrictions)
    return status, restrictions


def _injury_status(rng: random.Random, visit: Visit):
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


def _referral(rng: random.Random, visit: Visit):
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


def _no_show(rng: random.Random, visit: Visit):
    appointment = rng.choice(_NO_SHOW_APPOINTMENTS)
    if visit.claim is not None:
        appointment = f"Injury recheck ({visit.claim.injury.body_part.lower()})"
    at = rng.choice(_APPOINTMENT_TIMES)
    details = (
        ("Missed appointment", f"{_us_date(visit.service_date)} at {at}"),
        ("Appointment type", appointment),
        ("Attempts to reach", f"{plural(rng.randint(1, 3), 'phone call', 'phone calls')} to the number on file"),
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


def _transcription(rng: random.Random, visit: Visit):
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


def _transcription_summary(rng: random.Random, visit: Visit):
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


def _recheck_reminder(rng: random.Random, visit: Visit):
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


def _first_notice(rng: random.Random, visit: Visit):
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


def _state_wc_form(rng: random.Random, visit: Visit):
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


BUILDERS = {
    "atf": _atf, "ccf": _ccf, "injury_status": _injury_status, "referral": _referral,
    "no_show": _no_show, "transcription": _transcription,
    "transcription_summary": _transcription_summary, "recheck_reminder": _recheck_reminder,
    "first_notice": _first_notice, "state_wc_form": _state_wc_form,
}
