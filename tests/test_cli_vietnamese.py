"""Click's own messages in the ``sipas`` command read in Vietnamese (``sipas.cli_vietnamese``)."""

from __future__ import annotations

import ast
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
