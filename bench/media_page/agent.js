// The agent's side of the benchmark: a console reduced to what a call needs. It signs in to
// the hub's /ws/agent (the session cookie), stays available, accepts each ring at once,
// answers the cabin's offer with its fake camera and microphone, and reads the capture time
// out of every frame it shows. Python drives it through window.agent.

import { bandHeight, readTimestamp } from './stamp.js';

const HEARTBEAT_MS = 4000;

class Agent {
  constructor() {
    this.ws = null;
    this.local = null;
    this.pc = null;
    this.callId = null;
    this.pending = [];
    this.calls = new Map(); // call id → { acceptedAt, firstFrameAt, waiters }
    this.measuring = false;
    this.latencies = [];
    this.unreadable = 0;
    this.baseline = null;
    this.video = document.getElementById('remote');
    this.canvas = document.createElement('canvas');
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
  }

  /** Open the camera (as the console asks for it) and sign in to the hub. */
  async init({ wsUrl, width, height }) {
    this.local = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } },
    });
    this.ws = new WebSocket(`${wsUrl}/ws/agent`);
    this.ws.addEventListener('message', (event) => this.onMessage(JSON.parse(event.data)));
    await new Promise((resolve, reject) => {
      this.ws.addEventListener('open', resolve, { once: true });
      this.ws.addEventListener('close', () => reject(new Error('hub closed the socket')), { once: true });
    });
    setInterval(() => this.send({ type: 'ping', ts: Date.now() / 1000 }), HEARTBEAT_MS);
    this.send({ type: 'presence.set', state: 'available' });
    this.video.requestVideoFrameCallback((now, meta) => this.onFrame(meta));
  }

  send(message) {
    this.ws.send(JSON.stringify(message));
  }

  record(callId) {
    if (!this.calls.has(callId)) this.calls.set(callId, { acceptedAt: null, firstFrameAt: null, waiters: [] });
    return this.calls.get(callId);
  }

  async onMessage(message) {
    const { type } = message;
    if (type === 'call.ring') {
      this.record(message.call_id).acceptedAt = Date.now();
      this.send({ type: 'call.accept', call_id: message.call_id });
    } else if (type === 'rtc.description' && message.description.type === 'offer') {
      await this.answer(message.call_id, message.description);
    } else if (type === 'rtc.candidate' && message.call_id === this.callId) {
      await this.addCandidate(message.candidate);
    } else if (type === 'call.ended') {
      if (message.call_id === this.callId) this.close();
    } else if (type === 'presence' && message.state === 'wrap_up') {
      this.send({ type: 'wrapup.done' });
    } else if (type === 'presence' && message.state === 'away') {
      this.send({ type: 'presence.set', state: 'available' });
    }
  }

  async answer(callId, offer) {
    this.close();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    this.callId = callId;
    pc.addEventListener('icecandidate', ({ candidate: c }) => {
      this.send({
        type: 'rtc.candidate',
        call_id: callId,
        candidate: c
          ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }
          : { candidate: '' },
      });
    });
    const remote = new MediaStream();
    pc.addEventListener('track', ({ track }) => {
      remote.addTrack(track);
      this.video.srcObject = remote;
      this.video.play().catch(() => {});
    });
    await pc.setRemoteDescription(offer);
    for (const transceiver of pc.getTransceivers()) {
      const track = this.local.getTracks().find((t) => t.kind === transceiver.receiver.track.kind);
      await transceiver.sender.replaceTrack(track);
      transceiver.direction = 'sendrecv';
    }
    await pc.setLocalDescription(await pc.createAnswer());
    this.send({ type: 'rtc.description', call_id: callId, description: pc.localDescription.toJSON() });
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

  close() {
    this.pc?.close();
    this.pc = null;
    this.callId = null;
    this.pending = [];
    this.video.srcObject = null;
  }

  onFrame(meta) {
    const now = Date.now();
    this.video.requestVideoFrameCallback((_, next) => this.onFrame(next));
    if (this.callId === null) return;
    const call = this.record(this.callId);
    if (call.firstFrameAt === null) {
      call.firstFrameAt = now;
      for (const resolve of call.waiters) resolve();
    }
    if (!this.measuring) return;
    const { width, height } = meta;
    const rows = bandHeight(height);
    if (this.canvas.width !== width || this.canvas.height !== rows) {
      this.canvas.width = width;
      this.canvas.height = rows;
    }
    this.ctx.drawImage(this.video, 0, 0, width, rows, 0, 0, width, rows);
    const ms = readTimestamp(this.ctx.getImageData(0, 0, width, rows).data, width, height);
    if (ms === null) this.unreadable += 1;
    else this.latencies.push(now - ms);
  }

  /** When the call was accepted and its first frame shown (ms since the epoch). */
  async firstFrame(callId) {
    const call = this.record(callId);
    if (call.firstFrameAt === null) await new Promise((resolve) => call.waiters.push(resolve));
    return { acceptedAt: call.acceptedAt, firstFrameAt: call.firstFrameAt };
  }

  hangUp(callId) {
    this.send({ type: 'call.end', call_id: callId, reason: 'hangup' });
  }

  async inbound() {
    const report = await this.pc.getStats();
    let video = null;
    report.forEach((stat) => {
      if (stat.type === 'inbound-rtp' && stat.kind === 'video') video = stat;
    });
    const codec = video && report.get(video.codecId);
    return { at: performance.now(), video, codec: codec?.mimeType ?? null };
  }

  async startMeasure() {
    this.latencies = [];
    this.unreadable = 0;
    this.baseline = await this.inbound();
    this.measuring = true;
  }

  /** The figures since startMeasure, named as the benchmark reports them. */
  async stopMeasure() {
    this.measuring = false;
    const end = await this.inbound();
    const start = this.baseline;
    const delta = (key) => (end.video[key] ?? 0) - (start.video[key] ?? 0);
    const round = (value) => (Number.isFinite(value) ? Math.round(value * 10) / 10 : null);
    const decoded = delta('framesDecoded');
    return {
      fps: round(decoded / ((end.at - start.at) / 1000)),
      codec: end.codec,
      received: `${end.video.frameWidth}x${end.video.frameHeight}`,
      frames_decoded: decoded,
      frames_dropped: delta('framesDropped'),
      jitter_buffer_ms: round((1000 * delta('jitterBufferDelay')) / delta('jitterBufferEmittedCount')),
      decode_ms: round((1000 * delta('totalDecodeTime')) / decoded),
      stamps_unreadable: this.unreadable,
      latencies: this.latencies,
    };
  }
}

window.agent = new Agent();
