"""No browser validation bubble in English: every form with constraints carries `novalidate` (issue 13 item 8).

Chromium answers `required`, `pattern`, `min`/`max`, `minlength`/`maxlength` and type=email/url with its own
English bubble ("Please fill out this field") before the server is asked; the server's Vietnamese message must
be the only one a citizen or clerk sees.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
TAG = re.compile(r"<(?:input|select|textarea)\b[^>]*>", re.S | re.I)
CONSTRAINT = re.compile(r'\s(?:required|pattern|min|max|minlength|maxlength)(?:[\s=/>]|$)|type="(?:email|url)"', re.I)


def _templates() -> list[Path]:
    return sorted(path for path in ROOT.glob("*/**/templates/**/*.html") if ".venv" not in path.parts)


def _unguarded_forms(text: str) -> list[str]:
    """The opening tags of forms holding a constrained control but no `novalidate`."""
    found = []
    for match in FORM.finditer(text):
        if "novalidate" in match.group(1).lower():
            continue
        if any(CONSTRAINT.search(tag) for tag in TAG.findall(match.group(2))):
            found.append(f"<form{match.group(1)}>")
    return found


def test_the_scan_sees_constraints_and_novalidate() -> None:
    assert _unguarded_forms('<form method="post"><input name="a" required></form>')
    assert _unguarded_forms('<form><input type="email" name="a"></form>')
    assert _unguarded_forms('<form><input name="a" maxlength="5"></form>')
    assert not _unguarded_forms('<form novalidate><input name="a" required></form>')
    assert not _unguarded_forms('<form><input name="a" aria-required="true"></form>')


def test_every_form_with_constraints_has_novalidate() -> None:
    pages = _templates()
    assert len(pages) > 30
    offenders = {str(path.relative_to(ROOT)): forms for path in pages
                 if (forms := _unguarded_forms(path.read_text(encoding="utf-8")))}
    assert offenders == {}
