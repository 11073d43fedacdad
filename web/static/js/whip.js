// WHIP/WHEP client shared by the studio and the watch page: one POST with a complete offer
// (all ICE candidates gathered), a 201 with the answer and the session's Location.

const gatherTimeoutMs = 2000;

function iceGathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener('icegatheringstatechange', check); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    pc.addEventListener('icegatheringstatechange', check);
    // Loopback and LAN candidates arrive at once; don't wait for a STUN server that isn't there.
    setTimeout(done, gatherTimeoutMs);
  });
}

// PublishError is a WHIP/WHEP request that did not give a session. status 0: no answer at
// all (serverDown). retryable: trying again later may work (server down, overloaded,
// restarting); otherwise the request itself was refused (wrong key, no such webinar).
export class PublishError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
    this.serverDown = status === 0;
    this.retryable = status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
  }
}

// negotiate sends pc's offer to url and applies the answer; it returns the session's URL.
// extra headers carry a signed-in panelist's CSRF token when there is no stream key.
export async function negotiate(pc, url, token, extra) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc);
  const headers = { 'Content-Type': 'application/sdp', ...(extra || {}) };
  if (token) headers.Authorization = 'Bearer ' + token;
  performance.mark('lectern:offer-sent');
  let res;
  try {
    res = await fetch(url, { method: 'POST', headers, body: pc.localDescription.sdp });
  } catch {
    // fetch says only "Failed to fetch": the server is down, restarting or unreachable.
    throw new PublishError('The server cannot be reached.', 0);
  }
  if (res.status !== 201) {
    let msg = res.status + ' ' + res.statusText;
    try { msg = (await res.json()).error || msg; } catch { /* not JSON */ }
    throw new PublishError(msg, res.status);
  }
  const sessionURL = new URL(res.headers.get('Location'), new URL(url, window.location.href)).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return sessionURL;
}

// hangUp ends a session on the server; failures are ignored because the peer connection is
// closed anyway and the server notices on its own.
export function hangUp(location, token, extra) {
  if (!location) return;
  const headers = { ...(extra || {}) };
  if (token) headers.Authorization = 'Bearer ' + token;
  fetch(location, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
}

export function webinarId() {
  return decodeURIComponent(location.pathname.split('/')[2] || '');
}

// joinToken is the signed attendee token of a private webinar's join link (?t=), or ''.
export function joinToken() {
  return new URLSearchParams(location.search).get('t') || '';
}

export async function webinarInfo(id, token) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  let res;
  try {
    res = await fetch('/api/webinars/' + encodeURIComponent(id), { headers });
  } catch {
    const err = new Error('The server cannot be reached.');
    err.status = 0;
    throw err;
  }
  if (!res.ok) {
    let data = {};
    try { data = await res.json(); } catch { /* not JSON */ }
    const err = new Error(res.status === 404 ? 'No such webinar.'
      : res.status === 401 || res.status === 403 ? 'This webinar needs a join link.' : 'Could not load the webinar.');
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return res.json();
}
