// The kiosk's rating component, laid out for a phone, takes over the plain form unless the citizen
// already started answering it (a slow connection may deliver the script late).
import { mountRatingFlow, readInstrument } from "./rating-flow.js";
const form = document.getElementById("rating-form");
if (!form.querySelector("input:checked") && !form.comment.value) {
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = document.getElementById("rating-app").dataset.css;
  document.head.append(css);
  const host = document.getElementById("rating-app");
  const token = form.csrf_token.value;
  const key = form.submit_key.value;
  // A stalled mobile connection must not leave "Gửi" disabled without a word: give up after SEND_TIMEOUT_MS and let
  // the citizen send again (the same idempotency key: a rating that did arrive is not stored twice).
  const SEND_TIMEOUT_MS = Number(host.dataset.sendTimeoutMs) || 15000;
  async function submit(payload) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
    try {
      const response = await fetch(form.action, {method: "POST", credentials: "same-origin", signal: abort.signal,
        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify({answers: payload.answers, comment: payload.comment, idempotency_key: key})});
      const body = await response.json().catch(() => ({}));
      if (response.ok) return {ok: true, message: "Đánh giá của ông/bà đã được ghi nhận."};
      if (response.status === 409 || response.status === 410) { location.replace(location.href); }
      return {ok: false, message: body.message || "Không gửi được đánh giá. Vui lòng thử lại."};
    } catch (error) {
      if (abort.signal.aborted) {
        return {ok: false, message: "Mạng chậm nên chưa gửi được. Vui lòng bấm “Gửi đánh giá” để gửi lại."};
      }
      return {ok: false, message: "Không kết nối được máy chủ. Vui lòng kiểm tra mạng và thử lại."};
    } finally {
      clearTimeout(timer);
    }
  }
  const instrument = readInstrument("rating-instrument");
  // Question 1 is the first thing the citizen sees: no "Quay lại" that would lead nowhere. The comment takes as
  // much as the plain form's (the server's limit), not the kiosk's 500: a longer complaint was cut without a word.
  mountRatingFlow(host, {layout: "phone", instrument, submit, comment: true, audio: false,
    idle: false, thanksSeconds: 0, backOnFirst: false, commentMaxLength: form.comment.maxLength}).start();
  form.hidden = true;
  host.hidden = false;
}
