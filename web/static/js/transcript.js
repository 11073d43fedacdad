// The cue editor (/dashboard/{id}/transcripts/{vid}): a host corrects a transcript version's
// text and speakers, or deletes cues, and saves the result as a new version
// (POST /api/webinars/{id}/transcripts); the version edited stays as it was. Cue times are
// shown, not edited, so the saved cues keep the order and timing the server checks.
import { api, me, $, showError, el } from './session.js';

const [, , id, , vid] = location.pathname.split('/').map(decodeURIComponent);
const base = '/api/webinars/' + encodeURIComponent(id);
const page = '/dashboard/' + encodeURIComponent(id);

let cues = []; // [{start_ms, end_ms, text, speaker, original, deleted}]

// clock shows a time on the transcript as mm:ss.s (h:mm:ss.s past an hour).
function clock(ms) {
  const tenths = Math.floor(ms / 100);
  const s = Math.floor(tenths / 10);
  const pad = (n) => String(n).padStart(2, '0');
  const sec = pad(s % 60) + '.' + (tenths % 10);
  const h = Math.floor(s / 3600);
  return h > 0 ? h + ':' + pad(Math.floor(s / 60) % 60) + ':' + sec : pad(Math.floor(s / 60)) + ':' + sec;
}

const changed = (c) => c.deleted || c.text !== c.original.text || c.speaker !== c.original.speaker;
const dirty = () => cues.some(changed);

function showChanges() {
  const edited = cues.filter((c) => !c.deleted && changed(c)).length;
  const deleted = cues.filter((c) => c.deleted).length;
  const parts = [];
  if (edited) parts.push(edited + (edited === 1 ? ' cue changed' : ' cues changed'));
  if (deleted) parts.push(deleted + (deleted === 1 ? ' cue deleted' : ' cues deleted'));
  $('changes').textContent = parts.length ? parts.join(', ') + ', not saved yet.' : 'No changes.';
  $('save').disabled = parts.length === 0;
}

function cueItem(c, i) {
  const label = 'cue ' + (i + 1) + ' at ' + clock(c.start_ms);
  const text = el('textarea', { value: c.text, className: 'cue-text', maxLength: 2000, rows: 2 });
  text.setAttribute('aria-label', 'Text of ' + label);
  const speaker = el('input', { type: 'text', value: c.speaker, className: 'cue-speaker', maxLength: 80, placeholder: 'Speaker (optional)' });
  speaker.setAttribute('aria-label', 'Speaker of ' + label);
  const del = el('button', { type: 'button', className: 'small danger delete-cue', textContent: 'Delete' });
  del.setAttribute('aria-label', 'Delete ' + label);
  const li = el('li', {}, el('span', { className: 'cue-time', textContent: clock(c.start_ms) + ' – ' + clock(c.end_ms) }),
    el('div', { className: 'cue-fields' }, text, speaker), del);
  const update = () => { li.classList.toggle('changed', changed(c)); showChanges(); };
  text.addEventListener('input', () => { c.text = text.value; update(); });
  speaker.addEventListener('input', () => { c.speaker = speaker.value.replace(/[\r\n]/g, ' '); update(); });
  del.addEventListener('click', () => {
    const words = c.text.trim() || '(empty)';
    if (!window.confirm('Delete cue ' + (i + 1) + ' (' + clock(c.start_ms) + '): "' + words.slice(0, 80) + '"? It is left out of the version you save.')) return;
    c.deleted = true;
    li.remove();
    showChanges();
  });
  li.dataset.index = String(i);
  return li;
}

// body is the POST: the cues kept, text trimmed; an empty text is refused here with the
// cue's time rather than as a server error about its number.
function body() {
  const kept = cues.filter((c) => !c.deleted);
  const empty = kept.find((c) => c.text.trim() === '');
  if (empty) throw new Error('The cue at ' + clock(empty.start_ms) + ' has no text: write some, or delete the cue.');
  if (kept.length === 0) throw new Error('Every cue is deleted: a version needs at least one.');
  return { base: vid, cues: kept.map((c) => ({ start_ms: c.start_ms, end_ms: c.end_ms, text: c.text.trim(), speaker: c.speaker.trim() })) };
}

async function save() {
  showError('');
  $('save').disabled = true;
  try {
    const v = await api('POST', base + '/transcripts', body());
    cues = []; // saved: leaving is safe now
    location.assign(page + '?saved=' + encodeURIComponent(v.id) + '#transcripts-section');
  } catch (err) {
    showError(err);
    showChanges();
  }
}

// startingFrom names the version edited as the webinar's page does.
function startingFrom(list) {
  const v = list.versions.find((o) => o.id === vid);
  if (!v || v.kind === 'live') return 'Starting from the live captions';
  const made = new Date(v.created_at).toLocaleString();
  return v.kind === 'retranscription' ? 'Starting from the recording transcribed again by ' + v.engine + ', made ' + made : 'Starting from the corrected version made ' + made;
}

async function load() {
  const [w, list, version] = await Promise.all([api('GET', base), api('GET', base + '/transcripts'), api('GET', base + '/transcripts/' + encodeURIComponent(vid))]);
  document.title = 'Edit transcript: ' + w.title + ' · Lectern';
  $('editor-title').textContent = 'Edit transcript: ' + w.title;
  $('about').textContent = startingFrom(list) + ', ' + version.cues.length + (version.cues.length === 1 ? ' cue.' : ' cues.');
  cues = version.cues.map((c) => {
    const original = { text: c.text, speaker: c.speaker || '' };
    return { start_ms: c.start_ms, end_ms: c.end_ms, text: original.text, speaker: original.speaker, original, deleted: false };
  });
  $('cues').replaceChildren(...cues.map(cueItem));
  showChanges();
}

document.addEventListener('DOMContentLoaded', async () => {
  $('back').href = page + '#transcripts-section';
  $('save').addEventListener('click', save);
  // Leaving with unsaved corrections asks first (the browser words the question).
  window.addEventListener('beforeunload', (e) => {
    if (!dirty()) return;
    e.preventDefault();
    e.returnValue = '';
  });
  try {
    const m = await me();
    if (m.must_enrol_2fa) { location.assign('/account'); return; }
    $('who').textContent = m.user.email + (m.user.admin ? ' (admin)' : '');
    await load();
    document.body.dataset.ready = '1';
  } catch (err) {
    showError(err);
  }
});
