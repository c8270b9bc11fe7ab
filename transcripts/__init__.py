"""Transcripts (学时证明): a learner's ledger and audit as a certificate anyone can verify."""
