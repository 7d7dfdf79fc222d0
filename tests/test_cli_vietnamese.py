"""Click's own messages in the ``sipas`` command read in Vietnamese (``sipas.cli_vietnamese``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sipas import cli as cli_module
from sipas.cli_vietnamese import MESSAGES, MODULES, PLURALS

CLICK = Path(click.__file__).parent


def _click_messages() -> tuple[set[str], set[tuple[str, str]]]:
    """Every literal click passes to ``_`` and ``ngettext`` in the modules ``install`` rebinds."""
    singles, plurals = set(), set()
    for name in MODULES:
        for node in ast.walk(ast.parse((CLICK / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if node.func.id == "_" and texts:
                    singles.add(texts[0])
                elif node.func.id == "ngettext" and len(texts) == 2:
                    plurals.add((texts[0], texts[1]))
    singles.add("required")  # passed through a variable: extra["required"] = "required"; _(extra["required"])
    return singles, plurals


def test_every_translation_is_still_a_message_of_click():
    """A click upgrade that rewords a message fails here, instead of leaving it silently in English."""
    singles, plurals = _click_messages()
    assert set(MESSAGES) - singles == set()
    assert set(PLURALS) - plurals == set()


def test_no_placeholder_is_added():
    import string

    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    for english, vietnamese in MESSAGES.items():
        assert {n.split("!")[0] for n in names(vietnamese)} <= {n.split("!")[0] for n in names(english)}, english
    for (one, many), (vi_one, vi_many) in PLURALS.items():
        allowed = {n.split("!")[0] for n in names(one) | names(many)}
        assert {n.split("!")[0] for n in names(vi_one) | names(vi_many)} <= allowed, one


@pytest.mark.parametrize(("args", "expected"), [
    (["user", "create", "--username", "a", "--unit", "P", "--role", "boss"],
     "Lỗi: Giá trị không hợp lệ cho '--role': 'boss' không thuộc các giá trị 'admin', 'clerk', 'leader'."),
    (["user", "create"], "Lỗi: Thiếu tùy chọn '--username'."),
    (["reprot"], "Lỗi: Không có lệnh 'reprot'. Có phải ý bạn là 'report'?"),
    (["report", "--unit"], "Lỗi: Tùy chọn '--unit' cần một giá trị."),
    (["import-dossiers", "/khong-co/ho-so.csv", "--unit", "P"],
     "Lỗi: Giá trị không hợp lệ cho 'FILE': Không tìm thấy '/khong-co/ho-so.csv'."),
    (["notice", "--number", "abc"], "Lỗi: Giá trị không hợp lệ cho '--number': 'abc' không phải là số hợp lệ."),
])
def test_usage_errors_read_in_vietnamese(args: list[str], expected: str) -> None:
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, args)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Error" not in result.output and "Invalid" not in result.output


def test_help_reads_in_vietnamese() -> None:
    result = CliRunner().invoke(cli_module.cli, ["user", "create", "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Cách dùng: ") and "\nTùy chọn:\n" in result.output
    assert "[bắt buộc]" in result.output and "Hiện hướng dẫn này rồi thoát." in result.output
    assert "Show this message" not in result.output and "required" not in result.output


#: where the ``sipas`` commands word what they tell an operator on a refusal or a failure
OPERATOR_MESSAGES = ["sipas/backup.py", "sipas/cli.py", "sipas/cli_accounts.py", "sipas/cli_backup.py",
                     "sipas/cli_cases.py", "sipas/cli_context.py", "sipas/cli_imports.py", "sipas/cli_operate.py",
                     "sipas/cli_tally.py", "aggregator/cli.py", "aggregator/notices/cli.py", "kiosk/cli.py",
                     "sms_gateway/cli.py", "sms_gateway/zalo_cli.py"]
REFUSALS = {"BackupError", "ClickException", "UsageError", "BadParameter"}
ENGLISH = {"the", "a", "an", "is", "are", "not", "no", "cannot", "failed", "found", "must", "use", "holds", "of",
           "for", "from", "in", "into", "to", "already", "unknown", "missing", "expected", "unexpected", "first",
           "database", "archive", "backup", "member", "differs", "would", "be", "or", "and", "set", "it", "its"}
VIETNAMESE_LETTERS = set("ăâđêôơưáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


def _sentence(node: ast.expr) -> str | None:
    """The wording of a literal or f-string message up to its first colon (what follows may be a machine
    detail: an exception's text, a path, a pg_restore line); None for a message passed through."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    else:
        return None
    return text.split(": ", 1)[0]


def _refusals() -> list[tuple[str, int, str]]:
    root = Path(__file__).parent.parent
    found = []
    for name in OPERATOR_MESSAGES:
        for node in ast.walk(ast.parse((root / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in REFUSALS and (sentence := _sentence(node.args[0])) is not None:
                    found.append((name, node.lineno, sentence))
    return found


def test_refusals_and_failures_of_the_commands_are_worded_in_vietnamese() -> None:
    """`sipas restore` said "Không khôi phục được: the database already holds data …": the sentence an operator
    reads is Vietnamese with its marks; only a machine detail after a colon may be in another language."""
    refusals = _refusals()
    assert any(name == "sipas/backup.py" for name, _, _ in refusals)  # the rule reads the messages it guards
    words = {(name, line, sentence): _words(sentence) for name, line, sentence in refusals}
    assert [message for message, found in words.items() if set(found) & ENGLISH] == []
    assert [message for message, found in words.items() if found and not VIETNAMESE_LETTERS & set("".join(found))] == []


def _words(sentence: str) -> list[str]:
    """The sentence's words, without option names, setting names and commands quoted in backticks."""
    return re.findall(r"[^\W\d_]+", re.sub(r"--[\w-]+|\b[A-Z][A-Z0-9_]{2,}\b|`[^`]*`", " ", sentence).lower())
