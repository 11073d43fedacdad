import { api, me, signOut, $, showError, el } from './session.js';

function copyButton(label, text) {
  const b = el('button', { type: 'button', textContent: label, className: 'small' });
  b.dataset.copy = text;
  b.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(text); b.textContent = 'Copied'; }
    catch { window.prompt('Copy this link', text); }
    setTimeout(() => { b.textContent = label; }, 1500);
  });
  return b;
}

// titleCell links the title to the webinar's own page for those who manage it (they see
// the stream key); others get the plain title.
function titleCell(w) {
  if (!w.stream_key) return w.title;
  return el('a', { href: '/dashboard/' + encodeURIComponent(w.id), textContent: w.title, className: 'manage-link' });
}

const access = { public: 'public', link: 'join link', registration: 'registration' };

function row(w) {
  const links = el('td', { className: 'links' });
  links.append(el('a', { href: w.watch_url, textContent: 'Watch', className: 'watch-link', target: '_blank', rel: 'noopener' }), ' ',
    copyButton('Copy watch link', w.watch_url));
  if (w.studio_url) {
    links.append(' ', el('a', { href: w.studio_url, textContent: 'Studio', className: 'studio-link', target: '_blank', rel: 'noopener' }), ' ',
      copyButton('Copy studio link', w.studio_url));
  }
  const tr = el('tr', {},
    el('td', {}, titleCell(w)),
    el('td', { textContent: access[w.visibility] + (w.has_passcode ? ' + passcode' : '') }),
    el('td', { textContent: w.role || '' }),
    el('td', { textContent: w.live ? 'live · ' + w.viewers + ' watching' : 'offline' }),
    links);
  // On a phone the table becomes cards without a header row; each cell says what it is.
  ['', 'Access: ', 'Your role: ', 'State: ', ''].forEach((label, i) => { tr.cells[i].dataset.label = label; });
  tr.dataset.id = w.id;
  return tr;
}

const when = (t) => (!t || t.startsWith('0001-') ? '' : new Date(t).toLocaleString());

// rotateButton starts a new generation of the watch link: every link handed out before, and
// every passcode join, stops working, so it asks first.
function rotateButton(w) {
  const b = el('button', { type: 'button', textContent: 'Rotate link', className: 'small danger rotate-link' });
  b.addEventListener('click', async () => {
    if (!window.confirm('Rotate the watch link of "' + w.title + '"? Everyone holding the current link' +
      (w.has_passcode ? ' or who joined with the passcode' : '') + ' loses access until you send them the new one.')) return;
    showError('');
    try { await api('POST', '/api/webinars/' + encodeURIComponent(w.id) + '/link/rotate'); await load(); } catch (err) { showError(err); }
  });
  return b;
}

// registrations lists a registration webinar's registrations, each revocable after a confirm.
async function loadRegistrations(w, body) {
  const rs = await api('GET', '/api/webinars/' + encodeURIComponent(w.id) + '/registrations');
  body.replaceChildren(...rs.map((r) => {
    const revoked = !r.revoked_at.startsWith('0001-');
    const cell = el('td', { textContent: revoked ? 'revoked ' + when(r.revoked_at) : '' });
    if (!revoked) {
      const b = el('button', { type: 'button', textContent: 'Revoke', className: 'small danger revoke' });
      b.addEventListener('click', async () => {
        if (!window.confirm('Revoke the registration of ' + r.email + '? Their link stops working at once.')) return;
        showError('');
        try { await api('DELETE', '/api/webinars/' + encodeURIComponent(w.id) + '/registrations/' + encodeURIComponent(r.id)); await loadRegistrations(w, body); } catch (err) { showError(err); }
      });
      cell.append(b);
    }
    const tr = el('tr', {}, el('td', { textContent: r.name }), el('td', { textContent: r.email }), el('td', { textContent: when(r.created_at) }), cell);
    tr.dataset.id = r.id;
    return tr;
  }));
}

// manageRow holds what hosts and co-hosts (who see the stream key) may do to access.
function manageRow(w) {
  const td = el('td', { colSpan: 5 });
  if (w.visibility === 'link' || w.has_passcode) td.append(rotateButton(w));
  if (w.visibility === 'registration') {
    const body = el('tbody');
    const d = el('details', { className: 'registrations' }, el('summary', { textContent: 'Registrations' }),
      el('table', { className: 'list' }, el('thead', {}, el('tr', {}, ...['Name', 'Email', 'Registered', ''].map((h) => el('th', { textContent: h })))), body));
    d.addEventListener('toggle', async () => {
      if (!d.open) return;
      try { await loadRegistrations(w, body); } catch (err) { showError(err); }
    });
    td.append(d);
  }
  const tr = el('tr', { className: 'manage' }, td);
  tr.dataset.id = w.id;
  return td.childNodes.length ? [tr] : [];
}

async function load() {
  const list = await api('GET', '/api/webinars');
  $('webinars').tBodies[0].replaceChildren(...list.flatMap((w) => [row(w), ...(w.stream_key ? manageRow(w) : [])]));
}

document.addEventListener('DOMContentLoaded', async () => {
  const m = await me();
  $('who').textContent = m.user.email + (m.user.admin ? ' (admin)' : '');
  if (m.must_enrol_2fa) { location.assign('/account'); return; }
  $('signout').addEventListener('click', signOut);
  $('create').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    const body = { title: $('title').value, visibility: $('visibility').value, language: $('language').value || 'en' };
    if ($('passcode').value) body.passcode = $('passcode').value;
    if ($('starts').value) body.starts_at = new Date($('starts').value).toISOString();
    try {
      await api('POST', '/api/webinars', body);
      $('create').reset();
      await load();
    } catch (err) { showError(err); }
  });
  try { await load(); } catch (err) { showError(err); }
});
