"""Upload reports: PDFs with their details, typed here or read from a CSV manifest."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from services import settings
from services.errors import DomainError
from services.policy import Action
from services.principals import Principal
from services.reports import ingest, manifest
from services.reports.ingest import FIELDS, IngestOutcome, ReportUpload
from services.wording import plural

# Session state: the last upload's outcomes, kept until the next upload.
OUTCOMES_KEY = "upload_outcomes"
# Session state: how many batches were posted in this tab; the pickers' keys carry it.
BATCH_KEY = "upload_batch"
_RESULT_LABELS = {"posted": "Posted", "duplicate": "Already posted", "rejected": "Rejected"}


def _editor(files, choices: ingest.UploadChoices, batch: int) -> pd.DataFrame:
    blank = pd.DataFrame([{
        "file": f.name, "report_type": None, "provider_npi": next(iter(choices.providers), None),
        "service_date": None, "patient_last_name": "", "patient_first_name": "",
        "patient_date_of_birth": None, "employee_id": "", "employer": None, "injury": False,
        "claim_number": "", "claim_payer": None,
    } for f in files])
    config = {
        "file": st.column_config.TextColumn("File", disabled=True),
        "report_type": st.column_config.SelectboxColumn(
            "Report type", options=list(choices.report_types.values()), required=True),
        "provider_npi": st.column_config.SelectboxColumn(
            "Provider NPI", options=list(choices.providers), required=True,
            # Fixed words only: a help text is Markdown, and provider names are typed by people.
            help="The NPI of the provider the report is from; the providers are listed above."),
        "service_date": st.column_config.DateColumn("Service date", max_value=date.today(),
                                                    required=True),
        "patient_last_name": st.column_config.TextColumn("Last name", max_chars=100, required=True),
        "patient_first_name": st.column_config.TextColumn("First name", max_chars=100, required=True),
        "patient_date_of_birth": st.column_config.DateColumn("Date of birth", required=True),
        "employee_id": st.column_config.TextColumn("Employee ID", max_chars=40, required=True),
        "employer": st.column_config.SelectboxColumn("Employer", options=choices.employers,
                                                     required=True),
        "injury": st.column_config.CheckboxColumn("Injury"),
        "claim_number": st.column_config.TextColumn("Claim number", max_chars=40),
        "claim_payer": st.column_config.SelectboxColumn("Claim payor / TPA",
                                                        options=choices.claim_payers),
    }
    return st.data_editor(blank, column_config=config, hide_index=True, width="stretch",
                          num_rows="fixed", key=f"upload_details_{batch}_{len(files)}")


def _text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _from_editor(files, details: pd.DataFrame) -> list[ReportUpload]:
    rows = details.to_dict("records")
    return [ReportUpload(f"{f.name}", f.getvalue(),
                         {key: _text(row.get(key)) for key in FIELDS})
            for f, row in zip(files, rows, strict=True)]


def _uploads(files, manifest_file, details: pd.DataFrame | None) -> list[ReportUpload | IngestOutcome]:
    if manifest_file is None:
        return _from_editor(files, details)
    # Read whole by the service (its columns, its row limit) before anything is posted.
    return manifest.read_uploaded_manifest(manifest_file.getvalue(),
                                           {f.name: f.getvalue() for f in files})


def _post(principal: Principal, items: list[ReportUpload | IngestOutcome]) -> None:
    uploads = [item for item in items if isinstance(item, ReportUpload)]
    with st.status(f"Posting {plural(len(uploads), 'report', 'reports')}…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int, outcome: IngestOutcome) -> None:
            bar.progress(done / total, text=f"{done} of {total}: {_RESULT_LABELS[outcome.result]}")

        try:
            posted = iter(ingest.ingest(runtime.database(), principal, uploads,
                                               blob_store=runtime.blob_store(), progress=progress))
        except DomainError as error:
            status.update(label=str(error), state="error")
            return
        outcomes = [next(posted) if isinstance(item, ReportUpload) else item for item in items]
        status.update(label=summary(outcomes), state="complete")
    st.session_state[OUTCOMES_KEY] = outcomes
    # Fresh pickers for the next batch: files left in them would invite posting them again.
    st.session_state[BATCH_KEY] = st.session_state.get(BATCH_KEY, 0) + 1
    st.rerun()


def summary(outcomes: list[IngestOutcome]) -> str:
    """'3 posted, 1 rejected', with the files already there and those without a preview."""
    counts = {result: sum(o.result == result for o in outcomes) for result in _RESULT_LABELS}
    text = f"{counts['posted']} posted, {counts['rejected']} rejected"
    if counts["duplicate"]:
        text += f", {counts['duplicate']} already posted before"
    unpreviewed = sum(bool(o.preview_problem) for o in outcomes)
    if unpreviewed:
        text += f"; {unpreviewed} posted without a preview"
    return text


def _outcomes() -> None:
    # Kept in the session, not only in the status box: any later rerun would clear that box.
    outcomes = st.session_state.get(OUTCOMES_KEY)
    if not outcomes:
        return
    st.header("Last upload")
    whole = all(o.result != "rejected" and not o.preview_problem for o in outcomes)
    (st.success if whole else st.warning)(summary(outcomes))
    # One type per column: a whole number, or none for a rejected file (Arrow refuses a mix).
    st.dataframe(pd.DataFrame({
        "File": [o.label for o in outcomes],
        "Outcome": [_result(o) for o in outcomes],
        "Report #": pd.array([o.report_id for o in outcomes], dtype="Int64"),
        "Reason": [_reason(o) for o in outcomes],
    }), hide_index=True, width="stretch")


def _result(outcome: IngestOutcome) -> str:
    if outcome.result == "posted" and outcome.preview_problem:
        return "Posted, no preview"
    return _RESULT_LABELS[outcome.result]


def _reason(outcome: IngestOutcome) -> str:
    if outcome.result == "posted":
        return (f"Posted, but no preview: {outcome.preview_problem}" if outcome.preview_problem
                else "")
    return outcome.reason


def _per_file_megabytes() -> int:
    portal = max(1, math.ceil(settings.current().max_report_bytes / (1024 * 1024)))
    return min(portal, st.get_option("server.maxUploadSize"))


def render(principal: Principal) -> None:
    components.guard(principal, Action.UPLOAD_REPORTS)
    st.title("Upload reports")
    choices = ingest.upload_choices(runtime.database(), principal)
    if not choices.providers:
        if choices.deactivated:
            st.info("Your providers are deactivated, so there is nothing to post for. Their "
                    "group's administrator can reactivate them.")
            components.literal_list(choices.deactivated)
        else:
            st.info("You administer no provider yet, so there is nothing to post for.")
        return
    st.caption("Each PDF is checked (a readable PDF, within the size and page limits) before it "
               "is posted. Reports go to the patient's employer and, for a claim, its payor or "
               "TPA. The same file posted twice for your providers stays one report. A picture "
               "of each report's first page is drawn for its readers; a report whose picture "
               "cannot be drawn is still posted, without a preview.")
    # The uploader states its per-file limit in whole megabytes: the portal's own, or the server's
    # cap on one upload (server.maxUploadSize) where that is lower.
    batch = st.session_state.get(BATCH_KEY, 0)
    files = st.file_uploader("Report PDFs", type=["pdf"], accept_multiple_files=True,
                             key=f"upload_files_{batch}", max_upload_size=_per_file_megabytes())
    manifest_file = st.file_uploader("Details from a CSV manifest (optional)", type=["csv"],
                                     key=f"upload_manifest_{batch}",
                                     help="Columns: file, " + ", ".join(FIELDS))
    if files:
        if not manifest_file:
            st.caption("Your providers (NPI):")
            components.literal_list(list(choices.providers.values()))
            if choices.deactivated:
                st.caption("Deactivated, so they take no uploads (their group's administrator "
                           "can reactivate them):")
                components.literal_list(choices.deactivated)
        details = None if manifest_file else _editor(files, choices, batch)
        if st.button(f"Post {plural(len(files), 'report', 'reports')}", type="primary", key="upload_post"):
            run_action(lambda principal: _post(principal, _uploads(files, manifest_file, details)))
    _outcomes()
