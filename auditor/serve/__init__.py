"""`auditor serve`: a read-only web dashboard over the history (see docs/serve.md)."""
