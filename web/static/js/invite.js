// The invite link's page: the person an admin added chooses their password, once. The link's
// secret is in the URL fragment, which the browser never sends to the server; it goes in a
// POST body and is then taken off the address bar and out of the history.
import { api, $, showError } from './session.js';

function dead(message) {
  $('checking').classList.add('hidden');
  $('password-form').classList.add('hidden');
  $('dead-text').textContent = message;
  $('dead').classList.remove('hidden');
}

document.addEventListener('DOMContentLoaded', async () => {
  const token = location.hash.slice(1);
  history.replaceState(null, '', location.pathname);
  if (!token) {
    dead('This page needs the whole invite link. Open the link exactly as you received it, or ask your admin for a new one.');
    document.body.dataset.ready = '1';
    return;
  }
  try {
    const inv = await api('POST', '/api/invite', { token });
    $('for').textContent = 'For ' + (inv.name ? inv.name + ', ' : '') + inv.email + '. This link works once, until ' +
      new Date(inv.expires_at).toLocaleString() + '.';
    $('email').value = inv.email;
    $('checking').classList.add('hidden');
    $('password-form').classList.remove('hidden');
    $('password').focus();
  } catch (err) {
    if (err.status === 404) dead(err.message.charAt(0).toUpperCase() + err.message.slice(1) + '.');
    else { $('checking').classList.add('hidden'); showError(err); }
  }
  $('password-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    if ($('password').value !== $('password2').value) {
      showError('The two passwords are not the same.');
      return;
    }
    $('set-password').disabled = true;
    try {
      await api('POST', '/api/invite/accept', { token, password: $('password').value });
      $('password-form').classList.add('hidden');
      $('done').classList.remove('hidden');
    } catch (err) {
      if (err.status === 404) dead(err.message.charAt(0).toUpperCase() + err.message.slice(1) + '.');
      else showError(err);
    } finally {
      $('set-password').disabled = false;
    }
  });
  document.body.dataset.ready = '1';
});
