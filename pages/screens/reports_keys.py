"""Session-state keys of the Reports screen that its parts share (the saved searches and the
open report set them too; importing reports.py from them would make an import cycle)."""

# The search, its pages so far and its count.
FILTER_KEY = "reports_filter"
CURSORS_KEY = "reports_cursors"
COUNT_KEY = "reports_count"
# The purpose support and account representatives chose for this visit of the screen
# (services.reports.list_purpose.ListPurpose; reports_purpose.py keeps it).
LIST_PURPOSE_KEY = "reports_list_purpose"
