// The stage on the watch page: several presenters at once.
//
// The WHEP offer has fixed slot m-lines (see broadcast/stage.go): six audio sections (stage
// slot k's voice on the k-th, so every voice plays, unmixed), then video sections for the
// large tile (the active speaker's or pinned presenter's camera, chosen by the server), the
// screen share, and slot 0..5 cameras for the strip. Which slot is whom comes from
// GET .../stage and the channel's "stage" event: {members: [{member, name, slot, active,
// audio, video}]}. The large tile shows the active presenter's camera (or the screen share,
// with that camera small in the corner); the strip shows everyone else with their name.

export const slots = 6;
const firstSlotVideo = 2; // after the large tile's camera and the screen share

export class StageTiles {
  constructor(stage, strip, speaker) {
    this.stage = stage;
    this.strip = strip;
    this.speaker = speaker; // the large tile's name label
    this.muted = true;
    this.view = { members: [] };
    this.voices = [];
    this.tiles = [];
    for (let k = 0; k < slots; k++) {
      const audio = document.createElement('audio');
      audio.autoplay = true;
      audio.muted = true;
      audio.dataset.slot = String(k);
      this.voices.push(audio);
      stage.appendChild(audio);
      const fig = document.createElement('figure');
      fig.className = 'tile hidden';
      fig.dataset.slot = String(k);
      const video = document.createElement('video');
      video.autoplay = true;
      video.muted = true;
      video.playsInline = true;
      const name = document.createElement('figcaption');
      const state = document.createElement('span');
      state.className = 'tile-state';
      fig.append(video, name, state);
      strip.appendChild(fig);
      this.tiles.push({ fig, video, name, state });
    }
  }

  // offer lists the receive-only sections of the WHEP offer, in order.
  static offer() {
    return [...Array(slots).fill('audio'), 'video', 'video', ...Array(slots).fill('video')];
  }

  // attach routes a new peer's tracks: slot voices to their audio elements, slot cameras to
  // their tiles; the large tile's camera and the screen go to camera and screen.
  attach(pc, camera, screen) {
    const streams = [];
    for (let k = 0; k < slots; k++) {
      const voice = new MediaStream(), picture = new MediaStream();
      this.voices[k].srcObject = voice;
      this.tiles[k].video.srcObject = picture;
      streams.push({ voice, picture });
    }
    pc.addEventListener('track', (e) => {
      const i = pc.getTransceivers().indexOf(e.transceiver);
      if (i < 0) return;
      if (i < slots) streams[i].voice.addTrack(e.track);
      else if (i === slots) camera.addTrack(e.track);
      else if (i === slots + 1) screen.addTrack(e.track);
      else if (i - slots - firstSlotVideo < slots) streams[i - slots - firstSlotVideo].picture.addTrack(e.track);
    });
  }

  play() {
    for (const a of this.voices) a.play().catch(() => {});
    for (const t of this.tiles) t.video.play().catch(() => {});
  }

  // setMuted follows the page's Unmute button for every voice.
  setMuted(muted) {
    this.muted = muted;
    for (const a of this.voices) { a.muted = muted; a.play().catch(() => {}); }
  }

  // update lays the stage out from a GET .../stage answer or a "stage" event.
  update(view) {
    this.view = view && Array.isArray(view.members) ? view : { members: [] };
    const bySlot = new Map(this.view.members.map((m) => [m.slot, m]));
    const active = this.view.members.find((m) => m.active);
    for (let k = 0; k < slots; k++) {
      const m = bySlot.get(k), t = this.tiles[k];
      const show = !!m && m !== active;
      t.fig.classList.toggle('hidden', !show);
      if (!m) continue;
      t.name.textContent = m.name || 'Presenter';
      t.fig.dataset.member = m.member;
      t.state.textContent = muteText(m);
      t.fig.classList.toggle('video-off', m.video === 'muted');
    }
    this.strip.classList.toggle('hidden', !this.view.members.some((m) => m !== active));
    this.speaker.textContent = active ? active.name + (active.audio === 'muted' ? ' (muted)' : '') : '';
    this.speaker.classList.toggle('hidden', !active || this.view.members.length < 2);
    this.stage.dataset.presenters = String(this.view.members.length);
  }

  clear() {
    for (const a of this.voices) { a.pause(); a.srcObject = null; }
    for (const t of this.tiles) { t.video.pause(); t.video.srcObject = null; }
  }
}

function muteText(m) {
  if (m.audio === 'muted' && m.video === 'muted') return 'microphone and camera off';
  if (m.audio === 'muted') return 'microphone off';
  if (m.video === 'muted') return 'camera off';
  return '';
}
