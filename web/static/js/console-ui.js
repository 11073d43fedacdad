// Small pieces the studio's host console panels share: the confirmation dialog every
// destructive action goes through, and how times and roles read.
import { $, el } from './session.js';

// confirmAction asks in the page's <dialog id="confirm"> and resolves true only when the
// red button is pressed; Escape, Cancel or a second question resolve false. A <dialog> and
// not window.confirm: it is styled like the page and does not freeze the live panels behind it.
let pending = null;

export function confirmAction(text, okLabel) {
  const dlg = $('confirm');
  if (pending) pending(false);
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    const finish = (yes) => {
      if (pending !== finish) return;
      pending = null;
      $('confirm-ok').onclick = null;
      $('confirm-cancel').onclick = null;
      dlg.onclose = null;
      if (dlg.open) dlg.close();
      resolve(yes);
    };
    pending = finish;
    $('confirm-ok').onclick = () => finish(true);
    $('confirm-cancel').onclick = () => finish(false);
    dlg.onclose = () => finish(false);
    dlg.showModal();
    $('confirm-cancel').focus();
  });
}

// clock is a time of day in the viewer's locale, hours and minutes.
export function clock(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

const roleNames = { host: 'host', cohost: 'co-host', panelist: 'panelist', attendee: 'attendee' };
export const roleName = (r) => roleNames[r] || r || '';

// button makes a small button; kind "danger" looks destructive.
export function button(label, kind, onClick) {
  const b = el('button', { type: 'button', className: 'small' + (kind ? ' ' + kind : ''), textContent: label });
  b.addEventListener('click', onClick);
  return b;
}

// busy disables b while the promise of fn runs, so a double click does not act twice.
export async function busy(b, fn) {
  b.disabled = true;
  try { return await fn(); } finally { b.disabled = false; }
}

// empty shows a muted placeholder line in an empty list.
export function placeholder(list, text) {
  if (!list.children.length) list.append(el('li', { className: 'muted empty', textContent: text }));
}
