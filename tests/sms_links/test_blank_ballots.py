"""Blank ballots with a QR: a POST prints N sheets, each with its own single-use phone-form link of the unit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import func, select

from sipas.clock import utcnow
from sipas.errors import AlreadyRated, DossierRequired, UnknownDossier
from sipas.models import AuditEvent, Response, ResponseChannel
from sms_gateway.blank_ballots import mint_blank_links
from sms_gateway.models_links import ShortLink
from tests.factories import answers_for, create_clerk, create_dossier, create_response, create_unit, login
from tests.sms_links.conftest import csrf_token, fresh


def _qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "blank.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    return [d.data.decode() for image in sorted(tmp_path.glob("page-*.png")) for d in decode(Image.open(image))]


def _blank_link(session, unit) -> ShortLink:  # type: ignore[no-untyped-def]
    [link] = mint_blank_links(session, unit, "hue12", 1, now=utcnow())
    session.commit()
    return link


def _rate(client, catalogue, code: str, dossier_code: str, *, submit_key: str = "k1",  # type: ignore[no-untyped-def]
          token: str | None = None):
    """Post the phone form of the link (its token read from the form page unless given)."""
    token = token or csrf_token(client.get(f"/r/{code}").get_data(as_text=True))
    data = {f"a_{c}": option for c, option in answers_for(catalogue).items()}
    data.update(csrf_token=token, submit_key=submit_key, comment="", dossier_code=dossier_code)
    return client.post(f"/r/{code}", data=data)


def _responses(session) -> list[Response]:  # type: ignore[no-untyped-def]
    fresh(session)
    return list(session.scalars(select(Response).order_by(Response.id)))


def test_a_print_mints_one_link_per_ballot_and_each_qr_rates_once(client, session, catalogue, settings,
                                                                   tmp_path: Path) -> None:
    unit = create_unit(session, name="Phường Phú Hội")
    dossiers = [create_dossier(session, unit, code=f"HS-TRANG-{n}") for n in range(3)]
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    path = f"/console/sms/{unit.code}/ballots"
    page = client.get(path).get_data(as_text=True)
    assert f'action="{path}/blank.pdf"' in page and "In phiếu trắng có mã QR" in page
    assert client.get(f"{path}/blank.pdf?instrument=hue12&copies=3").status_code == 405  # a GET never mints
    token = csrf_token(page)
    too_many = client.post(f"{path}/blank.pdf", data={"csrf_token": token, "instrument": "hue12", "copies": "501"})
    assert too_many.status_code == 400 and "Số phiếu phải từ 1 đến 500" in too_many.get_data(as_text=True)
    got = client.post(f"{path}/blank.pdf", data={"csrf_token": token, "instrument": "hue12", "version": "2018.1",
                                                  "size": "a4", "copies": "3"})
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    fresh(session)
    links = list(session.scalars(select(ShortLink)))
    assert len(links) == 3 and all(link.dossier_id is None and link.unit_id == unit.id for link in links)
    urls = _qr_codes(got.data, tmp_path)
    assert len(set(urls)) == 3 and set(urls) == {f"{settings.public_base_url}/r/{link.code}" for link in links}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "qr.blank_ballots_printed"))
    assert event is not None and event.details["ballots"] == 3

    client.get("/console/logout")
    for url, dossier in zip(urls, dossiers, strict=True):
        code = url.rsplit("/", 1)[1]
        form = client.get(f"/r/{code}").get_data(as_text=True)
        assert 'name="dossier_code"' in form and "rating-flow.js" not in form  # the plain form: it asks the code
        token = csrf_token(form)
        assert "Cảm ơn ông/bà" in _rate(client, catalogue, code, dossier.code, token=token).get_data(as_text=True)
        assert _rate(client, catalogue, code, dossier.code, token=token).status_code == 200  # the same submit again
        again = _rate(client, catalogue, code, dossiers[0].code, submit_key="k2", token=token)
        assert again.status_code == 409 and 'data-state="used"' in again.get_data(as_text=True)  # the usual page
    stored = _responses(session)
    assert [r.dossier_id for r in stored] == [d.id for d in dossiers]
    assert all(r.channel is ResponseChannel.QR for r in stored)


def test_a_dossier_of_another_unit_is_refused_and_the_link_still_works(client, session, catalogue) -> None:
    unit, other = create_unit(session), create_unit(session)
    mine = create_dossier(session, unit, code="HS-CUA-MINH")
    create_dossier(session, other, code="HS-NOI-KHAC")
    link = _blank_link(session, unit)
    refused = _rate(client, catalogue, link.code, "HS-NOI-KHAC")
    assert refused.status_code == 422 and UnknownDossier.message_vi in refused.get_data(as_text=True)
    assert 'value="HS-NOI-KHAC"' in refused.get_data(as_text=True)  # the typed code is kept to correct it
    token = csrf_token(client.get(f"/r/{link.code}").get_data(as_text=True))
    as_json = client.post(f"/r/{link.code}", headers={"X-CSRFToken": token},
                          json={"answers": answers_for(catalogue), "dossier_code": "HS-NOI-KHAC"})
    assert as_json.status_code == 404 and as_json.get_json()["code"] == "unknown_dossier"
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None and _responses(session) == []
    assert _rate(client, catalogue, link.code, "HS-CUA-MINH").status_code == 200
    assert [r.dossier_id for r in _responses(session)] == [mine.id]


def test_a_dossier_already_rated_is_refused_as_at_the_kiosk_and_the_link_stays_usable(client, session,
                                                                                      catalogue) -> None:
    unit = create_unit(session)
    rated = create_dossier(session, unit, code="HS-DA-DANH-GIA")
    create_response(session, catalogue, unit, dossier=rated)
    create_dossier(session, unit, code="HS-CHUA")
    link = _blank_link(session, unit)
    refused = _rate(client, catalogue, link.code, "HS-DA-DANH-GIA")
    assert refused.status_code == 422 and AlreadyRated.message_vi in refused.get_data(as_text=True)
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None
    assert _rate(client, catalogue, link.code, "HS-CHUA").status_code == 200
    assert len(_responses(session)) == 2


def test_an_empty_code_is_anonymous_only_where_the_unit_allows_it(client, session, catalogue) -> None:
    strict, open_unit = create_unit(session), create_unit(session, allow_anonymous=True)
    strict_link, open_link = _blank_link(session, strict), _blank_link(session, open_unit)
    form = client.get(f"/r/{strict_link.code}").get_data(as_text=True)
    assert "bắt buộc; ghi trên giấy hẹn" in form and 'name="dossier_code" value="" required' in form
    refused = _rate(client, catalogue, strict_link.code, "")
    assert refused.status_code == 422 and DossierRequired.message_vi in refused.get_data(as_text=True)
    fresh(session)
    assert session.get(ShortLink, strict_link.id).used_at is None
    optional = client.get(f"/r/{open_link.code}").get_data(as_text=True)
    assert "không bắt buộc; ghi trên giấy hẹn" in optional and 'value="" required' not in optional
    assert _rate(client, catalogue, open_link.code, "").status_code == 200
    [stored] = _responses(session)
    assert stored.dossier_id is None and stored.unit_id == open_unit.id and stored.channel is ResponseChannel.QR
    assert session.get(ShortLink, open_link.id).response_id == stored.id
    assert session.scalar(select(func.count()).select_from(ShortLink).where(ShortLink.used_at.is_not(None))) == 1


def test_a_blank_ballot_is_no_way_to_try_dossier_codes_without_end(client, session, catalogue) -> None:
    """A photographed blank ballot asked for dossier codes without limit (the sheet stays usable after a refused
    code), so a day's sequential codes could be tried one by one until a neighbour's dossier was rated. A code that
    finds no dossier to rate counts as a wrong link code does (30 a client in 15 minutes)."""
    unit = create_unit(session)
    target = create_dossier(session, unit, code="000.00.20.H57-260106-0137")
    link = _blank_link(session, unit)
    token = csrf_token(client.get(f"/r/{link.code}").get_data(as_text=True))
    misses = [_rate(client, catalogue, link.code, f"000.00.20.H57-260106-{n:04d}", token=token).status_code
              for n in range(1, 41)]
    assert misses[:30] == [422] * 30 and set(misses[30:]) == {429}  # 30 misses, then every code is refused
    assert _rate(client, catalogue, link.code, target.code, token=token).status_code == 429
    assert _responses(session) == []
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None  # the sheet itself is not spent
