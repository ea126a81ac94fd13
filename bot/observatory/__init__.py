"""The observatory of ANEF's failures: anonymous facts people reported with consent, and the
aggregate figures the association's admins see (and may attach to a saisine)."""
