"""Every write of credit, one module per concept: facts (the ledger other apps post to), rescoring,
overrides, policies, sensors. Import the module you mean; this package re-exports nothing."""
