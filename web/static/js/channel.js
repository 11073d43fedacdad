// The room's live channel (GET /api/webinars/{id}/channel, SSE) for every page: one
// EventSource per page, handlers by event type. The browser reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed; this adds what EventSource cannot
// tell: why the server refused (403 waiting, 410 ended, 401 removed token) and a backoff
// when the stream closed for good.
import { Backoff } from './reconnect.js';

// openChannel subscribes to webinar's channel. handlers maps an event type ("chat",
// "participant", "count", "ended", ...) to a function of its parsed data; onState(state, why)
// hears "open", "reconnecting" and "closed" (with the server's error message, if any).
export function openChannel(webinar, token, handlers, onState = () => {}) {
  const url = '/api/webinars/' + encodeURIComponent(webinar) + '/channel' +
    (token ? '?t=' + encodeURIComponent(token) : '');
  const backoff = new Backoff([1000, 2000, 5000, 10000]);
  let source = null;
  let stopped = false;
  let retryTimer = 0;

  const connect = () => {
    source = new EventSource(url);
    source.onopen = () => { backoff.reset(); onState('open'); };
    for (const [type, fn] of Object.entries(handlers)) {
      source.addEventListener(type, (e) => fn(JSON.parse(e.data), Number(e.lastEventId) || 0));
    }
    // The server is going away on purpose (restart): EventSource retries by itself.
    source.addEventListener('shutdown', () => onState('reconnecting'));
    source.onerror = () => {
      if (stopped) return;
      if (source.readyState !== EventSource.CLOSED) { onState('reconnecting'); return; }
      // EventSource gave up (an HTTP error): ask the server why before trying again.
      source.close();
      explain().then((why) => {
        if (stopped) return;
        if (why.final) { stopped = true; onState('closed', why); return; }
        onState('reconnecting', why);
        retryTimer = setTimeout(connect, backoff.next());
      });
    };
  };

  // explain repeats the request with fetch to read the status and {"error"} EventSource hides.
  const explain = async () => {
    const ctl = new AbortController();
    try {
      const res = await fetch(url, { signal: ctl.signal, cache: 'no-store' });
      if (res.ok) return { status: res.status, final: false };
      const body = await res.json().catch(() => ({}));
      // 401/403/404/410 will not change by retrying; a 429 or 5xx might.
      const final = [401, 403, 404, 410].includes(res.status);
      return { status: res.status, message: body.error || res.statusText, final };
    } catch {
      return { status: 0, final: false };
    } finally {
      ctl.abort();
    }
  };

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      if (source) source.close();
    },
  };
}
