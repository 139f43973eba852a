"""People: the humans who sign in (admins, compliance reviewers, advisors) and their sessions."""
