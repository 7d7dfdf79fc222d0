"""The Vietnamese guides (docs/vi) lead a clerk through the console by the names the console shows: every
path written "**Tin nhắn & QR** → **Tin nhắn đã gửi**" is followed here, link by link, from the home page of an
administrator, and each step must be a link, button or heading of the page the step before led to (a guide
that says "Hộp thư đi" where the console says "Tin nhắn đã gửi" leaves the clerk searching)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sipas.models import Role
from tests.factories import create_clerk, create_unit, login

DOCS = Path(__file__).resolve().parent.parent / "docs" / "vi"
BOLD = re.compile(r"\*\*(.+?)\*\*")
ELEMENT = re.compile(r"<(a|button|h1|h2|h3|summary|label|legend)\b([^>]*)>(.*?)</\1>", re.S)


def chains() -> list[tuple[str, list[str]]]:
    """(guide, [step, …]) for every "**A** → **B**" (or "**A → B**") path of the guides."""
    found = []
    for path in sorted(DOCS.glob("*.md")):
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
        steps: list[str] = []
        end = None
        for match in BOLD.finditer(text):
            if end is None or text[end:match.start()].strip() != "→":
                if len(steps) > 1:
                    found.append((path.name, steps))
                steps = []
            steps += [step.strip(" .") for step in match.group(1).split("→")]
            end = match.end()
        if len(steps) > 1:
            found.append((path.name, steps))
    return found


def elements(page: str) -> list[tuple[str, str | None]]:
    """(visible text, href of a link) of the page's links, buttons, headings and labels."""
    result = []
    for tag, attributes, inner in ELEMENT.findall(page):
        text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inner))).strip()
        href = re.search(r'href="([^"]+)"', attributes) if tag == "a" else None
        result.append((text, html.unescape(href.group(1)) if href else None))
    return result


def find(page: str, step: str) -> tuple[str, str | None] | None:
    for text, href in elements(page):
        if text == step or (step.endswith("…") and text.startswith(step[:-1])):
            return text, href
    return None


def test_the_guides_name_the_console_s_menus_and_buttons_as_the_console_does(client: FlaskClient,
                                                                             session: Session) -> None:
    unit = create_unit(session)
    admin = create_clerk(session, unit, role=Role.ADMIN)
    session.commit()
    login(client, admin)
    home = client.get("/console/").get_data(as_text=True)
    nav = [href for _text, href in elements(home) if href and href.startswith("/console/")]
    wrong = []
    assert len(chains()) >= 8
    for guide, steps in chains():
        # the first step is on the home page or on a page its menu opens
        pages = [home] + [client.get(href).get_data(as_text=True) for href in nav]
        page = next((p for p in pages if find(p, steps[0])), None)
        for step in steps:
            hit = find(page, step) if page is not None else None
            if hit is None:
                wrong.append(f"{guide}: “{step}” in {' → '.join(steps)}")
                break
            page = client.get(hit[1]).get_data(as_text=True) if hit[1] else page
    assert wrong == []
