// The date range: presets, inclusive date inputs, and the URL hash that makes a view (range,
// filters, goals) shareable.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A preset ('1', '7', '30', '90' days) as an API range: [from, to) in UTC. */
export function presetRange(preset, now = Date.now()) {
  if (preset === '1') {
    const to = Math.ceil(now / HOUR) * HOUR;
    return { from: new Date(to - DAY), to: new Date(to) };
  }
  const days = Number(preset);
  const tomorrow = Math.floor(now / DAY) * DAY + DAY;
  return { from: new Date(tomorrow - days * DAY), to: new Date(tomorrow) };
}

/** Inclusive date inputs (YYYY-MM-DD) as an API range, or null when they make no range. */
export function datesRange(fromDay, toDay) {
  const from = Date.parse(`${fromDay}T00:00:00Z`);
  const to = Date.parse(`${toDay}T00:00:00Z`) + DAY;
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) return null;
  return { from: new Date(from), to: new Date(to) };
}

/** The inclusive days shown in the date inputs for a range. */
export function rangeDays(range) {
  return { from: isoDay(range.from.getTime()), to: isoDay(range.to.getTime() - 1) };
}

export function autoInterval(range) {
  return range.to.getTime() - range.from.getTime() <= 3 * DAY ? 'hour' : 'day';
}

export function spanDays(range) {
  return (range.to.getTime() - range.from.getTime()) / DAY;
}

/** The view in the URL hash; `filter` and `goal` repeat, every other key is one value. */
export function readHash() {
  const search = new URLSearchParams(location.hash.slice(1));
  return { ...Object.fromEntries(search), filter: search.getAll('filter'), goal: search.getAll('goal') };
}

export function writeHash(state) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) {
    if (Array.isArray(v)) for (const item of v) search.append(k, item);
    else if (v) search.set(k, v);
  }
  history.replaceState(null, '', `#${search}`);
}
