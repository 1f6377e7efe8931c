// The agent's side of a call's media: the cabin sends the WebRTC offer, the console answers.
// aiortc (the cabin) cannot restart ICE, so a new offer for the same call means a new peer
// connection here too.
//
// Events: 'remotestream' (detail: MediaStream), 'state' (detail: connection state),
// 'quality' (detail: the latest figures from getStats).

const STATS_INTERVAL_MS = 2000;

/**
 * How the call is doing, from getStats: both ways, and a level the agent reads at a glance.
 * @typedef {object} Quality
 * @property {number} inboundKbps
 * @property {number} outboundKbps
 * @property {number} fps frames per second decoded from the cabin
 * @property {number} sentFps
 * @property {number} framesDecoded
 * @property {number} framesSent
 * @property {number} packetLoss a fraction, 0 to 1
 * @property {number | null} rttMs
 * @property {number} width
 * @property {number} height
 * @property {'none' | 'poor' | 'fair' | 'good'} [level]
 */

export class CallMedia extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.callId
   * @param {RTCIceServer[]} [options.iceServers]
   * @param {(message: import('./connection.js').AgentMessage) => boolean} options.send
   * @param {MediaStream | null} [options.localStream] set later when the camera comes after
   */
  constructor({ callId, iceServers, send, localStream }) {
    super();
    this.callId = callId;
    this.iceServers = iceServers ?? [];
    this.send = send;
    this.localStream = localStream;
    /** Settles once the local camera and microphone are known (the desk sets it). */
    this.ready = Promise.resolve();
    this.pc = null;
    this.pending = [];
    /** @type {{ at: number, inBytes: number, outBytes: number } | null} */
    this.previous = null;
    /** @type {Quality | null} */
    this.quality = null;
    this.statsTimer = setInterval(() => this.sample(), STATS_INTERVAL_MS);
  }

  /** Camera and microphone; audio alone, or nothing, when the device is missing or refused. */
  static async openLocal() {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    for (const constraints of [{ audio: true, video }, { audio: true, video: false }]) {
      try {
        return { stream: await navigator.mediaDevices.getUserMedia(constraints), error: null };
      } catch (error) {
        if (!constraints.video) return { stream: null, error: error.name };
      }
    }
    return { stream: null, error: 'NotFoundError' };
  }

  newPeer() {
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.previous = null;
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
    // One stream for the cabin's audio and video, whether or not its offer groups them.
    const remote = new MediaStream();
    pc.addEventListener('track', (event) => {
      remote.addTrack(event.track);
      this.dispatchEvent(new CustomEvent('remotestream', { detail: remote }));
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc === this.pc) this.dispatchEvent(new CustomEvent('state', { detail: pc.connectionState }));
    });
    return pc;
  }

  async onDescription(description) {
    if (description.type !== 'offer') return;
    const pc = this.newPeer();
    await pc.setRemoteDescription(description);
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      const track = this.localStream?.getTracks().find((candidate) => candidate.kind === kind);
      if (track) {
        await transceiver.sender.replaceTrack(track);
        transceiver.direction = 'sendrecv';
      } else {
        transceiver.direction = 'recvonly';
      }
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({
      type: 'rtc.description',
      call_id: this.callId,
      // Set just above: the answer, with the candidates gathered so far.
      description: { type: 'answer', sdp: /** @type {RTCSessionDescription} */ (pc.localDescription).sdp },
    });
    const queued = this.pending;
    this.pending = [];
    for (const candidate of queued) await this.onCandidate(candidate);
  }

  async onCandidate(candidate) {
    if (!this.pc?.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate.candidate ? candidate : null);
    } catch {
      // A candidate for a peer connection that was just replaced: harmless.
    }
  }

  setMuted(muted) {
    for (const track of this.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
  }

  setCameraOff(off) {
    for (const track of this.localStream?.getVideoTracks() ?? []) track.enabled = !off;
  }

  /** Bitrate, frame rate and packet loss both ways, from getStats. */
  async sample() {
    if (!this.pc) return null;
    const report = await this.pc.getStats();
    const now = performance.now();
    const current = { at: now, inBytes: 0, outBytes: 0 };
    /** @type {Quality} */
    const quality = {
      inboundKbps: 0,
      outboundKbps: 0,
      fps: 0,
      sentFps: 0,
      framesDecoded: 0,
      framesSent: 0,
      packetLoss: 0,
      rttMs: null,
      width: 0,
      height: 0,
    };
    let received = 0;
    let lost = 0;
    report.forEach((stat) => {
      if (stat.type === 'inbound-rtp') {
        current.inBytes += stat.bytesReceived ?? 0;
        received += stat.packetsReceived ?? 0;
        lost += Math.max(0, stat.packetsLost ?? 0);
        if (stat.kind === 'video') {
          quality.fps = stat.framesPerSecond ?? 0;
          quality.framesDecoded = stat.framesDecoded ?? 0;
          quality.width = stat.frameWidth ?? 0;
          quality.height = stat.frameHeight ?? 0;
        }
      } else if (stat.type === 'outbound-rtp') {
        current.outBytes += stat.bytesSent ?? 0;
        if (stat.kind === 'video') {
          quality.sentFps = stat.framesPerSecond ?? 0;
          quality.framesSent = stat.framesSent ?? stat.framesEncoded ?? 0;
        }
      } else if (stat.type === 'candidate-pair' && stat.nominated && stat.currentRoundTripTime) {
        quality.rttMs = Math.round(stat.currentRoundTripTime * 1000);
      }
    });
    if (this.previous) {
      const seconds = (now - this.previous.at) / 1000;
      quality.inboundKbps = Math.round(((current.inBytes - this.previous.inBytes) * 8) / 1000 / seconds);
      quality.outboundKbps = Math.round(((current.outBytes - this.previous.outBytes) * 8) / 1000 / seconds);
    }
    quality.packetLoss = received + lost ? lost / (received + lost) : 0;
    quality.level = CallMedia.level(quality);
    this.previous = current;
    this.quality = quality;
    this.dispatchEvent(new CustomEvent('quality', { detail: quality }));
    return quality;
  }

  /**
   * @param {Quality} quality
   * @returns {'none' | 'poor' | 'fair' | 'good'}
   */
  static level({ fps, packetLoss, framesDecoded }) {
    if (!framesDecoded) return 'none';
    if (packetLoss > 0.05 || fps < 10) return 'poor';
    if (packetLoss > 0.02 || fps < 20) return 'fair';
    return 'good';
  }

  close() {
    clearInterval(this.statsTimer);
    this.pc?.close();
    this.pc = null;
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
  }
}
