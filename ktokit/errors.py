"""The one exception type the CLI turns into a single line (never a traceback)."""


class KitError(Exception):
    """A problem the user can fix; the message says what is wrong and how to fix it."""
