"""Performance harness (`make bench`); not part of the test run."""
