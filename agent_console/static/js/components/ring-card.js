// A citizen is calling: who, from where, about what, in which language, how long they waited.
// One click answers.
import { clock, h, mount } from '../dom.js';
import { t } from '../i18n.js';

class CabRing extends HTMLElement {
  constructor() {
    super();
    this.ring = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    this.names = { service: (code) => code };
  }

  connectedCallback() {
    this.classList.add('ring-card');
    this.hidden = true;
  }

  show(ring) {
    this.ring = { ...ring, receivedAt: Date.now() };
    this.render();
    this.hidden = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh(), 250);
    /** @type {HTMLElement | null} */ (this.querySelector('.answer'))?.focus();
  }

  hide() {
    clearInterval(this.timer);
    this.ring = null;
    this.hidden = true;
    mount(this);
  }

  /** Disable the buttons once clicked, so a double click sends one answer. */
  busy() {
    for (const button of this.querySelectorAll('button')) button.disabled = true;
  }

  refresh() {
    if (!this.ring) return;
    const elapsed = (Date.now() - this.ring.receivedAt) / 1000;
    const waited = this.querySelector('.waited');
    if (waited) waited.textContent = clock(this.ring.waited_s + elapsed);
    const left = this.querySelector('progress');
    if (left) left.value = Math.max(0, this.ring.ring_timeout_s - elapsed);
  }

  render() {
    const ring = this.ring;
    const emit = (name) => () => {
      this.busy();
      this.dispatchEvent(new CustomEvent(name, { detail: ring, bubbles: true }));
    };
    mount(
      this,
      h('h2', { class: 'ring-title' }, h('span', { class: 'ring-icon', 'aria-hidden': 'true' }), t('ring.title')),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t(ring.channel === 'web' ? 'ring.from' : 'ring.cabin')),
        h('dd', { class: 'ring-cabin' }, ring.cabin?.name ?? ''),
        ring.channel === 'web' ? null : [h('dt', {}, t('ring.site')), h('dd', {}, ring.site?.name ?? '')],
        ring.devices && !(ring.devices.camera && ring.devices.microphone)
          ? [
              h('dt', {}, t('ring.devices')),
              h('dd', { class: 'ring-devices' }, [!ring.devices.camera ? t('ring.no_camera') : null, !ring.devices.microphone ? t('ring.no_microphone') : null].filter(Boolean).join(' · ')),
            ]
          : null,
        h('dt', {}, t('ring.service')),
        h('dd', { class: 'ring-service' }, this.names.service(ring.service)),
        h('dt', {}, t('ring.language')),
        h('dd', { class: 'ring-language' }, t(`language.${ring.language}`)),
        h('dt', {}, t('ring.waited')),
        h('dd', { class: 'waited' }, clock(ring.waited_s)),
        ring.note ? [h('dt', {}, t('ring.note')), h('dd', { class: 'ring-note' }, ring.note)] : null,
      ),
      h('progress', { max: ring.ring_timeout_s, value: ring.ring_timeout_s, 'aria-label': t('ring.time_left') }),
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'primary answer', type: 'button', onclick: emit('accept') }, t('ring.accept')),
        h('button', { class: 'decline', type: 'button', onclick: emit('decline') }, t('ring.decline')),
      ),
    );
  }
}

customElements.define('cab-ring', CabRing);
