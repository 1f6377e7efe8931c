// The agent's desk: the hub connection, the ring, the call and what follows it. This element
// owns the call's state; the components inside it only show things and report clicks.
import { HubConnection } from '../connection.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';
import { CallMedia } from '../media.js';
import { Ringer } from '../ringer.js';
import './booking.js';
import './call-view.js';
import './cabin-tools.js';
import './citizen.js';
import './documents.js';
import './ring-card.js';
import './wrapup.js';

// Refusals of call.accept meaning someone else was quicker, or the citizen left.
const TAKEN = new Set(['not_offered_to_you', 'unknown_call', 'call_ended', 'bad_state']);
const HANGUP_FALLBACK_MS = 4000;
// The call in progress and the attentions still to close (ids and names only, nothing about
// the citizen), kept for this tab so that reloading the page loses neither.
const WORK_KEY = 'cabina.console.work';
const CALL_FIELDS = ['call_id', 'attention_id', 'cabin', 'site', 'service', 'language', 'peer', 'reason'];

/**
 * What a tab keeps across a reload (see WORK_KEY).
 * @typedef {{ call: Record<string, any> | null, wrapups?: Record<string, any>[] }} SavedWork
 */

function essentials(item) {
  return Object.fromEntries(CALL_FIELDS.filter((key) => key in item).map((key) => [key, item[key]]));
}

class CabDesk extends HTMLElement {
  constructor() {
    super();
    /** @type {HubConnection | null} */
    this.hub = null;
    this.ringer = new Ringer();
    this.presence = null;
    this.iceServers = [];
    this.ring = null;
    this.accepting = null;
    this.call = null;
    this.answered = 0;
    /** @type {import('../api.js').Catalog} */
    this.catalog = { services: [], topics: [], outcomes: [] };
    /** @type {import('../api.js').Me | null} who is signed in (for a follow-up booked with them) */
    this.me = null;
  }

  /** Wire the desk to the top bar and notices, and connect; `hub` may be passed in tests. */
  start({ topbar, notices, catalog, hub = new HubConnection() }) {
    this.topbar = topbar;
    this.notices = notices;
    this.catalog = catalog;
    this.hub = hub;
    this.build();
    this.listen(hub);
    hub.start();
  }

  stop() {
    this.ringer.stop();
    this.endCall('signout', { quiet: true });
    this.hub?.stop();
    sessionStorage.removeItem(WORK_KEY);
  }

  serviceName(code) {
    const item = this.catalog.services.find((entry) => entry.code === code);
    return item ? i18n.pick(item.names, code) : code;
  }

  build() {
    this.classList.add('desk');
    this.idle = h('section', { class: 'idle-card' });
    this.ringCard = h('cab-ring');
    this.callView = h('cab-call');
    this.documents = h('cab-documents');
    this.wrapup = h('cab-wrapup');
    this.citizen = h('cab-citizen');
    this.tools = h('cab-cabin-tools');
    // A follow-up appointment for the citizen in the call, booked with this agent by default.
    this.booking = h('cab-booking', { props: { me: this.me } });
    this.followUp = h('details', { class: 'follow-up panel', hidden: true }, h('summary', { 'data-i18n': 'booking.title_follow_up' }, t('booking.title_follow_up')), this.booking);
    this.ringCard.names.service = (code) => this.serviceName(code);
    this.callView.services = this.catalog.services;
    this.wrapup.catalog = this.catalog;
    this.citizen.catalog = this.catalog;
    this.topbar.serviceName = (code) => this.serviceName(code);
    mount(
      this,
      h('div', { class: 'desk-main' }, this.idle, this.ringCard, this.callView, this.documents, this.wrapup),
      h('aside', { class: 'desk-side' }, this.citizen, this.tools, this.followUp),
    );
    this.setView();
    i18n.addEventListener('change', () => this.setView());
  }

  /**
   * @param {import('../connection.js').AgentMessage} message
   * @returns {boolean} whether it left now (else it waits for the connection to come back)
   */
  send(message) {
    return this.hub?.send(message) ?? false;
  }

  /** @param {HubConnection} hub */
  listen(hub) {
    /**
     * @param {import('../contract.js').HubMessageType | 'status'} type
     * @param {(detail: any) => void} handler
     */
    const on = (type, handler) => hub.addEventListener(type, (event) => handler(/** @type {CustomEvent} */ (event).detail));
    /**
     * @param {string} type
     * @param {(detail: any) => void} handler
     */
    const own = (type, handler) => this.addEventListener(type, (event) => handler(/** @type {CustomEvent} */ (event).detail));
    on('status', (status) => this.onStatus(status));
    on('welcome', (welcome) => this.onWelcome(welcome));
    on('presence', (presence) => this.onPresence(presence));
    on('call.ring', (ring) => this.onRing(ring));
    on('call.ring_cancelled', (message) => this.onRingCancelled(message));
    on('call.connected', (message) => this.onConnected(message));
    on('call.ended', (message) => this.onEnded(message));
    on('rtc.description', (message) => this.call?.media.onDescription(message.description));
    on('rtc.candidate', (message) => this.call?.media.onCandidate(message.candidate));
    on('step.update', (message) => {
      this.tools.onUpdate(message);
      this.documents.onStep(message);
    });
    on('cabin.tools', (message) => this.tools.setUnavailable(message.call_id, message.unavailable));
    on('error', (message) => this.onError(message));
    own('accept', (ring) => this.accept(ring));
    own('decline', (ring) => this.decline(ring));
    this.addEventListener('hangup', () => this.hangup());
    own('transfer', (transfer) => this.transfer(transfer));
    own('document', (doc) => this.documents.add(doc));
    own('step-problem', (problem) => this.notices.show(problem.text, { level: 'warning' }));
    own('closed', (closed) => this.onClosed(closed));
    this.topbar.addEventListener('presence-set', (event) => this.setPresence(/** @type {CustomEvent} */ (event).detail));
  }

  onStatus({ status, reason, retryIn }) {
    this.topbar.update({ connection: status });
    if (status === 'open') {
      if (this.notices.items.has('connection')) this.notices.show(t('connection.back'), { key: 'connection' });
    } else if (status === 'reconnecting' && retryIn !== undefined) {
      // A console that drops while available comes back available: the agent did not ask
      // to stop taking calls.
      if (this.presence === 'available') this.restoreAvailable = true;
      const seconds = Math.max(1, Math.round(retryIn));
      this.notices.show(t('connection.lost', { seconds }), { level: 'warning', key: 'connection', sticky: true });
    } else if (status === 'stopped' && reason === 'replaced') {
      this.notices.show(t('connection.replaced'), {
        level: 'warning',
        key: 'connection',
        sticky: true,
        action: { label: t('connection.use_here'), run: () => this.hub?.start() },
      });
    } else if (status === 'stopped' && reason === 'unauthorized') {
      this.dispatchEvent(new CustomEvent('signedout', { bubbles: true, detail: { expired: true } }));
    }
  }

  saveWork() {
    const work = { call: this.call ? essentials(this.call) : null, wrapups: this.wrapup.pending.map(essentials) };
    sessionStorage.setItem(WORK_KEY, JSON.stringify(work));
  }

  /** After a reload: the attentions to close, and the call if the hub still has us in it. */
  restoreWork(state) {
    /** @type {SavedWork | null} */
    let work = null;
    try {
      work = JSON.parse(sessionStorage.getItem(WORK_KEY) ?? 'null');
    } catch {
      work = null;
    }
    if (!work) return;
    for (const item of work.wrapups ?? []) this.wrapup.add(item);
    if (work.call && state === 'in_call') {
      // The cabin notices the lost media and offers again; this console answers.
      this.onConnected({ ...work.call, type: 'call.connected', you_offer: false });
    } else if (work.call) {
      this.wrapup.add({ ...work.call, reason: 'ended' });
    }
    this.saveWork();
  }

  onWelcome(welcome) {
    this.iceServers = welcome.ice_servers ?? [];
    this.topbar.update({ languages: welcome.languages ?? [], services: welcome.services ?? [] });
    if (!this.restored) {
      this.restored = true;
      if (!this.call) this.restoreWork(welcome.state);
    }
    this.onPresence({ state: welcome.state, reason: 'welcome' });
    if (this.restoreAvailable && welcome.state === 'away') this.setPresence('available');
    this.restoreAvailable = false;
  }

  onPresence({ state, reason }) {
    this.presence = state;
    this.topbar.update({ presence: state });
    if (reason === 'missed_rings') this.notices.show(t('presence.missed_rings'), { level: 'warning', sticky: true, key: 'missed' });
    if (state === 'available') this.notices.clear('missed');
    // A transfer ends this agent's leg without a call.ended: the state change says it.
    if (this.call && state !== 'in_call' && state !== 'ringing') this.endCall(this.call.transferring ? 'transferred' : 'ended');
    this.setView();
  }

  setPresence(state) {
    if (state === 'available') Ringer.askPermission();
    if (!this.send({ type: 'presence.set', state })) this.notices.show(t('connection.not_sent'), { level: 'warning' });
  }

  onRing(message) {
    // A citizen at home has no cabin: the visit is named in the agent's own language.
    const ring = message.channel === 'web' ? { ...message, cabin: { ...message.cabin, name: t('ring.web') } } : message;
    this.ring = ring;
    this.ringCard.show(ring);
    this.ringer.start(t('ring.title'), `${ring.cabin?.name ?? ''} · ${this.serviceName(ring.service)}`);
    this.setView();
  }

  onRingCancelled({ call_id: callId, reason }) {
    if (this.ring?.call_id !== callId) return;
    const cabin = this.ring.cabin?.name ?? '';
    this.stopRinging();
    if (this.accepting === callId) {
      this.accepting = null;
      this.releaseLocal();
      this.notices.show(t('ring.taken'), { level: 'warning' });
    } else if (reason === 'cancelled') {
      this.notices.show(t('ring.cancelled', { cabin }));
    } else if (reason === 'timeout') {
      this.notices.show(t('ring.missed', { cabin }), { level: 'warning' });
    } else if (reason !== 'declined') {
      this.notices.show(t('ring.gone', { cabin }));
    }
  }

  stopRinging() {
    this.ringer.stop();
    this.ringCard.hide();
    this.ring = null;
    this.setView();
  }

  accept(ring) {
    this.ringer.stop();
    this.accepting = ring.call_id;
    this.send({ type: 'call.accept', call_id: ring.call_id, ref: `accept:${ring.call_id}` });
    // Ask for camera and microphone now, while the hub connects the cabin.
    this.local = CallMedia.openLocal();
  }

  decline(ring) {
    this.send({ type: 'call.decline', call_id: ring.call_id });
    this.stopRinging();
  }

  releaseLocal() {
    const pending = this.local;
    this.local = null;
    pending?.then(({ stream }) => stream?.getTracks().forEach((track) => track.stop()));
  }

  onError({ code, message, ref }) {
    if (ref?.startsWith('accept:') && ref.slice(7) === this.accepting) {
      this.accepting = null;
      this.releaseLocal();
      this.stopRinging();
      this.notices.show(TAKEN.has(code) ? t('ring.taken') : message, { level: 'warning' });
      return;
    }
    if (code === 'device_unavailable') {
      this.notices.show(t('tools.refused'), { level: 'warning' });
      return;
    }
    this.notices.show(t('error.hub', { message }), { level: 'error' });
  }

  async onConnected(message) {
    const ring = this.ring?.call_id === message.call_id ? this.ring : {};
    this.accepting = null;
    this.stopRinging();
    const local = this.local ?? CallMedia.openLocal();
    this.local = null;
    const media = new CallMedia({ callId: message.call_id, iceServers: this.iceServers, send: (m) => this.send(m) });
    media.ready = local.then(({ stream, error }) => {
      media.localStream = stream;
      if (error) this.notices.show(t('call.no_camera'), { level: 'warning' });
    });
    const onDescription = media.onDescription.bind(media);
    media.onDescription = async (description) => {
      await media.ready;
      return onDescription(description);
    };
    this.call = { ...ring, ...message, cabin: ring.cabin ?? message.peer, media, startedAt: Date.now() };
    this.answered += 1;
    this.saveWork();
    media.addEventListener('state', (event) => {
      if (/** @type {CustomEvent} */ (event).detail === 'connected') this.notices.clear('media');
    });
    await media.ready;
    if (this.call?.media !== media) return;
    this.callView.start(this.call, media);
    this.tools.start(this.call, (m) => this.send(m));
    this.documents.reset();
    this.citizen.start(this.call);
    this.followUp.open = false;
    this.booking.reset({ service: this.call.service, language: this.call.language, siteId: this.call.site?.id ?? null });
    this.setView();
  }

  hangup() {
    if (!this.call) return;
    const call = this.call;
    call.hangingUp = true;
    this.send({ type: 'call.end', call_id: call.call_id, reason: 'hangup' });
    // If the hub does not confirm (connection down), end here anyway: media is ours to stop.
    setTimeout(() => {
      if (this.call === call) this.endCall('hangup');
    }, HANGUP_FALLBACK_MS);
  }

  transfer({ service, note }) {
    if (!this.call) return;
    this.call.transferring = true;
    this.send({ type: 'call.transfer', call_id: this.call.call_id, service, note });
  }

  onEnded({ call_id: callId, reason }) {
    if (this.call?.call_id === callId) {
      this.endCall(reason);
    } else if (this.ring?.call_id === callId) {
      this.stopRinging();
    }
  }

  endCall(reason, { quiet = false } = {}) {
    const call = this.call;
    if (!call) return;
    this.call = null;
    call.media.close();
    this.callView.stop();
    this.tools.stop();
    this.citizen.stop();
    if (quiet) return;
    this.wrapup.add({ attention_id: call.attention_id, call_id: call.call_id, cabin: call.cabin, service: call.service, reason });
    this.saveWork();
    // The hub says 'hangup' whichever end hung up: only this console knows it was the agent.
    const key = reason === 'hangup' && !call.hangingUp ? 'ended.citizen_hangup' : `ended.${reason}`;
    if (!call.hangingUp && reason !== 'ended' && i18n.has(key)) {
      this.notices.show(t(key), { level: reason === 'cabin_lost' ? 'warning' : 'info', sticky: reason === 'cabin_lost' });
    }
    this.setView();
  }

  onClosed({ ready, remaining }) {
    this.saveWork();
    this.notices.show(t('wrapup.closed'));
    if (ready && !remaining && this.presence === 'wrap_up') this.send({ type: 'wrapup.done' });
    this.setView();
  }

  setView() {
    const view = this.ring ? 'ringing' : this.call ? 'call' : this.wrapup?.count ? 'wrapup' : 'idle';
    this.dataset.view = view;
    this.idle.hidden = view !== 'idle';
    this.documents.hidden = view !== 'call' && !this.documents.docs.length;
    this.followUp.hidden = view !== 'call' && view !== 'wrapup';
    if (view === 'idle') this.renderIdle();
  }

  renderIdle() {
    const state = this.presence ?? 'offline';
    const available = state === 'available';
    mount(
      this.idle,
      h('p', { class: ['idle-state', `presence-${state}`] }, t(`idle.${available ? 'available' : state === 'offline' ? 'offline' : 'away'}`)),
      h('p', { class: 'muted' }, t(available ? 'idle.available_hint' : 'idle.away_hint')),
      state === 'away'
        ? h('button', { class: 'primary big', type: 'button', onclick: () => this.setPresence('available') }, t('presence.go_available'))
        : null,
      this.answered ? h('p', { class: 'muted small' }, t('idle.answered', { count: this.answered })) : null,
    );
  }
}

customElements.define('cab-desk', CabDesk);
