"""The one exception type users see: a message naming the file and the problem, never a traceback."""


class LCRError(Exception):
    """A user-facing error (bad input, bad file, bad config). The CLI prints it as one line."""
