"""What managers watch: the Dashboard and the rollups that keep it fast."""
