// The console's WebSocket to the hub: heartbeat, reconnection with backoff, and an outbox that
// keeps what the agent did during a short outage.
//
// Events: 'status' (detail: {status: connecting|open|reconnecting|stopped, retryIn, reason}),
// and one event per hub message type (detail: the message), e.g. 'call.ring'.
import { CloseCode, PROTOCOL_VERSION } from './contract.js';

/**
 * A message for the hub: a type the contract lets a console send, and that type's fields.
 * @typedef {{ type: import('./contract.js').AgentMessageType, [field: string]: unknown }} AgentMessage
 */

const BACKOFF_S = [1, 2, 4, 8, 15];
const OUTBOX_TTL_MS = 10_000;

export class HubConnection extends EventTarget {
  constructor(url = HubConnection.defaultUrl()) {
    super();
    this.url = url;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.open = false;
    /** @type {{ frame: object, at: number }[]} */
    this.outbox = [];
    /** @type {{ ping?: number, retry?: number }} */
    this.timers = {};
    this.lastHeard = 0;
    this.heartbeatS = 5;
    window.addEventListener('online', () => this.retryNow());
  }

  static defaultUrl() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws/agent`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.ws) this.ws.close(CloseCode.NORMAL, 'bye');
    this.ws = null;
    this.emitStatus('stopped');
  }

  /**
   * Send a message now, or when the connection is back (within a few seconds).
   * @param {AgentMessage} message
   * @returns {boolean} whether it left now
   */
  send(message) {
    const frame = { v: PROTOCOL_VERSION, ...message };
    if (this.open && this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    this.outbox.push({ frame, at: Date.now() });
    return false;
  }

  retryNow() {
    if (this.stopped || this.open || !this.timers.retry) return;
    clearTimeout(this.timers.retry);
    this.timers.retry = undefined;
    this.connect();
  }

  connect() {
    this.clearTimers();
    this.emitStatus(this.attempt ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('message', (event) => this.onFrame(event));
    ws.addEventListener('close', (event) => this.onClose(ws, event));
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
    if (message.type === 'welcome') this.onWelcome(message);
    if (message.type === 'pong') return;
    this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
  }

  onWelcome(welcome) {
    this.open = true;
    this.attempt = 0;
    this.heartbeatS = welcome.heartbeat_interval_s || 5;
    this.emitStatus('open');
    this.timers.ping = setInterval(() => this.heartbeat(), this.heartbeatS * 1000);
    const fresh = this.outbox.filter((item) => Date.now() - item.at < OUTBOX_TTL_MS);
    this.outbox = [];
    for (const item of fresh) this.ws?.send(JSON.stringify(item.frame));
  }

  heartbeat() {
    // The hub answers every ping; silence for three intervals means the link is dead even if
    // the browser has not noticed yet.
    if (Date.now() - this.lastHeard > this.heartbeatS * 3000) {
      this.ws?.close(4000, 'no answer to heartbeat');
      return;
    }
    this.ws?.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'ping', ts: Date.now() / 1000 }));
  }

  /**
   * @param {WebSocket} ws
   * @param {CloseEvent} event
   */
  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.open = false;
    this.clearTimers();
    if (this.stopped) return;
    if (event.code === CloseCode.UNAUTHORIZED) {
      this.stopped = true;
      this.emitStatus('stopped', { reason: 'unauthorized' });
      return;
    }
    if (event.code === CloseCode.REPLACED) {
      this.stopped = true;
      this.emitStatus('stopped', { reason: 'replaced' });
      return;
    }
    const delay = BACKOFF_S[Math.min(this.attempt, BACKOFF_S.length - 1)];
    // A little jitter so that a whole office does not reconnect in the same instant.
    const retryIn = delay * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.emitStatus('reconnecting', { retryIn, retryAt: Date.now() + retryIn * 1000 });
    this.timers.retry = setTimeout(() => this.connect(), retryIn * 1000);
  }

  clearTimers() {
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.retry);
    this.timers = {};
  }

  emitStatus(status, extra = {}) {
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, ...extra } }));
  }
}
