"""The `motionprobe` command: a thin layer that parses options into a Config and calls a workflow.

Each verb lives in its own module here and exposes `add(subparsers)`; the parser it registers sets
`run=<function(args) -> int>`. User errors print one line and exit with status 2: a library
`ConfigError` names a config path, which is shown as the verb's flag for it (cli/options.py); an option
argparse cannot parse is one line too (no usage block), naming the verb's --help.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import distributed
from ..errors import ConfigError, UserError
from ..folders import holds_resumable_run
from .options import apply_config_file, flag_for

# Module name per verb, in the order `--help` lists them.
VERBS = ("demo", "demo_real", "pipeline", "train_model", "evaluate", "train_generator", "analyze", "report", "compare",
         "invert", "data", "predict", "weights")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is a UserError (one line, exit 2 from `main`) instead of a usage block and
    SystemExit; the verbs' parsers are of this class too (subparsers take their parent's class)."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="motionprobe",
        description="Measure how much a trained video classifier relies on motion "
                    "(the method of 'What Makes a Video a Video', Huang et al., CVPR 2018).",
        epilog="Run 'motionprobe VERB --help' for a verb's options. Every option can also come from "
               "--config FILE (YAML or TOML).")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        importlib.import_module(f"{__name__}.{verb}").add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    printable_anywhere()
    parser = build_parser()
    args = None
    try:
        # Under torchrun (see motionprobe/distributed.py) only rank 0 prints the report.
        with distributed.quiet_unless_main():
            apply_config_file(parser, argv)
            args = parser.parse_args(argv)
            if not getattr(args, "run", None):
                parser.print_help()
                return 2
            return int(args.run(args) or 0)
    except ConfigError as e:
        verb_parser = getattr(args, "parser", None)
        flag = flag_for(verb_parser, e.path) if verb_parser is not None else None
        # A config path without a flag in this verb is shown as is (a config file can set it); a workflow
        # argument without one (a positional folder) needs no name: the message starts with the path.
        name = flag or (e.path if "." in e.path or e.path in ("preset", "seed", "device") else None)
        message = e.render(lambda mention: (flag_for(verb_parser, mention) if verb_parser is not None else None)
                           or flag_of_any_verb(parser, mention) or f"{mention}=True")
        print(f"motionprobe: error: {name + ': ' if name else ''}{message}", file=sys.stderr)
        return 2
    except UserError as e:
        print(f"motionprobe: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"motionprobe: {interrupted(args)}", file=sys.stderr)
        return 130


def printable_anywhere() -> None:
    """A video or class named `vidé.avi` printed to a terminal or pipe that cannot encode it (PYTHONIOENCODING=ascii,
    a C locale) is written with backslash escapes instead of ending the run in a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def flag_of_any_verb(parser: argparse.ArgumentParser, name: str) -> str | None:
    """The flag another verb sets workflow argument `name` with: a message about a folder of another verb's
    (`--resume` of train-model, named by evaluate) names it as that verb's user types it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flag = flag_for(sub, name) or flag_of_any_verb(sub, name)
                if flag is not None:
                    return flag
    return None


def interrupted(args: argparse.Namespace | None) -> str:
    """What Ctrl-C leaves behind, in one true line: whether the output folder holds work to continue from.

    Each long verb sets `args.out` to the folder it writes (its default included) before it starts."""
    out = getattr(args, "out", None)
    verb_parser = getattr(args, "parser", None)
    if out is None or verb_parser is None:
        return "interrupted"
    resumable = holds_resumable_run(out)
    if flag_for(verb_parser, "resume") is None:  # pipeline, demo: rerunning skips finished stages
        return f"interrupted; finished work is saved in {out}: rerun the same command to continue" if resumable \
            else "interrupted"
    if resumable:
        return f"interrupted; finished work is saved in {out}: rerun with --resume to continue"
    return f"interrupted before the first checkpoint: {out} holds nothing to resume; rerun without --resume"


if __name__ == "__main__":
    sys.exit(main())
