import { api, $, showError } from './session.js';

// next is where to go after signing in: ?next= when it names a page of this site, else the
// dashboard. The URL parser decides: browsers read a backslash as a slash and drop tabs, so
// "/\evil.example" and "/<TAB>/evil.example" are "//evil.example", another origin.
function next() {
  const n = new URLSearchParams(location.search).get('next') || '';
  if (!n.startsWith('/') || n.startsWith('//') || n.startsWith('/\\')) return '/dashboard';
  let u;
  try { u = new URL(n, location.origin); } catch { return '/dashboard'; }
  // The parsed href, not the raw string, is what the browser is sent to.
  return u.origin === location.origin ? u.href : '/dashboard';
}

function explain(err) {
  if (err.status === 429) return new Error('Too many attempts. Wait a minute and try again.');
  return err;
}

document.addEventListener('DOMContentLoaded', async () => {
  $('password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    try {
      const res = await api('POST', '/api/login', { email: $('email').value, password: $('password').value });
      if (res.mfa_required) {
        $('password-form').classList.add('hidden');
        $('code-form').classList.remove('hidden');
        $('code').focus();
        return;
      }
      location.assign(next());
    } catch (err) { showError(explain(err)); }
  });
  $('code-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    try {
      await api('POST', '/api/login/totp', { code: $('code').value.trim() });
      location.assign(next());
    } catch (err) { showError(explain(err)); }
  });
  if (new URLSearchParams(location.search).get('mfa') === '1') { // back from single sign-on, TOTP owed
    $('password-form').classList.add('hidden');
    $('code-form').classList.remove('hidden');
  }
  document.body.dataset.ready = '1';
  try {
    const opts = await api('GET', '/api/login');
    if (opts.sso) $('sso').classList.remove('hidden');
    if (opts.sso_only) $('password-form').querySelector('h2').textContent = 'Admin sign-in';
  } catch { /* the form still works */ }
});
