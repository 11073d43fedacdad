// The console's room switches: waiting room, lock, who may chat, Q&A. Each change is one
// PATCH /api/webinars/{id}; a refusal (a policy stricter than the host's wish, a lost
// session) puts the switch back and says why.
import { api, $ } from './session.js';

const fields = [
  { id: 'set-waiting', name: 'waiting_room', prop: 'checked' },
  { id: 'set-locked', name: 'locked', prop: 'checked' },
  { id: 'set-chat', name: 'chat', prop: 'value' },
  { id: 'set-qa', name: 'qa', prop: 'checked' },
];

// bindSettings shows w's switches and sends their changes; apply(s) shows newer ones (the
// channel's "settings" event, a fresh GET) unless a change of this page is on its way.
export function bindSettings(base, w) {
  let pending = 0;
  const shown = {};
  const apply = (s, force) => {
    if (pending && !force) return;
    for (const f of fields) {
      if (!(f.name in s)) continue;
      shown[f.name] = s[f.name];
      $(f.id)[f.prop] = s[f.name];
    }
  };
  for (const f of fields) {
    $(f.id).addEventListener('change', async () => {
      const input = $(f.id);
      $('room-error').textContent = '';
      pending++;
      input.disabled = true;
      try {
        apply(await api('PATCH', base, { [f.name]: input[f.prop] }), true);
      } catch (err) {
        if (f.name in shown) input[f.prop] = shown[f.name];
        $('room-error').textContent = 'Could not change the setting: ' + err.message;
      } finally {
        pending--;
        input.disabled = false;
      }
    });
  }
  apply(w, true);
  return { apply: (s) => apply(s, false) };
}
