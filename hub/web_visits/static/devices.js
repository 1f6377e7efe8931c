// The device check before the call: camera preview, microphone level, a test beep the citizen
// confirms, and a few round trips to the hub. Everything here works without a camera or a
// microphone too: the citizen can always go on, and the agent then gets no video or no sound.

import { call } from './api.js';

/**
 * Camera and microphone, microphone alone, or nothing; with why something is missing.
 * @param {string} [facingMode]
 * @returns {Promise<{ stream: MediaStream | null, error: string | null }>}
 */
export async function openMedia(facingMode = 'user') {
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, error: 'NotFoundError' };
  const video = { facingMode, width: { ideal: 1280 }, height: { ideal: 720 } };
  /** @type {string | null} */
  let firstError = null;
  for (const constraints of [{ audio: true, video }, { audio: true, video: false }]) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      return { stream, error: constraints.video ? null : firstError };
    } catch (error) {
      firstError ??= /** @type {Error} */ (error).name;
    }
  }
  return { stream: null, error: firstError };
}

/** How many cameras the device has (front and back make two). */
export async function cameraCount() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.filter((device) => device.kind === 'videoinput').length;
  } catch {
    return 0;
  }
}

/** The microphone's level (0 to 100) while it is shown; stops with the returned function. */
export function watchLevel(stream, onLevel) {
  const Context = window.AudioContext;
  if (!Context || !stream.getAudioTracks().length) return { stop() {}, context: null };
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    onLevel(Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 300)));
    setTimeout(tick, 100);
  };
  tick();
  return {
    context,
    stop() {
      running = false;
      context.close().catch(() => {});
    },
  };
}

/** A short beep through the speaker or headphones. */
export async function playTone() {
  const context = new window.AudioContext();
  await context.resume();
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  oscillator.frequency.value = 660;
  gain.gain.value = 0.2;
  oscillator.connect(gain).connect(context.destination);
  oscillator.start();
  oscillator.stop(context.currentTime + 0.7);
  oscillator.addEventListener('ended', () => context.close().catch(() => {}));
}

/**
 * A few round trips to the hub: 'ok', 'slow' (over a second each) or 'down'.
 * @returns {Promise<'ok' | 'slow' | 'down'>}
 */
export async function checkNetwork() {
  const times = [];
  for (let i = 0; i < 3; i += 1) {
    const started = performance.now();
    const answer = await call('GET', '/api/web/ping');
    if (!answer.ok && answer.status !== 429) return 'down';
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[1] > 1000 ? 'slow' : 'ok';
}
