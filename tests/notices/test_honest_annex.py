"""Issue 11 §3-§4 in the notice: "ít phiếu" with a footnote, and no class for an incomplete score."""

from __future__ import annotations

import io
from dataclasses import asdict

from docx import Document

from aggregator.notices.docx_render import render_docx
from aggregator.notices.html_render import render_html
from aggregator.notices.viewmodel import SMALL_N_FOOTNOTE, scores_sentence, view_from_dict
from tests.notices.test_format import view_of


def test_criteria_below_thirty_answers_are_marked_with_a_footnote() -> None:
    view = view_of()
    quay4, hue12 = view.instruments
    assert quay4.rows[0].n == "84" and "ít phiếu" not in quay4.rows[0].line and not quay4.footnote
    assert hue12.rows[0].n == "3 (*)"  # tc01: 3 answers
    assert hue12.rows[0].line.startswith("Tiêu chí 1. Đánh giá tổng thể dịch vụ (3 phiếu trả lời – ít phiếu (*)):")
    assert hue12.footnote == SMALL_N_FOOTNOTE and "dưới 30 phiếu trả lời" in SMALL_N_FOOTNOTE
    assert view_from_dict(asdict(view)).instruments[1].footnote == SMALL_N_FOOTNOTE  # survives the frozen copy
    document = Document(io.BytesIO(render_docx(view)))
    notes = [p.text for p in document.paragraphs if p.text == SMALL_N_FOOTNOTE]
    assert len(notes) == 2  # under the body's criteria lines and under the annex table
    assert SMALL_N_FOOTNOTE in render_html(view)


def test_a_criterion_without_answers_is_not_flagged() -> None:
    quay4 = view_of().instruments[0]  # quay4 q4 has n = 0: "chưa có phiếu trả lời", no share to doubt
    assert quay4.rows[3].n == "0" and "ít phiếu" not in quay4.rows[3].line


def test_an_incomplete_score_is_not_classed_in_the_notice() -> None:
    report = {"scores": {"indices": {"1": 2.0, "2": 2.0, "9": 0.0}, "total": 4.0, "class": None,
                         "class_reason": "incomplete_indices", "coverage": "3/9 chỉ số", "max_total": 18,
                         "indices_missing": [{"index": i} for i in (3, 4, 5, 6, 7, 8)]}}
    sentence = scores_sentence(report)
    assert sentence.endswith("chưa đủ dữ liệu xếp loại (3/9 chỉ số; thiếu chỉ số 3, 4, 5, 6, 7, 8).")
    assert "xếp loại None" not in sentence and "4,0/18" in sentence


def test_a_pooled_score_says_so_in_the_notice() -> None:
    """A district's notice scores every dossier and answer of its units together (``scores.basis = "pooled"``);
    the sentence read "đạt 11,3/18 điểm …, xếp loại khá" like a unit's own score."""
    label = ("điểm gộp toàn bộ hồ sơ và phiếu của 3 đơn vị (không phải trung bình các đơn vị; có thể cao hơn "
             "từng đơn vị khi mỗi đơn vị thiếu một số chỉ số)")
    scores = {"indices": {str(i): 1.0 for i in range(1, 10)}, "total": 9.0, "class": "khá", "max_total": 18,
              "coverage": "9/9 chỉ số", "indices_missing": []}
    pooled = scores_sentence({"scores": scores | {"basis": "pooled", "basis_label": label}})
    assert pooled.endswith(f"xếp loại khá. Cách tính: {label}.")
    own = scores_sentence({"scores": scores | {"basis": "unit", "basis_label": "điểm của riêng đơn vị"}})
    assert own.endswith("xếp loại khá.") and "Cách tính" not in own
