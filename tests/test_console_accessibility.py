"""The clerk console for a screen reader and the keyboard (WCAG 2.1 AA), checked on the rendered HTML.

Every form control has a programmatic label, every table header cell says what its column holds.
"""

from __future__ import annotations

from lxml import html as lxml_html

from sipas.models import Role
from tests.factories import create_clerk, create_key, create_unit, login
from tests.test_console_ballots import _open_batch


def _unlabelled(page: str) -> list[str]:
    """The form controls (hidden inputs aside) that no label, aria-label or aria-labelledby names."""
    tree = lxml_html.fromstring(page)
    labelled = {label.get("for") for label in tree.iter("label") if label.get("for")}
    found = []
    for control in tree.xpath("//input[not(@type='hidden')] | //select | //textarea"):
        if (control.get("aria-label") or control.get("aria-labelledby") or control.get("id") in labelled
                or control.xpath("ancestor::label")):
            continue
        found.append(lxml_html.tostring(control, encoding="unicode")[:120])
    return found


def _empty_headers(page: str) -> list[str]:
    """Header cells with no text for a screen reader to announce (visually hidden text counts)."""
    tree = lxml_html.fromstring(page)
    return [lxml_html.tostring(th.getparent(), encoding="unicode")[:160] for th in tree.iter("th")
            if not th.text_content().strip() and not th.get("aria-label")]


def test_the_scans_see_a_missing_label_and_an_empty_header() -> None:
    assert _unlabelled('<form><select name="role"><option>a</option></select></form>')
    assert not _unlabelled('<form><label>Vai trò <select name="role"></select></label></form>')
    assert not _unlabelled('<form><label for="r">Vai trò</label><select id="r" name="role"></select></form>')
    assert _empty_headers("<table><tr><th>Tên</th><th></th></tr></table>")
    assert not _empty_headers('<table><tr><th><span class="visually-hidden">Thao tác</span></th></tr></table>')


def test_the_account_page_labels_every_control_and_header(client, session) -> None:
    """The role list of "Đổi vai trò, đơn vị" had no label: a screen reader said only "combo box, Quản trị"."""
    unit = create_unit(session, name="Phường Phú Hội")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    create_clerk(session, unit, username="canbo.phuhoi")
    create_key(session, unit)
    session.commit()
    login(client, admin)
    pages = {path: client.get(path).get_data(as_text=True) for path in ("/console/users", "/console/keys",
                                                                       "/console/units")}
    assert 'name="role"' in pages["/console/users"].split("Tạo tài khoản")[0]  # the row's form is there
    assert {path: _unlabelled(page) for path, page in pages.items()} == {path: [] for path in pages}


def test_every_header_cell_of_the_console_tables_has_a_name(client, session) -> None:
    """The column of row buttons and links ("Thu hồi", "Sửa", "Khóa") had an empty header cell: a screen reader
    announced the cells of that column without saying what they are for."""
    unit = create_unit(session, name="Phường Phú Hội")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    create_clerk(session, unit, username="canbo.phuhoi")
    create_key(session, unit)
    session.commit()
    login(client, admin)
    batch = _open_batch(client, unit)
    paths = ["/console/users", "/console/keys", "/console/units", "/console/zalo/",
             f"/console/sms/{unit.code}/templates", batch]
    pages = {path: client.get(path) for path in paths}
    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(paths, 200)
    assert {path: _empty_headers(page.get_data(as_text=True)) for path, page in pages.items()} == \
        {path: [] for path in paths}
