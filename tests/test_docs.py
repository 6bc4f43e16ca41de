"""The documentation says only what is true of the code: README.md and docs/*.md, checked.

Every command line in the pages (the lines of ```sh blocks, and inline `breakage-pi ...` / `make ...`
spans) names a real program: ``breakage-pi`` lines parse with the real argparse parser (a synopsis
such as ``[--slot N | --all]`` is tried with its optional parts left out, with the first choices and
with the last), ``make`` lines name targets of the Makefile, and the cheap ones (``--help``,
``config``) run. Every relative link between the pages resolves, down to its ``#anchor``.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from breakage_pi.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/player.md", "docs/building.md", "docs/host.md", "docs/engineering.md")

SHELL_FENCES = {"sh", "shell", "bash", "console"}
OUR_PROGRAM = re.compile(r"^(?:\S*/)?breakage-pi$")       # breakage-pi, .venv/bin/breakage-pi, /opt/.../breakage-pi
# the other programs the pages tell you to run; a name not here is a typo (or a new program to add here)
OTHER_PROGRAMS = {"apt-get", "git", "cd", "reboot", "parted", "e2fsck", "resize2fs", "mkfs.ext4", "cp", "udevadm",
                  "systemd-analyze", "systemctl", "journalctl", "head", "raspi-config", "i2cdetect", "aplay",
                  "amidi", "firmware/usb-gadget.sh"}
# sample values for a synopsis's placeholders, where argparse checks the type
PLACEHOLDERS = {"N": "1", "B": "2", "T": "120", "HZ": "44100", "S": "4", "V": "48", "MS": "1000", "FRAMES": "64",
                "E1,E2,...": "0.3,0.1"}


@dataclass(frozen=True)
class CommandLine:
    page: str
    line: int
    text: str
    fenced: bool         # from a ```sh block (parsed in full) or an inline span (a mention: options checked)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


# ---------------------------------------------------------------- reading the pages

def _fences(text: str) -> list[tuple[int, str, str]]:
    """Each line with the language of the fenced block it sits in ('' outside one, 'text' for a bare fence)."""
    lines, language = [], ""
    for number, line in enumerate(text.split("\n"), 1):
        fence = re.match(r"^\s*```(\S*)", line)
        if fence:
            language = "" if language else (fence.group(1) or "text")
            lines.append((number, "fence", line))
        else:
            lines.append((number, language, line))
    return lines


def command_lines(root: Path, page: str) -> list[CommandLine]:
    found = []
    for number, language, line in _fences((root / page).read_text(encoding="utf-8")):
        if language in SHELL_FENCES:
            body = _strip_comment(line).strip()
            if body:
                found.append(CommandLine(page, number, body, fenced=True))
        elif language == "":
            for span in re.findall(r"`([^`]+)`", line.replace("\\|", "|")):
                words = span.split()
                if words and (OUR_PROGRAM.match(words[0]) or words[0] in ("make", "sudo") and "make" in words[:2]
                              and words[-1] != "make"):     # `make` alone is the word, not a command
                    found.append(CommandLine(page, number, span.strip(), fenced=False))
    return found


def _strip_comment(line: str) -> str:
    """A shell line without its ``# comment`` (a # inside quotes, or inside a word, is not one)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _variants(text: str) -> list[str]:
    """A synopsis as concrete lines: optional [parts] all left out; all in with their first choice; with their last."""
    def expand(pick: int | None) -> str:
        line = text
        while True:
            inner = re.search(r"\[([^\[\]]*)\]", line)
            if not inner:
                return line
            choices = [choice.strip() for choice in inner.group(1).split("|")]
            chosen = "" if pick is None else choices[pick]
            line = line[:inner.start()] + chosen + line[inner.end():]
    return list(dict.fromkeys(expand(pick) for pick in (None, 0, -1)))


def _commands(line: str) -> list[list[str]]:
    """The simple commands of a line (split at &&, ||, ;, |), each as words, with sudo and VAR=value dropped;
    a redirection and its file are left out, and so is a <placeholder> (`git clone <this repository>`)."""
    lexer = shlex.shlex(re.sub(r"<[^<>]*>", "PLACEHOLDER", line), posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    commands, words, redirected = [], [], False
    for token in lexer:
        if token and set(token) <= set("<>"):
            redirected = True
        elif token and set(token) <= set(";&|"):
            commands.append(words)
            words = []
        elif redirected:
            redirected = False
        else:
            words.append(token)
    commands.append(words)
    simple = []
    for words in commands:
        while words and (words[0] == "sudo" or re.match(r"^[A-Z_]+=", words[0])):
            words = words[1:]
        if words:
            simple.append(words)
    return simple


# ---------------------------------------------------------------- checking a line

def _parse(argv: list[str]) -> str | None:
    """None if the real parser accepts argv (nothing is run), else what it said."""
    argv = [PLACEHOLDERS.get(word.rstrip("."), PLACEHOLDERS.get(word, word)) for word in argv]
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            return said.getvalue().strip().splitlines()[-1] if said.getvalue().strip() else f"exit {exit_.code}"
    return None


def _subparsers(parser):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return None


def _mention_problem(argv: list[str]) -> str | None:
    """For a mention in prose (`breakage-pi render --net`): the command exists and takes every option named."""
    parser = build_parser()
    for word in argv:
        commands = _subparsers(parser)
        if word.startswith("-"):
            if word.split("=")[0] not in parser._option_string_actions:
                return f"{parser.prog}: no option {word}"
        elif commands is not None:
            if word not in commands:
                return f"{parser.prog}: no command {word!r} (known: {', '.join(commands)})"
            parser = commands[word]
    return None


def make_targets(root: Path) -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (root / "Makefile").read_text(), re.MULTILINE))


def problems_with(command: CommandLine, targets: set[str]) -> list[str]:
    problems = []
    for variant in _variants(command.text):
        for words in _commands(variant):
            program, argv = words[0], words[1:]
            if OUR_PROGRAM.match(program):
                said = _parse(argv) if command.fenced or "[" in command.text else _mention_problem(argv)
                if said:
                    problems.append(f"{command}: as `{shlex.join(words)}`: {said}")
            elif program == "make":
                named = [word for word in argv if not word.startswith("-") and "=" not in word]
                problems += [f"{command}: the Makefile has no target {target!r}"
                             for target in named or ["(the default)"] if target not in targets]
            elif program not in OTHER_PROGRAMS:
                problems.append(f"{command}: unknown program {program!r} (a typo, or add it to OTHER_PROGRAMS)")
    return list(dict.fromkeys(problems))


def all_command_problems(root: Path, pages=PAGES) -> list[str]:
    targets = make_targets(root)
    return [problem for page in pages for command in command_lines(root, page)
            for problem in problems_with(command, targets)]


# ---------------------------------------------------------------- links

def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", lambda m: "_" if m.group() == "_" else "", heading.strip()).lower()
    kept = "".join(char for char in text
                   if char in " -_" or unicodedata.category(char)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for _, language, line in _fences(path.read_text(encoding="utf-8")):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line) if language == "" else None
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            result.add(base if count == 0 else f"{base}-{count}")
    return result


def link_problems(root: Path, pages=PAGES) -> list[str]:
    problems = []
    for page in pages:
        source = root / page
        for number, language, line in _fences(source.read_text(encoding="utf-8")):
            if language:
                continue
            prose = re.sub(r"`[^`]*`(?!\])", "", line)       # code spans hold no links (a link's text may be code)
            for target in re.findall(r"\]\(([^)\s]+)\)", prose):
                if re.match(r"^[a-z]+:", target):          # https:, mailto:
                    continue
                file_part, _, anchor = target.partition("#")
                path = (source.parent / file_part).resolve() if file_part else source
                where = f"{page}:{number}: ({target})"
                if not path.exists():
                    problems.append(f"{where}: no file {file_part}")
                elif not path.is_relative_to(root.resolve()):
                    problems.append(f"{where}: points outside the repository")
                elif anchor and (path.suffix != ".md" or anchor not in anchors(path)):
                    problems.append(f"{where}: no heading #{anchor} in {path.relative_to(root.resolve())}")
    return problems


# ---------------------------------------------------------------- the tests

def test_every_page_is_there_and_the_readme_is_a_front_page():
    for page in PAGES:
        assert (REPO / page).is_file(), page
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_every_command_line_parses_and_names_real_make_targets():
    commands = [command for page in PAGES for command in command_lines(REPO, page)]
    assert len(commands) > 60, "the command lines were not found: the reader of the pages is broken"
    assert all_command_problems(REPO) == []


def test_every_link_between_the_pages_resolves():
    assert link_problems(REPO) == []


def test_the_command_reference_names_every_command():
    reference = (REPO / "docs/host.md").read_text(encoding="utf-8").split("## Command reference", 1)[1]
    commands = _subparsers(build_parser())
    missing = [name for name in commands if f"`breakage-pi {name} " not in reference
               and f"`breakage-pi {name}`" not in reference]
    assert missing == []


def _cheap(argv: list[str]) -> bool:
    return argv[-1:] == ["--help"] or argv == ["config"]


def test_the_cheap_documented_commands_run():
    """`breakage-pi --help`, `... COMMAND --help` and `breakage-pi config`, as the pages write them."""
    ran = set()
    for page in PAGES:
        for command in command_lines(REPO, page):
            for words in _commands(command.text):
                if OUR_PROGRAM.match(words[0]) and _cheap(words[1:]) and tuple(words[1:]) not in ran:
                    ran.add(tuple(words[1:]))
                    # the example config stands in for /etc/breakage-pi.toml, which this machine may not have
                    done = subprocess.run([sys.executable, "-m", "breakage_pi.cli", *words[1:]],
                                          capture_output=True, text=True, timeout=60, cwd=REPO,
                                          env={"PATH": "/usr/bin:/bin",
                                               "BREAKAGE_PI_CONFIG": str(REPO / "firmware/breakage-pi.toml")})
                    assert done.returncode == 0 and done.stdout.strip(), f"{command}: {done.stderr}"
    assert ("--help",) in ran and ("config",) in ran


@pytest.mark.parametrize("command", sorted(_subparsers(build_parser())))
def test_every_command_answers_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0 and f"usage: breakage-pi {command}" in capsys.readouterr().out


def test_the_checks_catch_a_broken_link_a_wrong_option_and_a_missing_target(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "Makefile").write_text("demo: setup\n\techo\nsetup:\n")
    (tmp_path / "README.md").write_text(
        "# Front\n\nSee [the guide](docs/guide.md#playing) and [nothing](docs/gone.md).\n\n"
        "```sh\nmake demo\nmake dmeo\nbreakage-pi render B.json --slot 1 --bars 2 --out x.wav --loud\n"
        "breakge-pi run\n.venv/bin/breakage-pi export-midi B.json [--slot N | --every] --out x.mid\n```\n\n"
        "Mentioned: `breakage-pi render --nett`, `breakage-pi plya`, `breakage-pi run --sim`.\n")
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Playing it\n\nBack to [the top](../README.md#front).\n")
    links = link_problems(tmp_path, ("README.md", "docs/guide.md"))
    assert [problem.split(": ", 2)[-1] for problem in links] == \
        ["no heading #playing in docs/guide.md", "no file docs/gone.md"]
    commands = all_command_problems(tmp_path, ("README.md",))
    said = "\n".join(commands)
    assert "no target 'dmeo'" in said and "'demo'" not in said
    assert "unrecognized arguments: --loud" in said
    assert "unknown program 'breakge-pi'" in said
    assert "as `.venv/bin/breakage-pi export-midi B.json --every --out x.mid`: " in said   # the last choice only
    assert "no option --nett" in said and "no command 'plya'" in said and "--sim" not in said
    assert len(commands) == 6
