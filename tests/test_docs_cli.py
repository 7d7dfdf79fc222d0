"""Every ``sipas`` command line the documentation shows names a command, subcommand and options the CLI has.

Read from code: fenced blocks and inline code spans of README.md, docs/ (English and Vietnamese),
deploy/*/README* and config/example.env. A guide that says ``sipas backup --out DIR`` or ``sipas user reset``
after the CLI changed leaves the operator with "No such option"; docs/install.md's run blocks are executed by
tests/test_install_guide.py, the rest is checked here against the click command tree.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from sipas import cli as cli_module
from sipas.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^[ \t]*```[\w-]*\n(.*?)^[ \t]*```", re.M | re.S)
SPAN = re.compile(r"`([^`\n]+)`")
#: ``sipas`` as a command word: at the start or after a blank or "(", optionally as a path ending in bin/
#: (``.venv/bin/sipas``); not ``/opt/sipas``, ``sipas-web``, ``sipas:sipas`` or ``sipas_<prefix>``.
INVOCATION = re.compile(r"(?:^|(?<=[\s(]))(?:\S*bin/)?sipas((?:[ \t]+-[vq]|[ \t]+--verbose|[ \t]+--quiet)*)"
                        r"[ \t]+([a-z][a-z-]*)(.*)$", re.M)
WORD = re.compile(r"[a-z][a-z-]*")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


@pytest.fixture(autouse=True, scope="module")
def _all_commands() -> None:
    cli_module._add_extra_commands()  # the commands ``sipas`` adds in main(): imports, backup, channels…


def documents() -> list[Path]:
    paths = [ROOT / "README.md", ROOT / "config" / "example.env", *sorted((ROOT / "docs").rglob("*.md")),
             *sorted((ROOT / "deploy").glob("*/README*"))]
    return [p for p in paths if p.is_file()]


def code_lines(text: str) -> list[tuple[str, bool]]:
    """(line of code, whether it is shell from a fenced block) of a document."""
    lines = [(line, True) for block in FENCE.findall(text) for line in block.splitlines()]
    prose = FENCE.sub("", text)
    return lines + [(span, False) for span in SPAN.findall(prose)]


def invocations(line: str, shell: bool) -> list[tuple[list[str], str]]:
    """([command, subcommand…], the rest of the command line) for each ``sipas …`` in the line."""
    if shell:
        line = re.split(r"\s#", line)[0]
    found = []
    for match in INVOCATION.finditer(line):
        rest = match.group(2) + match.group(3)
        if shell:
            rest = re.split(r"\|\||&&|[|;]", rest)[0]
        found.append((rest.split(), rest.strip()))
    return found


def problems_of(words: list[str], rest: str) -> list[str]:
    command: click.Command = cli
    path = ["sipas"]
    for word in words:
        if not isinstance(command, click.Group) or not WORD.fullmatch(word):
            break
        sub = command.commands.get(word)
        if sub is None:
            if command is cli or not command.invoke_without_command:
                return [f"{' '.join(path)} has no command {word!r}"]
            break
        command, path = sub, [*path, word]
    names = {name for param in command.params for name in (*param.opts, *param.secondary_opts)} | {"--help"}
    return [f"{' '.join(path)} has no option {option}" for option in OPTION.findall(rest) if option not in names]


def test_the_reader_finds_the_documented_commands() -> None:
    seen = {" ".join(words[:2]) for path in documents()
            for line, shell in code_lines(path.read_text(encoding="utf-8"))
            for words, _rest in invocations(line, shell)}
    assert {"db upgrade", "user set-password", "backup --output", "doctor --json", "zalo unit"} <= seen
    assert invocations("runuser -u sipas -- sipas restore --force x.tar  # tệp", True) == [
        (["restore", "--force", "x.tar"], "restore --force x.tar")]
    assert invocations("make -C /opt/sipas install; systemctl restart sipas-web", True) == []
    assert problems_of(["backup", "--out", "/x"], "backup --out /x") == ["sipas backup has no option --out"]
    assert problems_of(["user", "reset", "hoa"], "user reset hoa") == ["sipas user has no command 'reset'"]


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_sipas_command_and_option_exists(path: Path) -> None:
    wrong = [f"{line.strip()!r}: {problem}" for line, shell in code_lines(path.read_text(encoding="utf-8"))
             for words, rest in invocations(line, shell) for problem in problems_of(words, rest)]
    assert wrong == []
