"""The one exception the commands raise for mistakes a user can make (exit status 2, no traceback)."""
from __future__ import annotations


class UsageError(Exception):
    """A mistake in how the command was called: a missing file, a bad checkpoint, flags that clash."""
