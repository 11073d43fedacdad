// Signed-in pages' access to the JSON API: the CSRF token comes from /api/me and goes with
// every write; errors become Error objects carrying the server's message and status.

let csrf = '';

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  let data = null;
  if (res.status !== 204) { try { data = await res.json(); } catch { data = null; } }
  if (!res.ok) {
    const err = new Error((data && data.error) || (res.status + ' ' + res.statusText));
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

// me returns the signed-in account, or sends the browser to the sign-in page.
export async function me() {
  try {
    const m = await api('GET', '/api/me');
    csrf = m.csrf_token || '';
    return m;
  } catch (err) {
    if (err.status === 401) location.assign('/login?next=' + encodeURIComponent(location.pathname));
    throw err;
  }
}

export async function signOut() {
  try { await api('POST', '/api/logout'); } finally { location.assign('/login'); }
}

export const $ = (id) => document.getElementById(id);

export function showError(err) { $('error').textContent = err ? String(err.message || err) : ''; }

export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  e.append(...children);
  return e;
}
