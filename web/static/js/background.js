// Virtual background and blur for the studio, computed on the presenter's own machine:
// camera → MediaPipe selfie segmentation (WASM and model served by this server) → canvas →
// canvas.captureStream(). The studio puts that canvas track on the WHIP sender in place of the
// camera track (replaceTrack), so turning an effect on or off never renegotiates. Nothing but
// the finished video leaves the browser; an uploaded image stays in it.

const base = '/static/mediapipe/';
// 640×360 is what the landscape model is made for (256×144 input) and what a webinar tile
// shows; the camera's frame is cropped to it, not stretched.
const width = 640, height = 360;
const frameRate = 30;
const blurPx = 12;

// Built-in backgrounds are drawn at runtime, so no image file is shipped or committed.
const builtins = {
  blue: { label: 'Blue', stops: ['#0b2545', '#13315c', '#8da9c4'] },
  sunset: { label: 'Sunset', stops: ['#3d1a4d', '#b5485b', '#f2a65a'] },
  green: { label: 'Green', stops: ['#0f3d33', '#2a7f62', '#b8d8ba'] },
};

// segmentationAvailable: this server was built with the model files (make fetches them; a
// build without them has no /static/mediapipe/ and the studio hides the option).
export async function segmentationAvailable() {
  try {
    return (await fetch(base + 'VERSION', { cache: 'no-cache' })).ok;
  } catch {
    return false;
  }
}

let loading = null;

// loadSegmenter adds MediaPipe's loader script once; it defines window.SelfieSegmentation.
function loadSegmenter() {
  loading ||= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = base + 'selfie_segmentation.js';
    s.onload = () => resolve(window.SelfieSegmentation);
    s.onerror = () => { loading = null; reject(new Error('The background model could not be loaded.')); };
    document.head.append(s);
  });
  return loading;
}

function gradient(stops) {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const ctx = c.getContext('2d');
  const g = ctx.createLinearGradient(0, 0, width, height);
  stops.forEach((color, i) => g.addColorStop(i / (stops.length - 1), color));
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  return c;
}

function sizeOf(img) {
  return [img.displayWidth || img.videoWidth || img.width, img.displayHeight || img.videoHeight || img.height];
}

// cover draws img over the whole canvas, cropping what does not fit its 16:9 shape.
function cover(ctx, img) {
  const [iw, ih] = sizeOf(img);
  if (!iw || !ih) return;
  const scale = Math.max(width / iw, height / ih);
  const sw = width / scale, sh = height / scale;
  ctx.drawImage(img, (iw - sw) / 2, (ih - sh) / 2, sw, sh, 0, 0, width, height);
}

// frameLoop hands the camera's frames, cropped to 640×360, to send one at a time; frames that
// arrive while the model is busy are dropped. MediaStreamTrackProcessor (Chromium) keeps
// delivering in a background tab, where animation frames stop: a presenter is often in
// their slides. It returns a function that stops the loop.
function frameLoop(track, send) {
  let stopped = false;
  const src = document.createElement('canvas');
  src.width = width;
  src.height = height;
  const ctx = src.getContext('2d');
  let warned = false;
  const feed = async (img) => {
    cover(ctx, img);
    try {
      await send(src);
    } catch (err) {
      if (!warned) console.warn('background: segmentation failed, frames dropped', err);
      warned = true;
    }
  };
  if ('MediaStreamTrackProcessor' in window) {
    const own = track.clone(); // stopped with the loop, without touching the camera
    const reader = new MediaStreamTrackProcessor({ track: own }).readable.getReader();
    (async () => {
      while (!stopped) {
        const { value, done } = await reader.read();
        if (done) break;
        await feed(value);
        value.close();
      }
    })();
    return () => { stopped = true; own.stop(); };
  }
  const video = Object.assign(document.createElement('video'), { muted: true, playsInline: true });
  video.srcObject = new MediaStream([track]);
  video.play().catch(() => {});
  const tick = async () => {
    if (stopped) return;
    if (video.readyState >= 2) await feed(video);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return () => { stopped = true; video.srcObject = null; };
}

// Background turns the camera track into the track to send. effect: 'none', 'blur', a
// built-in name, or 'image' (an uploaded picture). onChange gets the track to send whenever
// it changes; onFps gets the frames drawn in the last second.
export class Background {
  constructor(onChange) {
    this.onChange = onChange;
    this.onFps = () => {};
    this.camera = null;
    this.effect = 'none';
    this.image = null;
    this.canvas = Object.assign(document.createElement('canvas'), { width, height });
    this.ctx = this.canvas.getContext('2d');
    this.output = null;
    this.stopLoop = null;
    this.segmenter = null;
    this.loading = null;
    this.counted = 0;
    this.since = performance.now();
  }

  // track is what the WHIP sender should carry now.
  track() {
    return this.effect !== 'none' && this.stopLoop ? this.output : this.camera;
  }

  async attach(cameraTrack) {
    this.stop();
    this.camera = cameraTrack;
    await this.apply();
  }

  // set chooses the effect; image is the uploaded picture for 'image'.
  async set(effect, image) {
    this.effect = builtins[effect] || effect === 'blur' || (effect === 'image' && image) ? effect : 'none';
    this.image = effect === 'image' ? image : builtins[effect] ? gradient(builtins[effect].stops) : null;
    await this.apply();
  }

  async apply() {
    if (this.effect === 'none') this.stop();
    else if (this.camera && !this.stopLoop) await this.start();
    this.onChange(this.track());
  }

  // load makes the one segmenter; effects chosen while it loads wait for the same one.
  async load() {
    const SelfieSegmentation = await loadSegmenter();
    const seg = new SelfieSegmentation({ locateFile: (file) => base + file });
    seg.setOptions({ modelSelection: 1 }); // landscape model: 16:9 webcams
    seg.onResults((r) => this.draw(r));
    await seg.initialize();
    this.segmenter = seg;
  }

  async start() {
    this.loading ||= this.load().catch((err) => { this.loading = null; throw err; });
    await this.loading;
    if (this.stopLoop || !this.camera || this.effect === 'none') return; // changed meanwhile
    this.output ||= this.canvas.captureStream(frameRate).getVideoTracks()[0];
    this.stopLoop = frameLoop(this.camera, (img) => this.segmenter.send({ image: img }));
  }

  stop() {
    if (this.stopLoop) this.stopLoop();
    this.stopLoop = null;
    this.onFps(0);
  }

  // draw composes one frame: the person where the mask says so, the blurred camera or the
  // chosen picture everywhere else. A camera turned off gives black, as without an effect.
  draw(r) {
    const ctx = this.ctx;
    ctx.save();
    ctx.clearRect(0, 0, width, height);
    if (this.camera && this.camera.enabled) {
      ctx.drawImage(r.segmentationMask, 0, 0, width, height);
      ctx.globalCompositeOperation = 'source-in';
      ctx.drawImage(r.image, 0, 0, width, height);
      ctx.globalCompositeOperation = 'destination-over';
      if (this.effect === 'blur') {
        ctx.filter = 'blur(' + blurPx + 'px)';
        ctx.drawImage(r.image, 0, 0, width, height);
      } else if (this.image) {
        cover(ctx, this.image);
      }
    } else {
      ctx.fillRect(0, 0, width, height);
    }
    ctx.restore();
    this.count();
  }

  count() {
    this.counted++;
    const now = performance.now();
    if (now - this.since < 1000) return;
    if (this.stopLoop) this.onFps(Math.round((this.counted * 1000) / (now - this.since)));
    this.counted = 0;
    this.since = now;
  }
}

// backgroundControls shows the studio's background choice when the model is there and wires
// it to bg. The uploaded picture is decoded in the page and never sent anywhere.
export async function backgroundControls(bg, { row, select, file, status }) {
  const ok = await segmentationAvailable();
  row.dataset.model = ok ? 'ready' : 'missing'; // for the page's tests: the check is done
  if (!ok) return false;
  for (const [value, b] of Object.entries(builtins)) select.add(new Option(b.label + ' background', value), select.options.length - 1);
  row.classList.remove('hidden');
  const say = (text) => { status.textContent = text; };
  bg.onFps = (n) => {
    select.dataset.fps = String(n);
    if (n) say(n + ' frames a second, made on this computer');
  };
  const choose = async (effect, image) => {
    say(effect === 'none' ? '' : 'Starting…');
    try {
      await bg.set(effect, image);
      if (effect !== 'none' && !bg.camera) say('Starts with your camera.');
    } catch (err) {
      select.value = 'none';
      await bg.set('none');
      say(String(err.message || err));
    }
  };
  select.addEventListener('change', () => {
    file.parentElement.classList.toggle('hidden', select.value !== 'image');
    if (select.value === 'image') {
      if (file.files[0]) file.dispatchEvent(new Event('change'));
      else say('Choose a picture; it stays on this computer.');
      return;
    }
    choose(select.value);
  });
  file.addEventListener('change', async () => {
    if (!file.files[0]) return;
    try {
      choose('image', await createImageBitmap(file.files[0]));
    } catch {
      say('That file is not a picture this browser can read.');
    }
  });
  return true;
}
