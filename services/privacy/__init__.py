"""The privacy office: reports received in error, the audit review and the audit chain check."""
