// Filters ("country is DE"), goals and how values read: both live in the URL hash, so a
// filtered view is a link to share. A filter is `dimension:value`, as the API takes it.

const countryNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** The column a value of each panel filters on, and how the chip names it. */
export const DIMENSION_LABELS = {
  page_path: 'Page',
  referrer_host: 'Source',
  country: 'Country',
  browser: 'Browser',
  os: 'OS',
  device: 'Device',
  event: 'Event',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
};

/** A country code as its English name ("DE" → "Germany"); anything else as it is. */
function countryName(code) {
  if (!/^[A-Z]{2}$/.test(code)) return code;
  try {
    return countryNames.of(code) ?? code;
  } catch {
    return code;
  }
}

/** How a value of `dimension` reads on screen. */
export function displayValue(dimension, value) {
  return dimension === 'country' ? countryName(value) : value;
}

export function parseFilter(text) {
  const colon = text.indexOf(':');
  const dimension = text.slice(0, colon);
  const value = text.slice(colon + 1);
  return colon > 0 && dimension in DIMENSION_LABELS && value ? { dimension, value } : null;
}

export function filterParam(filter) {
  return `${filter.dimension}:${filter.value}`;
}

/** A goal typed by the user: a path ("/pricing") is a page, anything else an event name. */
export function parseGoal(text) {
  const t = text.trim();
  if (!t) return null;
  if (t.startsWith('page:')) return t.length > 5 ? { page: t.slice(5) } : null;
  if (t.startsWith('event:')) return t.length > 6 ? { event: t.slice(6) } : null;
  return t.startsWith('/') ? { page: t } : { event: t };
}

export function goalParam(goal) {
  return 'page' in goal ? `page:${goal.page}` : `event:${goal.event}`;
}
