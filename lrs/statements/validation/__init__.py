"""Validation of xAPI Statements, one module per part of a statement (see statement.py)."""
