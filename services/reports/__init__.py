"""Reports from posting to archive: scope, search, opening, bundles, uploads, routing, retention, notices."""
