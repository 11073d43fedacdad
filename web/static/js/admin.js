// The admin console: people (invite, disable, two-factor reset, admin role), the policy every
// webinar follows, the audit log, webhooks with their delivery log and the storage each
// webinar takes.
import { api, me, signOut, $, showError, el } from './session.js';

const never = (t) => !t || t.startsWith('0001-');
const when = (t) => (never(t) ? 'never' : new Date(t).toLocaleString());

// What each audit event means, in words; also the event filter's choices.
const eventText = {
  'user.created': 'Account added',
  'user.invited': 'Invite link made',
  'user.invite_accepted': 'Password chosen with an invite link',
  'user.disabled': 'Account disabled',
  'user.enabled': 'Account enabled',
  'user.admin_changed': 'Administrator role changed',
  '2fa.reset': 'Two-factor sign-in reset by an administrator',
  'policy.changed': 'Policy changed',
  'webhook.created': 'Webhook added',
  'webhook.deleted': 'Webhook deleted',
  'signin.success': 'Signed in',
  'signin.failure': 'Sign-in failed',
  'signin.lockout': 'Address locked out after wrong passwords',
  'signin.throttled': 'Sign-ins slowed after many wrong passwords',
  'signout': 'Signed out',
  'sso.signin': 'Signed in with single sign-on',
  'sso.linked': 'Linked to single sign-on',
  'sso.refused': 'Single sign-on refused',
  'password.changed': 'Password changed',
  '2fa.enabled': 'Two-factor sign-in turned on',
  '2fa.disabled': 'Two-factor sign-in turned off',
  '2fa.failure': 'Wrong two-factor code',
  '2fa.recovery_code_used': 'Recovery code used',
  '2fa.recovery_codes_regenerated': 'New recovery codes made',
  'token.created': 'API token created',
  'token.revoked': 'API token revoked',
  'session.revoked': 'Session ended',
  'webinar.role_changed': 'Webinar role changed',
  'webinar.settings_changed': 'Webinar settings changed',
  'webinar.stream_key_rotated': 'Stream key replaced',
  'webinar.link_rotated': 'Watch link replaced',
  'webinar.deleted': 'Webinar deleted',
  'webinar.export': 'Transcript downloaded',
  'webinar.join_token_revoked': 'Join link revoked',
  'webinar.registration_revoked': 'Registration revoked',
  'webinar.passcode_failure': 'Wrong webinar passcode',
};

let myID = '';
let users = [];
const webinarTitles = new Map();

// ask shows the confirmation dialog and resolves to {ok, reason}. The answer is the button
// that submitted the form (or Escape), not the dialog's later "close" event: that event is
// queued, and one arriving late would answer the next question too.
function ask({ title, text, yes, reason }) {
  const d = $('confirm-dialog');
  const form = $('confirm-form');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yes;
  $('confirm-reason-label').classList.toggle('hidden', !reason);
  $('confirm-reason').value = '';
  return new Promise((resolve) => {
    const answer = (ok) => {
      form.removeEventListener('submit', onSubmit);
      d.removeEventListener('cancel', onCancel);
      resolve({ ok, reason: $('confirm-reason').value.trim() });
    };
    const onSubmit = (e) => answer(e.submitter?.value === 'yes');
    const onCancel = () => answer(false);
    form.addEventListener('submit', onSubmit);
    d.addEventListener('cancel', onCancel);
    d.showModal();
    (reason ? $('confirm-reason') : $('confirm-no')).focus();
  });
}

// labelled names each cell after its column, for the narrow layout where rows become cards.
function labelled(table, tr) {
  const heads = [...$(table).tHead.rows[0].cells].map((th) => th.textContent);
  [...tr.cells].forEach((td, i) => { td.dataset.label = heads[i] || ''; });
  return tr;
}

const who = (u) => (u.display_name ? u.display_name + ' (' + u.email + ')' : u.email);

// userActions are the buttons of one row; destructive ones ask first.
function userActions(u) {
  const acts = [];
  const button = (action, label, cls, run) => {
    const b = el('button', { type: 'button', textContent: label, className: 'small ' + (cls || '') });
    b.dataset.action = action;
    b.addEventListener('click', async () => {
      showError('');
      try { await run(); await Promise.all([loadUsers(), loadAudit()]); } catch (err) { showError(err); }
    });
    acts.push(b);
  };
  const path = '/api/admin/users/' + encodeURIComponent(u.id);
  if (!u.disabled) {
    button('invite', 'New invite link', 'secondary', async () => {
      const res = await api('POST', path + '/invite');
      showInvite(u.email, res);
    });
  }
  if (u.disabled) {
    button('enable', 'Enable', '', () => api('POST', path + '/enable'));
  } else if (u.id !== myID) {
    button('disable', 'Disable', 'danger', async () => {
      const a = await ask({ title: 'Disable ' + who(u) + '?', reason: true, yes: 'Disable account',
        text: 'They are signed out everywhere at once, their API tokens stop working, and they cannot sign in until an administrator enables the account again.' });
      if (a.ok) await api('POST', path + '/disable', { reason: a.reason });
    });
  }
  if (u.totp_enabled) {
    button('reset-2fa', 'Reset two-factor', 'danger', async () => {
      const a = await ask({ title: 'Reset two-factor sign-in of ' + who(u) + '?', yes: 'Reset two-factor',
        text: 'Their authenticator app and recovery codes stop working; their password alone signs them in until they set two-factor up again. Do this only when you are sure it is them asking (a lost phone).' });
      if (a.ok) await api('POST', path + '/reset-2fa');
    });
  }
  if (u.admin) {
    button('unmake-admin', 'Remove administrator role', 'danger', async () => {
      const a = await ask({ title: 'Remove the administrator role of ' + who(u) + '?', yes: 'Remove role',
        text: u.id === myID ? 'You will no longer be able to open this page.' : 'They will no longer be able to open this page or change anyone\'s account.' });
      if (a.ok) await api('PUT', path + '/admin', { admin: false });
    });
  } else {
    button('make-admin', 'Make administrator', 'secondary', async () => {
      const a = await ask({ title: 'Make ' + who(u) + ' an administrator?', yes: 'Make administrator',
        text: 'They will be able to add and disable people, change the policy and read the audit log.' });
      if (a.ok) await api('PUT', path + '/admin', { admin: true });
    });
  }
  return acts;
}

function userRow(u) {
  const status = u.disabled
    ? el('span', { className: 'status-disabled', textContent: 'Disabled' + (u.disabled_reason ? ': ' + u.disabled_reason : '') })
    : el('span', { textContent: 'Active' });
  const tr = labelled('users', el('tr', {},
    el('td', {}, u.display_name || u.email, el('span', { className: 'sub', textContent: u.display_name ? u.email : '' })),
    el('td', {}, status),
    el('td', { textContent: u.totp_enabled ? 'On' : 'Off' }),
    el('td', { textContent: u.admin ? 'Administrator' : 'Host' }),
    el('td', { textContent: when(u.last_login_at) }),
    el('td', { className: 'actions' }, ...userActions(u))));
  tr.dataset.email = u.email;
  tr.dataset.id = u.id;
  if (u.disabled) tr.classList.add('disabled');
  return tr;
}

// fresh wraps a loader so that only the answer to its latest call is shown: two reloads in
// flight (one action's, then another's) may answer out of order, and the older must not win.
function fresh(load) {
  let seq = 0;
  return async (...args) => {
    const mine = ++seq;
    const data = await load(...args);
    return mine === seq ? data : null;
  };
}

const fetchUsers = fresh(() => api('GET', '/api/admin/users'));
const fetchAudit = fresh((q) => api('GET', '/api/admin/audit?' + q));

async function loadUsers() {
  const us = await fetchUsers();
  if (!us) return;
  users = us;
  $('users').tBodies[0].replaceChildren(...users.map(userRow));
  const sel = $('a-user');
  const chosen = sel.value;
  sel.replaceChildren(el('option', { value: '', textContent: 'Anyone' }),
    ...users.map((u) => el('option', { value: u.id, textContent: u.email })));
  sel.value = chosen;
}

function showInvite(email, res) {
  $('invite-text').textContent = 'Send this link to ' + email + '. With it they choose their password, once; it works until ' +
    new Date(res.expires_at).toLocaleString() + '.';
  $('invite-url').value = res.invite_url;
  $('invite-out').classList.remove('hidden');
  $('invite-url').select();
}

// copyFrom copies a read-only field's text and says so on its button for a moment.
async function copyFrom(inputID, button) {
  const input = $(inputID);
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy'); // no clipboard API on plain-HTTP origins other than localhost
  }
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = label; }, 2000);
}

// Policy: the form sends only the fields the server answered with, so it works with a server
// that knows fewer settings than the form shows (those are greyed out and named).
let policyFields = [];
let savedPolicy = {};
const policyNames = {
  chat: 'chat', qa: 'questions and answers', recording: 'recording', waiting_room_default: 'waiting room',
  passcode_required: 'passcode required', max_duration_minutes: 'longest webinar', allowed_regions: 'processing regions',
  retention_days: 'deleting old data', require_2fa: 'two-factor sign-in',
};

function policyInputs() { return [...document.querySelectorAll('#policy [data-field]')]; }

function showPolicy(p) {
  policyFields = Object.keys(p);
  savedPolicy = p;
  const missing = [];
  for (const input of policyInputs()) {
    const f = input.dataset.field;
    const known = f in p;
    input.disabled = !known;
    if (!known) { missing.push(policyNames[f] || f); continue; }
    if (input.type === 'checkbox') input.checked = !!p[f];
    else if (Array.isArray(p[f])) input.value = p[f].join(', ');
    else input.value = p[f];
  }
  $('p-free-plan').disabled = !('max_duration_minutes' in p);
  showRetention();
  $('policy-unsupported').textContent = missing.length ? 'This server does not support these settings yet: ' + missing.join('; ') + '.' : '';
  $('policy-unsupported').classList.toggle('hidden', !missing.length);
}

function readPolicy() {
  const out = {};
  for (const input of policyInputs()) {
    const f = input.dataset.field;
    if (!policyFields.includes(f)) continue;
    if (input.type === 'checkbox') out[f] = input.checked;
    else if (input.type === 'number') {
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 0) throw new Error((policyNames[f] || f) + ': enter a whole number, 0 or more');
      out[f] = n;
    } else if (f === 'allowed_regions') out[f] = input.value.split(',').map((r) => r.trim()).filter(Boolean);
    else out[f] = input.value;
  }
  return out;
}

async function loadPolicy() { showPolicy(await api('GET', '/api/admin/policy')); }

// retentionText says in plain words what a retention of n days deletes.
function retentionText(n) {
  return 'Once a day, the transcripts, chat, questions and recordings (files too) of every webinar with no activity for ' +
    n + (n === 1 ? ' day' : ' days') + ' are deleted for good. The webinars, their settings and their people stay.';
}

function showRetention() {
  const n = Number($('p-retention').value);
  const on = Number.isInteger(n) && n > 0;
  $('p-retention-warn').textContent = on ? retentionText(n) : '';
  $('p-retention-warn').classList.toggle('hidden', !on);
}

// keepsLess reports whether the new policy deletes data the saved one keeps: retention
// turned on, or shortened.
function keepsLess(next) {
  const was = savedPolicy.retention_days || 0;
  const now = next.retention_days || 0;
  return now > 0 && (was === 0 || now < was);
}

async function savePolicy(e) {
  e.preventDefault();
  showError('');
  $('policy-error').textContent = '';
  $('policy-state').textContent = '';
  try {
    const next = readPolicy();
    if (keepsLess(next)) {
      const a = await ask({ title: 'Delete data older than ' + next.retention_days + ' days?', yes: 'Save and delete old data',
        text: retentionText(next.retention_days) + ' The first deletion runs within a day and cannot be undone.' });
      if (!a.ok) return;
    }
    showPolicy(await api('PUT', '/api/admin/policy', next));
    $('policy-state').textContent = 'Saved at ' + new Date().toLocaleTimeString() + '.';
    await loadAudit();
  } catch (err) { $('policy-error').textContent = 'Not saved: ' + (err.message || err); }
}

// Audit log. Dates are the admin's local days: "to" includes the whole day.
const auditLimit = 200;

function auditQuery() {
  const q = new URLSearchParams({ limit: String(auditLimit) });
  if ($('a-action').value) q.set('action', $('a-action').value);
  if ($('a-user').value) q.set('user', $('a-user').value);
  if ($('a-since').value) q.set('since', new Date($('a-since').value + 'T00:00:00').toISOString());
  if ($('a-until').value) {
    const end = new Date($('a-until').value + 'T00:00:00');
    end.setDate(end.getDate() + 1);
    q.set('until', end.toISOString());
  }
  return q;
}

function nameOf(id) {
  if (!id) return '';
  if (id === 'cli') return 'command line';
  const u = users.find((x) => x.id === id);
  if (u) return u.email;
  return webinarTitles.has(id) ? 'webinar "' + webinarTitles.get(id) + '"' : id;
}

function detailText(d) {
  if (!d || typeof d !== 'object') return '';
  return Object.entries(d).map(([k, v]) => k.replaceAll('_', ' ') + ': ' + (typeof v === 'object' ? JSON.stringify(v) : v)).join(', ');
}

async function loadAudit() {
  const ev = await fetchAudit(auditQuery());
  if (!ev) return;
  if (!ev.length) {
    $('audit').tBodies[0].replaceChildren(el('tr', {}, el('td', { colSpan: 6, textContent: 'No events match.' })));
    $('audit-more').classList.add('hidden');
    return;
  }
  $('audit').tBodies[0].replaceChildren(...ev.map((e) => {
    const tr = labelled('audit', el('tr', {}, el('td', { textContent: when(e.at) }), el('td', { textContent: eventText[e.action] || e.action }),
      el('td', { textContent: e.actor_id ? nameOf(e.actor_id) : 'not signed in' }), el('td', { textContent: nameOf(e.target) }),
      el('td', { textContent: e.ip || '' }), el('td', { textContent: detailText(e.detail) })));
    tr.dataset.action = e.action;
    return tr;
  }));
  $('audit-more').classList.toggle('hidden', ev.length < auditLimit);
}

function bytes(n) {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

async function loadStorage() {
  const st = await api('GET', '/api/admin/storage');
  webinarTitles.clear();
  for (const w of st.webinars) webinarTitles.set(w.id, w.title);
  $('storage-total').textContent = 'In all: ' + bytes(st.total_bytes) + ' (database about ' + bytes(st.database_bytes) +
    ', recordings ' + bytes(st.recording_bytes) + ').';
  if (!st.webinars.length) {
    $('storage').tBodies[0].replaceChildren(el('tr', {}, el('td', { colSpan: 4, textContent: 'No webinars yet.' })));
    return;
  }
  $('storage').tBodies[0].replaceChildren(...st.webinars.map((w) => {
    const tr = el('tr', {}, el('td', { textContent: w.title }), el('td', { className: 'num', textContent: bytes(w.database_bytes) }),
      el('td', { className: 'num', textContent: bytes(w.recording_bytes) + (w.recordings ? ' (' + w.recordings + ')' : '') }),
      el('td', { className: 'num', textContent: bytes(w.total_bytes) }));
    tr.dataset.id = w.id;
    return tr;
  }));
}

// Webhooks: every endpoint (account-wide and per webinar), each with its delivery log.
const webhookEvents = {
  'webinar.started': 'goes live', 'webinar.ended': 'ends', 'recording.ready': 'recording ready',
  'transcript.ready': 'transcript ready', 'participant.joined': 'people join',
};

const fetchWebhooks = fresh(() => api('GET', '/api/admin/webhooks'));

function hostOf(u) {
  try { return new URL(u).host; } catch { return u; }
}

function webhookRow(h) {
  const path = '/api/admin/webhooks/' + encodeURIComponent(h.id);
  const log = el('button', { type: 'button', textContent: 'Delivery log', className: 'small secondary' });
  log.dataset.action = 'log';
  log.addEventListener('click', () => act(() => showDeliveries(h)));
  const del = el('button', { type: 'button', textContent: 'Delete', className: 'small danger' });
  del.dataset.action = 'delete';
  del.addEventListener('click', () => act(async () => {
    const a = await ask({ title: 'Delete the webhook to ' + hostOf(h.url) + '?', yes: 'Delete webhook',
      text: 'Lectern stops telling ' + hostOf(h.url) + ' about new events at once, and its delivery log is deleted.' });
    if (!a.ok) return;
    await api('DELETE', path);
    if ($('wh-log').dataset.id === h.id) $('wh-log').classList.add('hidden');
    await Promise.all([loadWebhooks(), loadAudit()]);
  }));
  const scope = h.webinar_id ? 'webinar "' + (webinarTitles.get(h.webinar_id) || h.webinar_id) + '"' : 'every webinar';
  const tr = labelled('webhooks', el('tr', {},
    el('td', {}, hostOf(h.url), el('span', { className: 'sub', textContent: h.description || '' })),
    el('td', { textContent: scope }),
    el('td', { textContent: h.events.map((e) => webhookEvents[e] || e).join(', ') }),
    el('td', { textContent: h.format === 'slack' ? 'chat message' : 'signed JSON' }),
    el('td', { textContent: when(h.created_at) }),
    el('td', { className: 'actions' }, log, del)));
  tr.dataset.id = h.id;
  return tr;
}

// act runs a button's action and shows what went wrong next to the webhooks.
async function act(run) {
  $('wh-error').textContent = '';
  try { await run(); } catch (err) { $('wh-error').textContent = String(err.message || err); }
}

async function loadWebhooks() {
  const hs = await fetchWebhooks();
  if (!hs) return;
  $('webhooks').tBodies[0].replaceChildren(...(hs.length ? hs.map(webhookRow)
    : [el('tr', {}, el('td', { colSpan: 6, textContent: 'No webhooks yet.' }))]));
}

async function showDeliveries(h) {
  const ds = await api('GET', '/api/admin/webhooks/' + encodeURIComponent(h.id) + '/deliveries?limit=100');
  $('wh-log').dataset.id = h.id;
  $('wh-log-title').textContent = 'Deliveries to ' + hostOf(h.url) + ', newest first';
  $('deliveries').tBodies[0].replaceChildren(...(ds.length ? ds.map((d) => {
    const ok = d.status >= 200 && d.status < 300;
    const tr = labelled('deliveries', el('tr', {}, el('td', { textContent: when(d.at) }),
      el('td', { textContent: d.event_type }),
      el('td', { textContent: d.status ? String(d.status) + (ok ? ' (delivered)' : '') : 'no answer', className: ok ? '' : 'failed' }),
      el('td', { textContent: String(d.attempt) }), el('td', { textContent: d.error || '' })));
    tr.dataset.event = d.event_type;
    tr.dataset.status = String(d.status);
    return tr;
  }) : [el('tr', {}, el('td', { colSpan: 5, textContent: 'Nothing sent yet.' }))]));
  $('wh-log').classList.remove('hidden');
}

async function addWebhook(e) {
  e.preventDefault();
  await act(async () => {
    const events = [...document.querySelectorAll('#wh-events input:checked')].map((c) => c.value);
    if (!events.length) throw new Error('Choose at least one event to send.');
    const res = await api('POST', '/api/admin/webhooks', { url: $('wh-url').value.trim(), events,
      format: $('wh-format').value, description: $('wh-desc').value.trim() });
    $('wh-secret').value = res.secret;
    $('wh-secret-out').classList.remove('hidden');
    $('wh-secret').select();
    $('add-webhook').reset();
    await Promise.all([loadWebhooks(), loadAudit()]);
  });
}

async function addUser(e) {
  e.preventDefault();
  showError('');
  try {
    const email = $('new-email').value.trim();
    const res = await api('POST', '/api/admin/users', { email, name: $('new-name').value.trim(), role: $('new-role').value });
    showInvite(email, res);
    $('add-user').reset();
    await Promise.all([loadUsers(), loadAudit()]);
  } catch (err) { showError(err); }
}

document.addEventListener('DOMContentLoaded', async () => {
  const m = await me();
  myID = m.user.id;
  $('who').textContent = m.user.email;
  $('signout').addEventListener('click', signOut);
  if (!m.user.admin) {
    $('not-admin').classList.remove('hidden');
    document.body.dataset.ready = '1';
    return;
  }
  for (const [action, text] of Object.entries(eventText)) $('a-action').append(el('option', { value: action, textContent: text }));
  $('add-user').addEventListener('submit', addUser);
  $('copy-invite').addEventListener('click', (e) => copyFrom('invite-url', e.currentTarget));
  $('copy-secret').addEventListener('click', (e) => copyFrom('wh-secret', e.currentTarget));
  $('policy').addEventListener('submit', savePolicy);
  $('p-free-plan').addEventListener('click', () => { $('p-duration').value = '40'; });
  $('p-retention').addEventListener('input', showRetention);
  $('add-webhook').addEventListener('submit', addWebhook);
  $('audit-filter').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    try { await loadAudit(); } catch (err) { showError(err); }
  });
  $('console').classList.remove('hidden');
  try {
    await Promise.all([loadUsers(), loadStorage(), loadPolicy()]);
    await Promise.all([loadAudit(), loadWebhooks()]);
  } catch (err) { showError(err); }
  document.body.dataset.ready = '1';
});
