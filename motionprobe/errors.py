"""The exceptions the CLI turns into a one-line message and exit status 2.

The library never names a command-line flag: a bad value is a `ConfigError` naming the config path
that holds it (`analysis.ks`, `data.root`), and the CLI, which alone knows which flag sets which path,
rewrites the path as the flag (`--frames`). A bad file is a `UserError` naming the file.

>>> str(ConfigError("analysis.ks", "k must be in 1..16, got 17"))
'analysis.ks: k must be in 1..16, got 17'
"""


class UserError(Exception):
    """Bad input from the user: a file, an option or a value. The message names it and what was expected."""


class ConfigError(UserError):
    """A bad value at a config path (`path`, e.g. "analysis.ks"); `message` says what was expected."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message
