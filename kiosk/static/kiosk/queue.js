/**
 * queue.js — ratings the kiosk has not yet seen acknowledged, kept in localStorage until the server
 * answers. Each carries its idempotency key and the device that took it (`device_id`), so a resend after a lost
 * answer is stored only once, even when the kiosk was paired again as a new device meanwhile (the queue is the
 * unit's and is kept).
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

const MAX_REJECTED = 50;

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
  /** Best effort: with browser storage full or disabled the send goes on; only ``add`` reports failure. */
  saveQuietly(items) {
    try {
      this.save(items);
    } catch {
      /* nothing kept to update */
    }
  }
  get size() { return this.items().length; }
  /** Throws when the browser cannot store it (storage full or disabled). */
  add(item) { this.save([...this.items().filter((i) => i.key !== item.key), item]); }
  update(key, changes) { this.saveQuietly(this.items().map((i) => (i.key === key ? { ...i, ...changes } : i))); }
  remove(key) { this.saveQuietly(this.items().filter((i) => i.key !== key)); }
  rejected() {
    try {
      const items = JSON.parse(localStorage.getItem(this.rejectedKey) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }
  /** How many refused ratings wait for a technician (reported to the console by the heartbeat). */
  get rejectedCount() { return this.rejected().length; }
  /** Refused for good by the server (e.g. a wrong code typed offline): kept aside for the technician, never dropped. */
  reject(item, reason) {
    const rejected = this.rejected().slice(-(MAX_REJECTED - 1));
    rejected.push({ ...item, reason, rejected_at: new Date().toISOString() });
    try {
      localStorage.setItem(this.rejectedKey, JSON.stringify(rejected));
    } catch {
      /* storage full: the server's refusal was shown on the kiosk */
    }
    this.remove(item.key);
  }
}
