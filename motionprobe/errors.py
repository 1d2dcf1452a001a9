"""The one exception type the CLI turns into a one-line message and exit status 2."""


class UserError(Exception):
    """Bad input from the user: a file, an option or a value. The message names it and what was expected."""
