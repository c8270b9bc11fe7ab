"""nxce: the composition root (settings, app factory, CLI, auth, error handling)."""

__version__ = "0.1.0"
