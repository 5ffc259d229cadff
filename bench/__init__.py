"""Performance harness (`make bench`); not part of the test run."""

import os

# Report files are sealed at rest; the harness's scratch data (made-up reports only) uses one fixed
# key of its own unless one is configured, so data kept from an earlier run stays readable.
if not (os.environ.get("RESULTSDESK_BLOB_KEY") or os.environ.get("RESULTSDESK_BLOB_KEY_FILE")):
    os.environ["RESULTSDESK_BLOB_KEY"] = "YmVuY2htYXJrIHNjcmF0Y2ggZGF0YSBvbmx5ISEhISE="
