"""The notice as HTML (public page, print preview, ``sipas notice --format html``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from aggregator.notices.docx_render import FIELD_HEAD
from aggregator.notices.qr import qr_svg
from aggregator.notices.viewmodel import NoticeView

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def notice_context(view: NoticeView) -> dict[str, object]:
    """What both the standalone document and the console preview pass to the notice templates."""
    return {"view": view, "qr_svg": Markup(qr_svg(view.public_url)), "field_head": FIELD_HEAD}


def render_html(view: NoticeView, *, replaced_by: tuple[tuple[str, str], ...] = ()) -> str:
    """A standalone HTML document (styles inline, no external resources).

    ``replaced_by``: (number label, address) of the notices that corrected this one, named above it. The title
    "THÔNG BÁO" is the document's one level-1 heading (level 2 inside the console page, under its own title)."""
    return _environment().get_template("notices/notice.html").render(**notice_context(view), replaced_by=replaced_by,
                                                                     title_level=1)
