"""Email: the outbox and its delivery, the account emails, what staff see of failed deliveries."""
