/** When something happened, as the operator says it: empty for now, "HH:MM" (UTC, today or the day before), "15m ago", or an ISO time. */
export function parseWhen(text: string, now: Date): Date | undefined {
  const t = text.trim();
  if (t === '' || t === 'now') return now;
  const ago = /^(\d+)\s*(m|min|h)\s*ago$/i.exec(t);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * (ago[2]!.toLowerCase() === 'h' ? 3_600_000 : 60_000));
  const hm = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (hm) {
    const h = Number(hm[1]);
    const m = Number(hm[2]);
    if (h > 23 || m > 59) return undefined;
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m));
    // A time later than now means yesterday: milestones are in the past.
    return d.getTime() > now.getTime() ? new Date(d.getTime() - 86_400_000) : d;
  }
  const iso = Date.parse(t);
  if (!Number.isNaN(iso) && /\d{4}-\d{2}-\d{2}/.test(t)) return iso > now.getTime() ? undefined : new Date(iso);
  return undefined;
}
