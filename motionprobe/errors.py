"""The exceptions the CLI turns into a one-line message and exit status 2.

The library never names a command-line flag: a bad value is a `ConfigError` naming the config path
that holds it (`analysis.ks`, `data.root`) or the workflow argument it came from (`out`), and the CLI,
which alone knows which flag sets which, shows the flag instead. A message may mention another
argument as `{name}`: Python callers read `name=True`, the CLI its flag.

>>> str(ConfigError("analysis.ks", "k must be in 1..16, got 17"))
'analysis.ks: k must be in 1..16, got 17'
>>> e = ConfigError("out", "runs/a already holds an analysis; pass {resume} to continue it", "resume")
>>> e.message
'runs/a already holds an analysis; pass resume=True to continue it'
>>> e.render(lambda name: f"<{name}>")
'runs/a already holds an analysis; pass <resume> to continue it'
"""

from __future__ import annotations

from collections.abc import Callable


class UserError(Exception):
    """Bad input from the user: a file, an option or a value. The message names it and what was expected."""


class ConfigError(UserError):
    """A bad value at a config path or workflow argument (`path`); `message` says what was expected.

    `mentions` are the switches (workflow arguments) the message names as `{name}`."""

    def __init__(self, path: str, message: str, *mentions: str):
        self.path, self.template, self.mentions = path, message, mentions
        self.message = self.render(lambda name: f"{name}=True")
        super().__init__(f"{path}: {self.message}")

    def render(self, name_of: Callable[[str], str]) -> str:
        """The message with each mentioned switch named by `name_of` (e.g. its command-line flag)."""
        text = self.template
        for name in self.mentions:  # a plain replace: paths in the message may hold braces of their own
            text = text.replace("{" + name + "}", name_of(name))
        return text
