// The bar along the top: who is signed in, their presence and skills, the connection, the pages.
import { clock, h, mount } from '../dom.js';
import { LANGUAGES, i18n, t } from '../i18n.js';
import { alertBadge } from './fleet-alerts.js';

const SETTABLE = new Set(['available', 'away']);

/**
 * What the bar shows; update() changes any part of it.
 * @typedef {object} TopbarState
 * @property {import('../api.js').Me | null} me
 * @property {string | null} presence
 * @property {number | null} since when the presence last changed (ms)
 * @property {string[]} languages the agent's skills
 * @property {string[]} services
 * @property {string | null} connection
 * @property {string} page
 * @property {number} alerts
 */

class CabTopbar extends HTMLElement {
  constructor() {
    super();
    /** @type {TopbarState} */
    this.state = { me: null, presence: null, since: null, languages: [], services: [], connection: null, page: 'desk', alerts: 0 };
    /**
     * A service's name in the console's language; the desk provides it.
     * @type {((code: string) => string) | undefined}
     */
    this.serviceName = undefined;
    /** @type {number | undefined} */
    this.tick = undefined;
  }

  connectedCallback() {
    this.classList.add('topbar');
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    i18n.addEventListener('change', this.onLanguage);
    this.tick = setInterval(() => this.updateClock(), 1000);
    this.render();
  }

  disconnectedCallback() {
    i18n.removeEventListener('change', this.onLanguage);
    clearInterval(this.tick);
  }

  /** @param {Partial<TopbarState>} changes */
  update(changes) {
    if ('presence' in changes && changes.presence !== this.state.presence) changes.since ??= Date.now();
    Object.assign(this.state, changes);
    this.render();
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }

  updateClock() {
    const el = this.querySelector('.presence-time');
    if (el && this.state.since) el.textContent = clock((Date.now() - this.state.since) / 1000);
  }

  presenceControl() {
    const { presence } = this.state;
    if (!presence) return null;
    const pill = h(
      'span',
      { class: ['presence', `presence-${presence}`], dataset: { state: presence } },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      t(`presence.${presence}`),
      h('span', { class: 'presence-time' }),
    );
    const next = presence === 'available' ? 'away' : 'available';
    const canSet = SETTABLE.has(presence) && this.state.connection === 'open';
    const toggle = canSet
      ? h(
          'button',
          { class: ['presence-toggle', next === 'available' ? 'primary' : ''], type: 'button', onclick: () => this.emit('presence-set', next) },
          t(next === 'available' ? 'presence.go_available' : 'presence.go_away'),
        )
      : null;
    return h('div', { class: 'presence-box' }, pill, toggle);
  }

  skills() {
    const { languages, services } = this.state;
    if (!languages.length && !services.length) return null;
    return h(
      'div',
      { class: 'skills', title: t('topbar.skills') },
      languages.map((code) => h('span', { class: 'tag' }, code.toUpperCase())),
      services.map((code) => h('span', { class: 'tag tag-service' }, this.serviceName?.(code) ?? code)),
    );
  }

  render() {
    const { me, page } = this.state;
    if (!me) {
      mount(this);
      return;
    }
    const isSupervisor = me.role === 'supervisor' || me.role === 'admin';
    const isAgent = me.role === 'agent' || me.role === 'supervisor';
    const isTechnician = me.role === 'technician' || me.role === 'admin';
    const nav = h(
      'nav',
      { class: 'pages' },
      isAgent ? h('a', { href: '#/', class: page === 'desk' ? 'current' : '' }, t('nav.desk')) : null,
      isAgent || me.role === 'admin' ? h('a', { href: '#/agenda', class: ['nav-agenda', page === 'agenda' ? 'current' : ''] }, t('nav.agenda')) : null,
      isSupervisor ? h('a', { href: '#/supervisor', class: page === 'supervisor' ? 'current' : '' }, t('nav.supervisor')) : null,
      isTechnician ? h('a', { href: '#/fleet', class: ['nav-fleet', page === 'fleet' ? 'current' : ''] }, t('nav.fleet'), alertBadge(this.state.alerts)) : null,
    );
    const language = h(
      'select',
      { class: 'language', onchange: (event) => i18n.load(event.target.value), 'aria-label': t('app.language') },
      LANGUAGES.map((code) => h('option', { value: code, selected: code === i18n.language }, code.toUpperCase())),
    );
    mount(
      this,
      h('div', { class: 'brand' }, t('app.name')),
      nav,
      page === 'desk' ? this.presenceControl() : null,
      page === 'desk' ? this.skills() : null,
      h('div', { class: 'spacer' }),
      h('span', { class: 'who' }, me.display_name),
      language,
      h('button', { class: 'link', type: 'button', onclick: () => this.emit('signout') }, t('topbar.signout')),
    );
    this.updateClock();
  }
}

customElements.define('cab-topbar', CabTopbar);
