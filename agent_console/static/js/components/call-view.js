// The call: the cabin's video large, the agent's own small; mute, camera, transfer, hang up;
// and how the connection is doing, from getStats.
import { clock, h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';

class CabCall extends HTMLElement {
  constructor() {
    super();
    this.call = null;
    this.media = null;
    this.muted = false;
    this.cameraOff = false;
    /** @type {number | undefined} */
    this.timer = undefined;
    /** @type {import('../api.js').CatalogItem[]} */
    this.services = [];
  }

  connectedCallback() {
    this.classList.add('call-view');
    this.hidden = true;
  }

  /** Show a connected call; `media` is its CallMedia. */
  start(call, media) {
    this.call = call;
    this.media = media;
    this.muted = false;
    this.cameraOff = false;
    this.render();
    this.hidden = false;
    media.addEventListener('remotestream', (event) => {
      const stream = /** @type {CustomEvent<MediaStream>} */ (event).detail;
      const video = /** @type {HTMLVideoElement | null} */ (this.querySelector('video.remote'));
      if (video && video.srcObject !== stream) video.srcObject = stream;
    });
    media.addEventListener('quality', (event) => this.showQuality(/** @type {CustomEvent} */ (event).detail));
    media.addEventListener('state', (event) => this.showState(/** @type {CustomEvent} */ (event).detail));
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      const el = this.querySelector('.call-time');
      if (el) el.textContent = clock((Date.now() - this.call.startedAt) / 1000);
    }, 1000);
  }

  stop() {
    clearInterval(this.timer);
    for (const video of this.querySelectorAll('video')) video.srcObject = null;
    this.call = null;
    this.media = null;
    this.hidden = true;
    mount(this);
  }

  /** The latest getStats figures (the browser tests read them too). */
  stats() {
    return this.media?.sample() ?? Promise.resolve(null);
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }

  /** @param {import('../media.js').Quality} q */
  showQuality(q) {
    const el = /** @type {HTMLElement | null} */ (this.querySelector('.quality'));
    if (!el) return;
    el.dataset.level = q.level;
    mount(
      el,
      h('span', { class: 'quality-level' }, t(`quality.${q.level}`)),
      h('span', {}, t('quality.in', { kbps: q.inboundKbps, fps: Math.round(q.fps) })),
      h('span', {}, t('quality.out', { kbps: q.outboundKbps })),
      h('span', {}, t('quality.loss', { percent: i18n.number(q.packetLoss * 100, { maximumFractionDigits: 1 }) })),
      q.rttMs !== null ? h('span', {}, t('quality.rtt', { ms: q.rttMs })) : null,
    );
  }

  /** @param {RTCPeerConnectionState} state */
  showState(state) {
    const el = /** @type {HTMLElement | null} */ (this.querySelector('.media-state'));
    if (!el) return;
    const trouble = state === 'disconnected' || state === 'failed';
    el.hidden = !trouble;
    el.textContent = trouble ? t('call.media_trouble') : '';
  }

  toggleMute(button) {
    this.muted = !this.muted;
    this.media.setMuted(this.muted);
    button.textContent = t(this.muted ? 'call.unmute' : 'call.mute');
    button.setAttribute('aria-pressed', String(this.muted));
  }

  toggleCamera(button) {
    this.cameraOff = !this.cameraOff;
    this.media.setCameraOff(this.cameraOff);
    button.textContent = t(this.cameraOff ? 'call.camera_on' : 'call.camera_off');
    button.setAttribute('aria-pressed', String(this.cameraOff));
    this.querySelector('video.local')?.classList.toggle('off', this.cameraOff);
  }

  transferDialog() {
    const note = h('textarea', { name: 'note', maxlength: 500, rows: 3 });
    const service = h(
      'select',
      { name: 'service', required: true },
      this.services.map((item) =>
        h('option', { value: item.code, selected: item.code === this.call?.service }, i18n.pick(item.names, item.code)),
      ),
    );
    const dialog = h(
      'dialog',
      { class: 'transfer-dialog' },
      h(
        'form',
        { method: 'dialog' },
        h('h3', {}, t('transfer.title')),
        h('label', {}, t('transfer.service'), service),
        h('label', {}, t('transfer.note'), note),
        h('p', { class: 'muted' }, t('transfer.hint')),
        h(
          'div',
          { class: 'actions' },
          h('button', { class: 'primary', value: 'transfer' }, t('transfer.submit')),
          h('button', { value: 'cancel', formnovalidate: true }, t('common.cancel')),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      if (dialog.returnValue === 'transfer') this.emit('transfer', { service: service.value, note: note.value.trim() });
      dialog.remove();
    });
    this.append(dialog);
    dialog.showModal();
  }

  render() {
    const call = this.call;
    const local = h('video', { class: 'local', autoplay: true, playsinline: true, props: { muted: true } });
    if (this.media.localStream) local.srcObject = this.media.localStream;
    const mute = h('button', { type: 'button', 'aria-pressed': 'false', onclick: (e) => this.toggleMute(e.currentTarget) }, t('call.mute'));
    const camera = h(
      'button',
      { type: 'button', 'aria-pressed': 'false', disabled: !this.media.localStream?.getVideoTracks().length, onclick: (e) => this.toggleCamera(e.currentTarget) },
      t('call.camera_off'),
    );
    mount(
      this,
      h(
        'div',
        { class: 'call-head' },
        h('strong', { class: 'call-cabin' }, call.cabin?.name ?? call.peer?.name ?? ''),
        h('span', { class: 'muted' }, call.site?.name ?? ''),
        h('span', { class: 'tag' }, (call.language ?? '').toUpperCase()),
        h('span', { class: 'call-time' }, '0:00'),
      ),
      h(
        'div',
        { class: 'videos' },
        h('video', { class: 'remote', autoplay: true, playsinline: true }),
        local,
        h('p', { class: 'media-state', hidden: true, role: 'status' }),
      ),
      h(
        'div',
        { class: 'call-controls' },
        mute,
        camera,
        h('button', { type: 'button', onclick: () => this.transferDialog() }, t('call.transfer')),
        h('button', { class: 'danger hangup', type: 'button', onclick: (e) => { e.currentTarget.disabled = true; this.emit('hangup'); } }, t('call.end')),
      ),
      h('div', { class: 'quality', dataset: { level: 'none' } }, t('quality.waiting')),
    );
  }
}

customElements.define('cab-call', CabCall);
