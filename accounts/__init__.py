"""Learner accounts: activation codes, passwords, the app's sign-in and its devices."""
