import { api, me, signOut, $, showError, el } from './session.js';

const when = (t) => (!t || t.startsWith('0001-') ? 'never' : new Date(t).toLocaleString());

function show2FA(m) {
  const on = m.user.totp_enabled;
  $('twofa-state').textContent = on
    ? 'On. ' + m.recovery_codes_left + ' recovery codes left.'
    : 'Off: a password alone signs you in.';
  $('enrol').classList.toggle('hidden', on);
  $('disable').classList.toggle('hidden', !on);
  $('must-enrol').classList.toggle('hidden', !m.must_enrol_2fa);
  $('tokens-section').classList.toggle('hidden', m.must_enrol_2fa);
}

async function loadTokens() {
  const ts = await api('GET', '/api/account/tokens');
  $('tokens').tBodies[0].replaceChildren(...ts.filter((t) => t.revoked_at.startsWith('0001-')).map((t) => {
    const b = el('button', { type: 'button', textContent: 'Revoke', className: 'small' });
    b.addEventListener('click', async () => {
      try { await api('DELETE', '/api/account/tokens/' + encodeURIComponent(t.id)); await loadTokens(); } catch (err) { showError(err); }
    });
    return el('tr', {}, el('td', { textContent: t.name }), el('td', { textContent: when(t.created_at) }),
      el('td', { textContent: when(t.last_used_at) }), el('td', {}, b));
  }));
}

document.addEventListener('DOMContentLoaded', async () => {
  let m = await me();
  $('who').textContent = m.user.email;
  $('signout').addEventListener('click', signOut);
  show2FA(m);
  $('enrol').addEventListener('click', async () => {
    showError('');
    try {
      const en = await api('POST', '/api/account/totp');
      $('qr').src = en.qr;
      $('secret').textContent = en.secret;
      $('enrol-step').classList.remove('hidden');
      $('enrol').classList.add('hidden');
    } catch (err) { showError(err); }
  });
  $('confirm').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    try {
      const res = await api('POST', '/api/account/totp/confirm', { code: $('confirm-code').value.trim() });
      $('codes').replaceChildren(...res.recovery_codes.map((c) => el('li', { textContent: c })));
      $('enrol-step').classList.add('hidden');
      $('codes-step').classList.remove('hidden');
      m = await me();
      show2FA(m);
      await loadTokens();
    } catch (err) { showError(err); }
  });
  $('disable').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    const v = $('disable-secret').value.trim();
    const body = /^\d{6}$/.test(v) || /^[0-9a-z]{4}-[0-9a-z]{4}$/i.test(v) ? { code: v } : { password: v };
    try {
      await api('DELETE', '/api/account/totp', body);
      $('disable').reset();
      m = await me();
      show2FA(m);
    } catch (err) { showError(err); }
  });
  $('new-token').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    try {
      const t = await api('POST', '/api/account/tokens', { name: $('token-name').value });
      $('token-value').textContent = t.token;
      $('new-token-out').classList.remove('hidden');
      $('new-token').reset();
      await loadTokens();
    } catch (err) { showError(err); }
  });
  if (!m.must_enrol_2fa) { try { await loadTokens(); } catch (err) { showError(err); } }
});
