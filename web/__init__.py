"""Web pages for learners and auditors, in Chinese, served by the same service."""
