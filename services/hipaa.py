"""The HIPAA breach-notification rule, shared by the incident queue and the dashboard.

It sits here rather than in services.privacy because the dashboard (services.insight) buckets
incidents by it, and privacy already builds on insight's report-volume counts.
"""

from __future__ import annotations

from datetime import timedelta

# Notify within 60 days of discovering a breach; the incident deadline is discovery plus this.
NOTIFICATION_PERIOD = timedelta(days=60)
