// The console's only way to the server: the public HTTP API with the signed-in token.
// The token lives in sessionStorage, so it is gone when the tab closes.

const KEY = 'kinerja.token';

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

/** An error answer of the API: status, machine code and the server's sentence. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the API. `body` is sent as JSON, unless `opts.raw` is given (bytes, with
 * `opts.type` as Content-Type). Answers the parsed JSON, or null for 204.
 */
export async function api(method, path, body, opts = {}) {
  const headers = {};
  const t = token();
  if (t) headers['Authorization'] = `Bearer ${t}`;
  let payload;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['Content-Type'] = opts.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError(0, 'network', `Server tidak terjangkau (network error): ${e.message}`);
  }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const err = data && data.error ? data.error : { code: 'http_' + resp.status, message: text || resp.statusText };
    throw new ApiError(resp.status, err.code, err.message);
  }
  if (resp.status === 201 || resp.status === 200) return data;
  return data;
}

/** Follows `next` cursors until the list ends or `max` items were read. */
export async function all(path, max = 5000) {
  const items = [];
  let cursor = null;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=1000${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`;
    const page = await api('GET', url);
    items.push(...page.items);
    cursor = page.next;
    if (!cursor || items.length >= max) return items;
  }
}

export const enc = encodeURIComponent;
