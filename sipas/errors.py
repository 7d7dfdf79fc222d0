"""Domain errors: a stable code for machines, a Vietnamese message for people, and the field at fault."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"
    http_status = 422
    message_vi = "Dữ liệu không hợp lệ."
    #: the service wrote an audit event before raising; the caller commits instead of rolling back
    keeps_audit = False

    def __init__(self, message_vi: str | None = None, *, field: str | None = None, detail: str | None = None):
        self.message_vi = message_vi or self.message_vi
        self.field = field
        self.detail = detail
        super().__init__(f"{self.code}: {detail or self.message_vi}" + (f" [{field}]" if field else ""))

    def to_dict(self) -> dict[str, str]:
        data = {"code": self.code, "message": self.message_vi}
        if self.field:
            data["field"] = self.field
        if self.detail:
            data["detail"] = self.detail
        return data


class ValidationError(DomainError):
    code = "invalid"


class UnknownUnit(DomainError):
    code = "unknown_unit"
    http_status = 404
    message_vi = "Không tìm thấy đơn vị."


class UnknownDossier(DomainError):
    code = "unknown_dossier"
    http_status = 404
    message_vi = "Không tìm thấy hồ sơ với mã này."


class DossierNotReturned(DomainError):
    code = "not_returned"
    http_status = 422
    message_vi = "Hồ sơ chưa được trả kết quả nên chưa thể đánh giá."


class AlreadyRated(DomainError):
    code = "already_rated"
    http_status = 409
    message_vi = "Hồ sơ này đã được đánh giá. Xin cảm ơn ông/bà."
    keeps_audit = True


class UnknownInstrument(DomainError):
    code = "unknown_instrument"
    message_vi = "Bộ tiêu chí không tồn tại."


class UnknownCriterion(DomainError):
    code = "unknown_criterion"
    message_vi = "Tiêu chí không thuộc bộ tiêu chí đã chọn."


class UnknownOption(DomainError):
    code = "unknown_option"
    message_vi = "Lựa chọn không thuộc tiêu chí này."


class MissingAnswer(DomainError):
    code = "missing_answer"
    message_vi = "Còn tiêu chí chưa được trả lời."


class NotApplicableRefused(DomainError):
    code = "not_applicable_refused"
    message_vi = "Tiêu chí này không cho phép chọn “Không áp dụng”."


class DossierRequired(DomainError):
    code = "dossier_required"
    message_vi = "Cần nhập mã hồ sơ cho kênh đánh giá này."
