"""The clerk console for a screen reader and the keyboard (WCAG 2.1 AA), checked on the rendered HTML.

Every form control has a programmatic label, every table header cell says what its column holds.
"""

from __future__ import annotations

from lxml import html as lxml_html

from sipas.models import Role
from tests.factories import (
    PASSWORD,
    answers_for,
    create_clerk,
    create_key,
    create_response,
    create_unit,
    local,
    login,
)
from tests.test_console_ballots import _open_batch


def _admin_of_a_ward_with_a_clerk_and_a_key(client, session):  # type: ignore[no-untyped-def]
    """A ward with a clerk and an API key (rows in the account and key tables), its admin logged in; the ward."""
    unit = create_unit(session, name="Phường Phú Hội")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    create_clerk(session, unit, username="canbo.phuhoi")
    create_key(session, unit)
    session.commit()
    login(client, admin)
    return unit


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


def _tables_without_headers(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [lxml_html.tostring(table, encoding="unicode")[:120] for table in tree.iter("table")
            if not table.xpath(".//th")]


def test_the_scans_see_a_missing_label_and_an_empty_header() -> None:
    assert _unlabelled('<form><select name="role"><option>a</option></select></form>')
    assert not _unlabelled('<form><label>Vai trò <select name="role"></select></label></form>')
    assert not _unlabelled('<form><label for="r">Vai trò</label><select id="r" name="role"></select></form>')
    assert _tables_without_headers("<table><tr><td>{ma_ho_so}</td><td>Mã hồ sơ</td></tr></table>")
    assert _empty_headers("<table><tr><th>Tên</th><th></th></tr></table>")
    assert not _empty_headers('<table><tr><th><span class="visually-hidden">Thao tác</span></th></tr></table>')


def test_the_account_page_labels_every_control_and_header(client, session) -> None:
    """The role list of "Đổi vai trò, đơn vị" had no label: a screen reader said only "combo box, Quản trị"."""
    _admin_of_a_ward_with_a_clerk_and_a_key(client, session)
    pages = {path: client.get(path).get_data(as_text=True) for path in ("/console/users", "/console/keys",
                                                                       "/console/units")}
    assert 'name="role"' in pages["/console/users"].split("Tạo tài khoản")[0]  # the row's form is there
    assert {path: _unlabelled(page) for path, page in pages.items()} == {path: [] for path in pages}


def test_every_header_cell_of_the_console_tables_has_a_name(client, session) -> None:
    """The column of row buttons and links ("Thu hồi", "Sửa", "Khóa") had an empty header cell: a screen reader
    announced the cells of that column without saying what they are for."""
    unit = _admin_of_a_ward_with_a_clerk_and_a_key(client, session)
    batch = _open_batch(client, unit)
    paths = ["/console/users", "/console/keys", "/console/units", "/console/zalo/",
             f"/console/sms/{unit.code}/templates", batch]
    pages = {path: client.get(path) for path in paths}
    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(paths, 200)
    assert {path: _empty_headers(page.get_data(as_text=True)) for path, page in pages.items()} == \
        {path: [] for path in paths}


def test_the_trend_chart_has_its_figures_in_a_table(client, session, catalogue) -> None:
    """The trend chart is an image (role="img") named only "Tỷ lệ hài lòng chung theo quý…": its rates, intervals
    and n were drawn as SVG text, which a screen reader does not read inside an image. The other charts have a
    table of their figures beside them; the trend had none."""
    unit = create_unit(session, name="Phường Phú Hội", allow_anonymous=True)
    clerk = create_clerk(session, unit)
    for _ in range(3):
        create_response(session, catalogue, unit, submitted_at=local(2026, 2, 10), now=local(2026, 4, 2))
    session.commit()
    login(client, clerk)
    page = client.get("/console/bao-cao/", query_string={"unit": unit.code, "kind": "quarter", "quarter": "2026Q1"})
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    section = tree.xpath("//section[h2='Tỷ lệ hài lòng chung qua các quý']")[0]
    assert section.xpath(".//svg[@role='img']")  # the chart itself is still there
    rows = [[cell.text_content().split() for cell in row.xpath("th|td")] for row in section.xpath(".//table//tr")]
    assert [" ".join(words) for words in rows[0]] == ["Quý", "Tỷ lệ hài lòng", "Khoảng tin cậy 95%",
                                                      "Số câu trả lời"]
    assert [" ".join(row[0]) for row in rows[1:]] == ["Quý II/2025", "Quý III/2025", "Quý IV/2025", "Quý I/2026"]
    assert " ".join(rows[1][1]) == "chưa có phiếu"
    first_quarter = [" ".join(cell) for cell in rows[4]]
    assert first_quarter[1] == "100,00%" and first_quarter[3].startswith("36")  # 3 ballots × 12 criteria
    assert "ít phiếu" not in first_quarter[3]


def test_the_tables_of_placeholders_have_column_headers(client, session) -> None:
    """The lists of fields a clerk may write into an SMS template or a notice ({don_vi}, {received}…) were tables
    of bare cells: a screen reader read "{don_vi} Tên đơn vị" with nothing to say which is the field to type."""
    unit = create_unit(session, name="Phường Phú Hội")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    session.commit()
    login(client, admin)
    paths = [f"/console/sms/{unit.code}/templates/invitation", f"/console/thong-bao/noi-dung?unit={unit.code}"]
    pages = {path: client.get(path) for path in paths}
    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(paths, 200)
    assert {path: _tables_without_headers(page.get_data(as_text=True)) for path, page in pages.items()} == \
        {path: [] for path in paths}


def _refused_field(page: str) -> str | None:
    """The field the page's error message is about (its data-field), for console.js to mark and focus."""
    errors = lxml_html.fromstring(page).xpath("//main//p[contains(@class, 'flash-error')]")
    assert errors, "no error message"
    return errors[0].get("data-field")


def test_a_refused_console_form_names_the_field_its_message_is_about(client, session) -> None:
    """A refused form said why only at the top of the page: nothing tied the message to the box to correct, so
    a screen reader user had to find it (WCAG 3.3.1); now the message names its field for console.js."""
    unit = create_unit(session, name="Phường Phú Hội")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    create_clerk(session, unit, username="canbo.phuhoi")
    session.commit()
    login(client, admin)

    def send(path: str, form_page: str | None = None, **data: str) -> str:
        page = client.get(form_page or path).get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(path, data={"csrf_token": token, **data})
        assert answer.status_code in (400, 422), answer.status_code
        return answer.get_data(as_text=True)

    assert _refused_field(send("/console/users", username="canbo.phuhoi", role="clerk",
                               units=str(unit.id))) == "username"
    assert _refused_field(send("/console/users", username="canbo.moi", role="")) == "role"
    assert _refused_field(send("/console/keys", name="", unit=unit.code)) == "name"
    assert _refused_field(send("/console/units", code="có dấu cách", name="Phường Mới", kind="ward",
                               parent=unit.code)) == "code"
    assert _refused_field(send(f"/console/units/{unit.code}", name="")) == "name"
    assert _refused_field(send("/console/password", current="", new="")) == "current"
    assert _refused_field(send("/console/password", current="sai-mat-khau", new="mat-khau-moi-dai")) == "current"
    assert _refused_field(send("/console/password", current=PASSWORD, new="mat-khau-moi-dai",
                               confirm="mat-khau-khac")) == "confirm"
    # and the other console forms that come back on the same page: kiosk, case rules, quarterly figures
    assert _refused_field(send("/console/kiosks/new", "/console/kiosks", unit=unit.code, name="")) == "name"
    assert _refused_field(send("/console/cases/settings", unit=unit.code, due_days="0")) == "due_days"
    assert _refused_field(send("/console/bao-cao/so-lieu-quy", f"/console/bao-cao/so-lieu-quy?unit={unit.code}",
                               unit=unit.code, quarter="2026Q1", ballots_handed_out="mười")) == "ballots_handed_out"


def test_the_link_on_ones_own_name_says_it_changes_the_password(client, session) -> None:
    """The top bar's link to "Đổi mật khẩu" read only as the clerk's name; where it led was in a title, which a
    screen reader gives as a mere description and a keyboard user never sees (WCAG 2.4.4)."""
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    tree = lxml_html.fromstring(client.get("/console/").get_data(as_text=True))
    link = tree.xpath("//header//a[@href='/console/password']")[0]
    assert " ".join(link.text_content().split()) == f"{clerk.username} (đổi mật khẩu)"
    assert link.xpath(".//span[@class='visually-hidden']")  # the name alone stays what the bar shows


def test_each_ballot_key_box_is_described_by_what_its_digits_mean(client, session) -> None:
    """On the keying page a box said only its question ("Nơi đón tiếp"): which digit stands for which printed
    choice was in the next cell, which nothing tied to the box."""
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    tree = lxml_html.fromstring(client.get(_open_batch(client, unit)).get_data(as_text=True))
    boxes = tree.xpath("//input[contains(@class, 'ballot-key')]")
    assert len(boxes) == 4  # the quay4 form
    for box in boxes:
        described = [tree.get_element_by_id(ref).text_content() for ref in box.get("aria-describedby", "").split()]
        assert described and described[0].startswith("1 = "), box.get("name")


def test_a_refused_case_form_names_its_field_after_the_redirect(client, session, catalogue) -> None:
    """A case's forms answer a refusal with a redirect to the case: the field the message is about is carried
    with the message ("Hãy ghi ít nhất một nội dung…" is about "Nội dung giải trình")."""
    unit = create_unit(session, allow_anonymous=True)
    clerk = create_clerk(session, unit)
    unhappy = answers_for(catalogue) | {"tc04": "khong_hai_long"}
    response = create_response(session, catalogue, unit, answers=unhappy)
    session.commit()
    login(client, clerk)
    path = f"/console/cases/{response.id}"
    page = client.get(path).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(path, data={"csrf_token": token, "action": "record", "explanation": "", "contact_made": "",
                                     "outcome": ""}, follow_redirects=True)
    assert _refused_field(answer.get_data(as_text=True)) == "explanation"
    with client.session_transaction() as stored:
        assert "_error_field" not in stored  # read once, like the flash: no later error is tied to it


def test_a_refused_notice_form_names_its_field(client, session) -> None:
    """The notice's issue form (answered by a redirect to the notice page) and its wording form name the field
    their refusal is about; a paragraph's box is p_<key>."""
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    period = {"unit": unit.code, "kind": "quarter", "quarter": "2026Q1"}
    page = client.get("/console/thong-bao/", query_string=period).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/console/thong-bao/ban-hanh", data={"csrf_token": token, **period, "number": "ba",
                                                              "issue_date": "01/04/2026"}, follow_redirects=True)
    assert _refused_field(answer.get_data(as_text=True)) == "number"
    form = lxml_html.fromstring(client.get(f"/console/thong-bao/noi-dung?unit={unit.code}").get_data(as_text=True))
    fields = {**{t.get("name"): t.text or "" for t in form.xpath("//main//form//textarea")},
              **{i.get("name"): i.get("value") or "" for i in form.xpath("//main//form//input")}}
    first = next(name for name in fields if name.startswith("p_"))
    answer = client.post("/console/thong-bao/noi-dung", data={**fields, first: "", "action": "save"})
    assert answer.status_code == 400
    assert _refused_field(answer.get_data(as_text=True)) == first
