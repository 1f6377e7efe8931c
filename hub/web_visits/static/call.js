// The citizen's WebSocket to the hub and the call's media. The citizen's side sends the WebRTC
// offer (as a cabin does). After a network change (the peer connection failed or disconnected
// for over 3 seconds) or a WebSocket reconnect, a NEW peer connection sends a new offer for the
// same call: the agent's console takes a new offer as a new connection.

import { CloseCode, PROTOCOL_VERSION } from './contract.js';

const BACKOFF_S = [1, 2, 4, 8, 15];
const DISCONNECTED_GRACE_MS = 3000;
/** How long after losing its connection a page takes "open elsewhere" for its own old socket. */
const STALE_MS = 60_000;

/**
 * The WebSocket at /ws/citizen: heartbeat and reconnection with backoff. Only the current
 * socket counts: a replaced one's frames and close are ignored.
 * Events: 'open' (after each welcome; detail: the welcome), 'closed' (detail: {code}: the hub
 * refused for good), 'reconnecting', and one per hub message type (detail: the message).
 */
export class Citizen extends EventTarget {
  constructor() {
    super();
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.url = `${scheme}://${location.host}/ws/citizen`;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.open = false;
    this.heartbeatS = 5;
    this.lastHeard = 0;
    /** @type {number | undefined} */
    this.pingTimer = undefined;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    /** When an open connection was last lost (0: never). */
    this.lostAt = 0;
    window.addEventListener('online', () => {
      if (!this.open && !this.stopped) this.connect();
    });
    // Offline, the socket is dead even though no close has come yet: drop it at once, so that
    // coming back online reconnects at once instead of after the heartbeat's silence.
    window.addEventListener('offline', () => this.drop());
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    // One socket at a time: coming back online while one is still opening must not open a
    // second, which the hub would refuse as the visit "open in another window".
    const current = this.ws;
    if (current && (current.readyState === WebSocket.CONNECTING || current.readyState === WebSocket.OPEN)) {
      return;
    }
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('message', (event) => {
      if (ws === this.ws) this.onFrame(event);
    });
    ws.addEventListener('close', (event) => this.onClose(ws, event));
  }

  /** Forget a dead socket (its close and frames no longer count) and connect again at once. */
  drop() {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    if (this.open) this.lostAt = Date.now();
    this.ws = null;
    this.open = false;
    clearInterval(this.pingTimer);
    ws.close(4000, 'connection lost');
    this.dispatchEvent(new CustomEvent('reconnecting'));
    // Offline, the 'online' event reconnects.
    if (navigator.onLine) this.connect();
  }

  /** @param {{ type: string, [field: string]: unknown }} message */
  send(message) {
    if (!this.open || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...message }));
    return true;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.retryTimer);
    this.ws?.close(CloseCode.NORMAL, 'bye');
  }

  /** @param {MessageEvent} event */
  onFrame(event) {
    this.lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === 'pong') return;
    if (message.type === 'welcome') {
      this.open = true;
      this.attempt = 0;
      this.heartbeatS = message.heartbeat_interval_s || 5;
      clearInterval(this.pingTimer);
      this.pingTimer = window.setInterval(() => this.heartbeat(), this.heartbeatS * 1000);
      this.dispatchEvent(new CustomEvent('open', { detail: message }));
      return;
    }
    this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
  }

  heartbeat() {
    // Silence for three intervals means the link is dead even if the browser has not noticed.
    // Forget the socket at once: closing a dead one may wait a minute for the handshake.
    if (Date.now() - this.lastHeard > this.heartbeatS * 3000) {
      this.drop();
      return;
    }
    this.send({ type: 'ping', ts: Date.now() / 1000 });
  }

  /**
   * @param {WebSocket} ws
   * @param {CloseEvent} event
   */
  onClose(ws, event) {
    if (ws !== this.ws) return;
    if (this.open) this.lostAt = Date.now();
    this.open = false;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    // After a network change the hub may still hold this page's old, silently dead socket
    // until its heartbeat runs out, and refuse the new one as "open elsewhere": a page that
    // was connected keeps retrying for a while; a page that never was is a second window.
    const stale = event.code === CloseCode.ELSEWHERE && this.lostAt && Date.now() - this.lostAt < STALE_MS;
    if (stale) {
      this.retry();
      return;
    }
    // REPLACED: the citizen opened the visit again on another device, which now has it.
    const final = /** @type {number[]} */ ([CloseCode.UNAUTHORIZED, CloseCode.ELSEWHERE, CloseCode.REPLACED]);
    if (final.includes(event.code)) {
      this.stopped = true;
      this.dispatchEvent(new CustomEvent('closed', { detail: { code: event.code } }));
      return;
    }
    this.retry();
  }

  retry() {
    const delay = BACKOFF_S[Math.min(this.attempt, BACKOFF_S.length - 1)];
    this.attempt += 1;
    this.dispatchEvent(new CustomEvent('reconnecting'));
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4) * 1000);
  }
}

/**
 * The call's peer connection, replaced by a new one (and a new offer) when the network changes.
 * Events: 'remotestream' (detail: MediaStream), 'state' (detail: connection state).
 */
export class CallMedia extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.callId
   * @param {RTCIceServer[]} options.iceServers
   * @param {(message: { type: string, [field: string]: unknown }) => boolean} options.send
   * @param {MediaStream | null} options.localStream
   */
  constructor({ callId, iceServers, send, localStream }) {
    super();
    this.callId = callId;
    this.iceServers = iceServers;
    this.send = send;
    this.localStream = localStream;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {number | undefined} */
    this.lostTimer = undefined;
    this.closed = false;
  }

  /** A new peer connection with the local tracks, and its offer sent to the agent. */
  async offer() {
    clearTimeout(this.lostTimer);
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    const remote = new MediaStream();
    pc.addEventListener('track', (event) => {
      remote.addTrack(event.track);
      this.dispatchEvent(new CustomEvent('remotestream', { detail: remote }));
    });
    pc.addEventListener('icecandidate', (event) => {
      const c = event.candidate;
      this.send({
        type: 'rtc.candidate',
        call_id: this.callId,
        candidate: c
          ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }
          : { candidate: '' },
      });
    });
    pc.addEventListener('connectionstatechange', () => this.onState(pc));
    const tracks = this.localStream?.getTracks() ?? [];
    for (const kind of ['audio', 'video']) {
      const track = tracks.find((candidate) => candidate.kind === kind);
      // Without a camera or microphone, still receive the agent's.
      if (track && this.localStream) pc.addTrack(track, this.localStream);
      else pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({
      type: 'rtc.description',
      call_id: this.callId,
      description: { type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp },
    });
  }

  /** @param {RTCPeerConnection} pc */
  onState(pc) {
    if (pc !== this.pc || this.closed) return;
    const state = pc.connectionState;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
    clearTimeout(this.lostTimer);
    if (state === 'failed') {
      this.offer();
    } else if (state === 'disconnected') {
      this.lostTimer = window.setTimeout(() => {
        if (pc === this.pc && pc.connectionState !== 'connected') this.offer();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /** @param {RTCSessionDescriptionInit} description */
  async onDescription(description) {
    if (description.type !== 'answer' || !this.pc) return;
    try {
      await this.pc.setRemoteDescription(description);
    } catch {
      // An answer to an offer that a newer one replaced: harmless.
    }
  }

  /** @param {RTCIceCandidateInit} candidate */
  async onCandidate(candidate) {
    try {
      await this.pc?.addIceCandidate(candidate.candidate ? candidate : null);
    } catch {
      // A candidate for a peer connection that was just replaced: harmless.
    }
  }

  /** The camera's track replaced by ``track`` (front and back camera), without a new offer. */
  async replaceVideo(track) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === 'video');
    await sender?.replaceTrack(track);
  }

  close() {
    this.closed = true;
    clearTimeout(this.lostTimer);
    this.pc?.close();
    this.pc = null;
  }
}
