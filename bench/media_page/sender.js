// The reference cabin: a Chromium page that plays the cabin's part of a call, so the same
// measurements can be made browser to browser. It draws a test picture stamped with its
// capture time (the blocks of stamp.js) 30 times a second, sends it with its fake
// microphone, and notes when the agent's first frame is shown. Python relays its signalling
// through the hub's /ws/cabin, as the aiortc cabin does its own. Driven through window.sender.

import { bandHeight, writeTimestamp } from './stamp.js';

const FRAME_MS = 1000 / 30;

class Sender {
  constructor() {
    this.pc = null;
    this.stream = null;
    this.pending = [];
    this.firstFrameAt = null;
    this.waiters = [];
    this.canvas = document.createElement('canvas');
    this.video = document.getElementById('remote');
  }

  /** Start the test picture and open the microphone (which also unveils host candidates). */
  async init({ width, height, codec }) {
    this.codec = codec;
    this.canvas.width = width;
    this.canvas.height = height;
    const ctx = this.canvas.getContext('2d');
    const started = performance.now();
    let due = started;
    const draw = () => {
      const now = performance.now();
      const t = (now - started) / 1000;
      ctx.fillStyle = '#406080';
      ctx.fillRect(0, 0, width, height);
      const radius = Math.max(8, Math.floor(height / 10));
      const x = radius + (0.5 - 0.5 * Math.cos((Math.PI * t) / 2)) * (width - 2 * radius);
      ctx.fillStyle = '#ffffff';
      ctx.beginPath();
      ctx.arc(x, bandHeight(height) + radius + height / 6, radius, 0, 2 * Math.PI);
      ctx.fill();
      writeTimestamp(ctx, width, height, Date.now());
      due += FRAME_MS;
      setTimeout(draw, Math.max(0, due - performance.now()));
    };
    draw();
    const microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
    this.stream = new MediaStream([
      ...microphone.getAudioTracks(),
      ...this.canvas.captureStream(30).getVideoTracks(),
    ]);
    this.video.requestVideoFrameCallback(() => this.onFrame());
  }

  onFrame() {
    this.video.requestVideoFrameCallback(() => this.onFrame());
    if (this.pc !== null && this.firstFrameAt === null) {
      this.firstFrameAt = Date.now();
      for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  /** A new peer connection's offer, with every candidate in it (as aiortc offers). */
  async offer() {
    this.close();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    const mime = `video/${this.codec}`;
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.sender.track?.kind !== 'video') continue;
      const codecs = RTCRtpReceiver.getCapabilities('video').codecs;
      const ordered = [...codecs].sort(
        (a, b) => (a.mimeType.toLowerCase() !== mime) - (b.mimeType.toLowerCase() !== mime),
      );
      transceiver.setCodecPreferences(ordered);
    }
    const remote = new MediaStream();
    pc.addEventListener('track', ({ track }) => {
      remote.addTrack(track);
      this.video.srcObject = remote;
      this.video.play().catch(() => {});
    });
    const gathered = new Promise((resolve) => {
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve();
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered;
    return pc.localDescription.sdp;
  }

  async acceptAnswer(sdp) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    const queued = this.pending;
    this.pending = [];
    for (const candidate of queued) await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    if (!this.pc?.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate.candidate ? candidate : null);
  }

  /** When the agent's first frame was shown here (ms since the epoch). */
  async firstFrame() {
    if (this.firstFrameAt === null) await new Promise((resolve) => this.waiters.push(resolve));
    return this.firstFrameAt;
  }

  close() {
    this.pc?.close();
    this.pc = null;
    this.pending = [];
    this.firstFrameAt = null;
    this.video.srcObject = null;
  }
}

window.sender = new Sender();
