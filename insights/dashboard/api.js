// Calls to the insights API with the current project's read key.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET a JSON answer; `params` values may be arrays (repeated parameters such as step). */
export async function getJson(path, params, key, signal) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(name, String(v));
  }
  const url = search.size > 0 ? `${path}?${search}` : path;
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = body?.error ?? {};
    throw new ApiError(res.status, error.code ?? 'http_error', error.message ?? `HTTP ${res.status}`);
  }
  return body;
}
