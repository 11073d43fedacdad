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
  $('events-section').classList.toggle('hidden', m.must_enrol_2fa);
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

// What the account's security events mean to its owner.
const eventText = {
  'signin.success': 'Signed in',
  'signin.lockout': 'Too many wrong attempts from one address: that address is locked out for a while',
  'signin.throttled': 'Many wrong passwords from several addresses: sign-ins to your account are slowed down',
  '2fa.enabled': 'Two-factor sign-in turned on',
  '2fa.disabled': 'Two-factor sign-in turned off',
  '2fa.recovery_code_used': 'A recovery code was used',
  'sso.linked': 'Linked to single sign-on',
};

async function loadEvents() {
  const ev = await api('GET', '/api/account/events');
  $('events').tBodies[0].replaceChildren(...ev.map((e) => {
    const tr = el('tr', {}, el('td', { textContent: when(e.at) }), el('td', { textContent: eventText[e.action] || e.action }),
      el('td', { textContent: e.ip || '' }));
    tr.dataset.action = e.action;
    if (e.action === 'signin.lockout' || e.action === 'signin.throttled') tr.className = 'warning';
    return tr;
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
  if (!m.must_enrol_2fa) { try { await loadTokens(); await loadEvents(); } catch (err) { showError(err); } }
});
