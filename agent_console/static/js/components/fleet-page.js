// The fleet page, for technicians and admins: alerts first, every cabin's health and actions,
// and enrolling new cabins. Refreshed every five seconds while the page is visible.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';
import { alertsPanel } from './fleet-alerts.js';
import './fleet-cabin.js';
import './fleet-enrol.js';

const REFRESH_MS = 5000;

class CabFleet extends HTMLElement {
  constructor() {
    super();
    this.cabins = null;
    this.alerts = null;
    this.error = null;
    this.updatedAt = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    this.cards = new Map();
    this.watch = null;
    this.parts = null;
  }

  connectedCallback() {
    this.classList.add('fleet');
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    /** @type {() => void} */
    this.onVisibility = () => document.hidden || this.load();
    /** @type {() => void} */
    this.onChanged = () => this.load();
    /** @type {(event: Event) => void} */
    this.onAlerts = (event) => {
      this.alerts = /** @type {CustomEvent} */ (event).detail;
      this.renderAlerts();
    };
    i18n.addEventListener('change', this.onLanguage);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.addEventListener('fleet-changed', this.onChanged);
    this.watch?.addEventListener('change', this.onAlerts);
    this.alerts = this.watch?.data ?? null;
    this.render();
    this.load();
    this.timer = setInterval(() => document.hidden || this.load(), REFRESH_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    i18n.removeEventListener('change', this.onLanguage);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.removeEventListener('fleet-changed', this.onChanged);
    this.watch?.removeEventListener('change', this.onAlerts);
  }

  /** Fill in an enrolment code (the cabin's QR code leads to #/enrol/CODE). */
  enrol(code) {
    this.parts.enrol.prefill(code);
  }

  async load() {
    try {
      const [cabins, waiting] = await Promise.all([api.fleetCabins(), api.enrolmentRequests(), this.refreshAlerts()]);
      this.cabins = cabins;
      this.parts.enrol.updateWaiting(waiting);
      this.error = null;
      this.updatedAt = new Date();
    } catch (error) {
      this.error = error.status === 403 ? t('fleet.forbidden') : t('fleet.failed');
    }
    this.renderHead();
    this.renderCabins();
  }

  async refreshAlerts() {
    if (this.watch) return this.watch.refresh();
    this.alerts = await api.fleetAlerts();
    this.renderAlerts();
    return this.alerts;
  }

  render() {
    const enrol = this.parts?.enrol ?? h('cab-fleet-enrol');
    this.parts = {
      head: h('div', { class: 'board-head' }),
      alerts: h('div', { class: 'fleet-alerts-slot' }),
      cabins: h('div', { class: 'fleet-cabins' }),
      enrol,
    };
    mount(this, this.parts.head, this.parts.alerts, this.parts.cabins, enrol);
    this.renderHead();
    this.renderAlerts();
    this.renderCabins();
  }

  renderHead() {
    mount(
      this.parts.head,
      h('h1', {}, t('fleet.title')),
      this.updatedAt ? h('span', { class: 'muted small updated' }, t('supervisor.updated', { time: i18n.dateTime(this.updatedAt, { timeStyle: 'medium' }) })) : null,
      this.error ? h('p', { class: 'form-error', role: 'alert' }, this.error) : null,
    );
  }

  renderAlerts() {
    if (!this.parts) return;
    mount(this.parts.alerts, this.alerts ? alertsPanel(this.alerts) : null);
  }

  renderCabins() {
    if (this.cabins === null) {
      mount(this.parts.cabins, this.error ? null : h('p', { class: 'muted' }, t('app.loading')));
      return;
    }
    if (!this.cabins.length) {
      mount(this.parts.cabins, h('p', { class: 'panel muted' }, t('fleet.no_cabins')));
      this.cards.clear();
      return;
    }
    // Cards are kept across refreshes, so a technician's half-done confirmation, an open
    // self-test and the focus survive them.
    const seen = new Set();
    const ordered = this.cabins.map((cabin) => {
      seen.add(cabin.id);
      let card = this.cards.get(cabin.id);
      if (!card) {
        card = h('cab-fleet-cabin');
        this.cards.set(cabin.id, card);
      }
      card.update(cabin);
      return card;
    });
    for (const id of [...this.cards.keys()]) if (!seen.has(id)) this.cards.delete(id);
    const current = [...this.parts.cabins.children];
    if (current.length !== ordered.length || ordered.some((card, index) => current[index] !== card)) {
      mount(this.parts.cabins, ordered);
    }
  }
}

customElements.define('cab-fleet', CabFleet);
