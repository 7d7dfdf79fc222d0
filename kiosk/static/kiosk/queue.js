/**
 * queue.js — ratings the kiosk has not yet seen acknowledged, kept in localStorage until the server
 * answers. Each carries its idempotency key, so a resend after a lost answer is stored only once.
 */

export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Outside a secure context (a kiosk on plain http over the LAN) randomUUID is missing.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class RatingQueue {
  constructor(unit) {
    this.key = `sipas-kiosk:${unit}:queue`;
    this.rejectedKey = `sipas-kiosk:${unit}:rejected`;
  }
  items() {
    try {
      const items = JSON.parse(localStorage.getItem(this.key) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }
  save(items) { localStorage.setItem(this.key, JSON.stringify(items)); }
  get size() { return this.items().length; }
  add(item) { this.save([...this.items().filter((i) => i.key !== item.key), item]); }
  update(key, changes) { this.save(this.items().map((i) => (i.key === key ? { ...i, ...changes } : i))); }
  remove(key) { this.save(this.items().filter((i) => i.key !== key)); }
  /** Refused for good by the server (e.g. the dossier vanished): kept aside for the technician, never dropped. */
  reject(item, reason) {
    const rejected = JSON.parse(localStorage.getItem(this.rejectedKey) || "[]").slice(-49);
    rejected.push({ ...item, reason, rejected_at: new Date().toISOString() });
    localStorage.setItem(this.rejectedKey, JSON.stringify(rejected));
    this.remove(item.key);
  }
}
