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
    el('td', { textContent: w.title }),
    el('td', { textContent: access[w.visibility] + (w.has_passcode ? ' + passcode' : '') }),
    el('td', { textContent: w.role || '' }),
    el('td', { textContent: w.live ? 'live · ' + w.viewers + ' watching' : 'offline' }),
    links);
  tr.dataset.id = w.id;
  return tr;
}

async function load() {
  const list = await api('GET', '/api/webinars');
  $('webinars').tBodies[0].replaceChildren(...list.map(row));
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
