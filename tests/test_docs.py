"""Every command README.md and docs/**/*.md show is checked against the project as it is.

- Each `motionprobe ...` line in a code block (also `python -m motionprobe ...`, `torchrun ... -m motionprobe ...`,
  `.venv/bin/motionprobe ...`) is parsed strictly by the real parser, `motionprobe.cli.build_parser()`: the verb
  exists, every option is one of that verb's, every value is one it accepts (choices, numbers). Nothing is run.
- `motionprobe VERB --help` runs for every verb (and sub-verb such as `data info`) the pages use, and every verb
  of `motionprobe.cli.VERBS` is used somewhere; one `python -m motionprobe --help` runs as a real process.
- Each `python -m benchmarks.NAME ...` line names a module whose `--help` runs and lists every option used.
- Each `make TARGET` (in a code block or in inline code) is a target of the Makefile.
- Relative links between the pages lead to files (and headings) that exist, and every docs/*.md path named in the
  package's source exists.
- Python code blocks compile, and every name they import from motionprobe, or take from an imported motionprobe
  module (`workflows.analyze`), exists.

A code block is a fenced block (```) or a line indented by 4 or more spaces outside one. Rules for lines that are
not meant to run exactly as written:
- a shell variable (`$k`, `${k}`) stands for a value and is replaced by `1` (the lines in `for k in 1 2 4 8`);
- a line whose word after `motionprobe` is in capitals (`motionprobe VERB --help`) is a placeholder: skipped;
- ` # ...` to the end of a line is a shell comment, and a trailing backslash continues the line.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import re
import runpy
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from motionprobe.cli import VERBS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_OPERATORS = {";", "&&", "||", "|", ">", ">>", "<", "&", "(", ")"}
README_MAX_LINES = 250


@dataclass(frozen=True)
class Line:
    page: Path
    number: int
    text: str

    def where(self) -> str:
        text = " ".join(self.text.split())
        return f"{self.page.relative_to(ROOT)}:{self.number}: {text}"


@dataclass(frozen=True)
class Block:
    page: Path
    number: int  # line of the block's first line
    lang: str
    text: str


def code_blocks(page: Path) -> list[Block]:
    """Fenced blocks (any indentation, e.g. inside a list item) and runs of lines indented by ≥ 4 spaces."""
    blocks, lines = [], page.read_text(encoding="utf-8").splitlines()
    fence, start, lang, body = None, 0, "", []
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence, start, lang, body = stripped[:3], i + 1, stripped[3:].strip(), []
        elif fence is not None and stripped.startswith(fence):
            blocks.append(Block(page, start, lang, "\n".join(body)))
            fence = None
        elif fence is not None:
            body.append(line)
        elif line.startswith("    ") and stripped:
            blocks.append(Block(page, i, "", stripped))
    assert fence is None, f"{page}: a code fence is never closed"
    return blocks


def shell_lines(block: Block) -> list[Line]:
    """The block's logical shell lines: comments dropped, backslash continuations joined."""
    out, pending, first = [], "", block.number
    for offset, raw in enumerate(block.text.splitlines()):
        text = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            first = block.number + offset
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        text = (pending + text).strip()
        pending = ""
        if text:
            out.append(Line(block.page, first, text))
    return out


def commands(line: Line) -> list[list[str]]:
    """Simple commands of a shell line, split at ; && | and redirections, shell variables set to 1."""
    text = re.sub(r"\$\{?\w+\}?", "1", line.text)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as e:  # an unclosed quote
        pytest.fail(f"{line.where()}: not a shell line ({e})", pytrace=False)
    current, out = [], []
    for token in tokens:
        if token in SHELL_OPERATORS:
            out.append(current)
            current = []
        else:
            current.append(token)
    return [c for c in out + [current] if c]


def invocation(tokens: list[str], program: str) -> list[str] | None:
    """The arguments after `program` run directly (any path to it) or as `-m program`; None if it is not run."""
    for i, token in enumerate(tokens):
        if token == "-m" and i + 1 < len(tokens) and tokens[i + 1] == program:
            return tokens[i + 2:]
        if Path(token).name == program and (i == 0 or tokens[i - 1] != "-m") and not token.startswith("-"):
            return tokens[i + 1:]
    return None


# A line runs one of the programs checked here: motionprobe (by any path, or `-m motionprobe`), make, or a
# benchmarks module. Other lines of a block (program output, a file tree) are not shell and are left alone.
RUNS_SOMETHING = re.compile(r"(^|[\s;&|(])(\S*/)?motionprobe\s|-m motionprobe(\s|$)|(^|\s)make\s|-m benchmarks\.")


def all_lines() -> list[Line]:
    return [line for page in PAGES for block in code_blocks(page) if block.lang in ("", "bash", "sh", "console")
            for line in shell_lines(block) if RUNS_SOMETHING.search(line.text + " ")]


def motionprobe_commands() -> list[tuple[Line, list[str]]]:
    found = []
    for line in all_lines():
        for tokens in commands(line):
            argv = invocation(tokens, "motionprobe")
            if argv is None or (argv and argv[0].isupper()):
                continue
            found.append((line, argv))
    return found


def benchmark_commands() -> list[tuple[Line, str, list[str]]]:
    found = []
    for line in all_lines():
        for tokens in commands(line):
            for i, token in enumerate(tokens[:-1]):
                if token == "-m" and tokens[i + 1].startswith("benchmarks."):
                    found.append((line, tokens[i + 1], tokens[i + 2:]))
    return found


def subparsers(parser) -> dict:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return {}


def verb_path(argv: list[str]) -> tuple[str, ...]:
    """('data', 'info') for `data info --root x`, ('analyze',) for `analyze --model m`."""
    path, parser = [], build_parser()
    for token in argv:
        choices = subparsers(parser)
        if not choices or token not in choices:
            break
        path.append(token)
        parser = choices[token]
    return tuple(path)


MOTIONPROBE = motionprobe_commands()
VERB_PATHS = sorted({verb_path(argv) for _, argv in MOTIONPROBE})


def test_the_pages_show_motionprobe_commands():
    assert len(MOTIONPROBE) >= 30, [line.where() for line, _ in MOTIONPROBE]


@pytest.mark.parametrize("line, argv", MOTIONPROBE, ids=[line.where()[:90] for line, _ in MOTIONPROBE])
def test_each_command_parses_with_the_real_parser(line, argv):
    assert argv, f"{line.where()}: no verb"
    assert argv[0] in subparsers(build_parser()), f"{line.where()}: unknown verb {argv[0]!r}"
    if "--help" in argv or "-h" in argv:
        return  # the help runs in the next test
    stderr, args = io.StringIO(), None
    with contextlib.redirect_stderr(stderr), contextlib.suppress(SystemExit):  # argparse exits on a bad line
        args = build_parser().parse_args(argv)
    assert args is not None, f"{line.where()}\n{(stderr.getvalue().strip().splitlines() or ['?'])[-1]}"
    assert getattr(args, "run", None), f"{line.where()}: {' '.join(verb_path(argv))} needs a sub-verb"


def test_every_verb_is_shown_somewhere():
    shown = {path[0] for path in VERB_PATHS if path}
    assert {verb.replace("_", "-") for verb in VERBS} <= shown


@pytest.mark.parametrize("path", VERB_PATHS, ids=[" ".join(p) for p in VERB_PATHS])
def test_help_runs_for_every_verb_used(path):
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    assert stdout.getvalue().startswith(f"usage: motionprobe {' '.join(path)}"), stdout.getvalue()[:200]


def test_the_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "motionprobe", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(verb.replace("_", "-") in done.stdout for verb in VERBS)


BENCHMARKS = benchmark_commands()


@pytest.mark.parametrize("line, module, argv", BENCHMARKS, ids=[line.where()[:90] for line, *_ in BENCHMARKS])
def test_benchmark_commands_name_real_modules_and_options(line, module, argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    monkeypatch.delitem(sys.modules, module, raising=False)  # run it afresh as __main__, as `python -m` does
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(SystemExit) as exit_:
        runpy.run_module(module, run_name="__main__")
    assert exit_.value.code == 0, line.where()
    for option in (token.split("=", 1)[0] for token in argv if token.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", stdout.getvalue()), \
            f"{line.where()}: {module} has no option {option}"


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.MULTILINE)}


def make_targets_mentioned() -> list[tuple[str, str]]:
    found = []
    for line in all_lines():
        for tokens in commands(line):
            argv = invocation(tokens, "make")
            found += [(line.where(), target) for target in (argv or []) if not target.startswith("-") and "=" not in target]
    for page in PAGES:
        for m in re.finditer(r"`make ([\w.-]+)`", page.read_text(encoding="utf-8")):
            found.append((f"{page.relative_to(ROOT)}: {m.group(0)}", m.group(1)))
    return found


def test_every_make_target_mentioned_exists():
    mentioned = make_targets_mentioned()
    assert {"demo", "test"} <= {target for _, target in mentioned}
    targets = makefile_targets()
    missing = [where for where, target in mentioned if target not in targets]
    assert not missing, missing


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.MULTILINE)}


def test_relative_links_lead_somewhere():
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_docs_named_in_the_source_exist():
    named = {(source.relative_to(ROOT), m.group(0)) for source in (ROOT / "motionprobe").rglob("*.py")
             for m in re.finditer(r"docs/[\w/.-]+\.md", source.read_text(encoding="utf-8"))}
    assert named, "the package names no docs page"
    assert not [f"{source}: {doc}" for source, doc in named if not (ROOT / doc).is_file()]


PYTHON_BLOCKS = [block for page in PAGES for block in code_blocks(page) if block.lang == "python"]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"{b.page.relative_to(ROOT)}:{b.number}" for b in PYTHON_BLOCKS])
def test_python_blocks_compile_and_name_what_exists(block):
    where = f"{block.page.relative_to(ROOT)}:{block.number}"
    tree = ast.parse(block.text, filename=where)
    modules = {}  # local name → imported motionprobe module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "motionprobe":
                    module = importlib.import_module(alias.name)  # `import a.b` binds a, `import a.b as c` binds a.b
                    modules[alias.asname or "motionprobe"] = module if alias.asname else importlib.import_module(
                        "motionprobe")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "motionprobe":
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if value is None:
                    with contextlib.suppress(ImportError):
                        value = importlib.import_module(f"{node.module}.{alias.name}")
                assert value is not None, f"{where}: {node.module} has no {alias.name}"
                if isinstance(value, type(sys)):
                    modules[alias.asname or alias.name] = value
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            assert hasattr(modules[node.value.id], node.attr), f"{where}: {node.value.id}.{node.attr} does not exist"


def test_the_readme_stays_a_guide():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES
