// The agenda page: an agent's appointments of a day (who, what errand, how, where it
// stands), refreshed while visible; the private calendar feed; and booking for
// a caller on the phone. Supervisors and admins may look at any agent's agenda.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';
import { addDays, localToday } from './booking.js';

const REFRESH_MS = 30_000;
const STATUSES = ['booked', 'checked_in', 'done', 'no_show', 'cancelled'];

/**
 * One line of the agenda (contract.appointments.AgendaEntry).
 * @typedef {object} AgendaEntry
 * @property {string} id
 * @property {string} reference
 * @property {string} status
 * @property {string} starts_at
 * @property {string} ends_at
 * @property {string} service
 * @property {string} channel
 * @property {number} site_id
 * @property {string} citizen_name
 * @property {number | null} agent_id
 * @property {string} booked_via
 * @property {number} documents how many documents the citizen sent ahead
 */

/**
 * A document a citizen sent ahead (contract.appointments.AppointmentDocument).
 * @typedef {object} SentDocument
 * @property {string} id
 * @property {string} kind pdf, jpeg or png
 * @property {string} content_type
 * @property {number} size
 * @property {string | null} label
 * @property {string} created_at
 */

const DOCUMENT_KINDS = { pdf: 'agenda.document_pdf', jpeg: 'agenda.document_jpeg', png: 'agenda.document_png' };

class CabAgenda extends HTMLElement {
  constructor() {
    super();
    /** @type {import('../api.js').Me | null} */
    this.me = null;
    /** @type {import('../api.js').Catalog} */
    this.catalog = { services: [], topics: [], outcomes: [] };
    this.day = localToday();
    /** @type {number | null} the agent looked at; null is oneself */
    this.agentId = null;
    /** @type {{ id: number, name: string }[]} */
    this.agents = [];
    /** @type {Map<number, string>} */
    this.sites = new Map();
    /** @type {AgendaEntry[] | null} */
    this.entries = null;
    this.error = null;
    this.updatedAt = null;
    /** @type {string | null} */
    this.feedUrl = null;
    this.feedError = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    this.parts = null;
    /** @type {HTMLElement | null} */
    this.booking = null;
    this.bookingOpen = false;
    /** @type {Map<string, SentDocument[] | string>} the documents listed (or why not), by appointment */
    this.sentDocuments = new Map();
    /** @type {string | null} why the last "arrived" was refused */
    this.arrivalError = null;
  }

  get canPickAgent() {
    return this.me?.role === 'supervisor' || this.me?.role === 'admin';
  }

  get takesCalls() {
    return this.me?.role === 'agent' || this.me?.role === 'supervisor';
  }

  connectedCallback() {
    this.classList.add('agenda');
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    /** @type {() => void} */
    this.onVisibility = () => document.hidden || this.load();
    i18n.addEventListener('change', this.onLanguage);
    document.addEventListener('visibilitychange', this.onVisibility);
    if (!this.takesCalls && this.agentId === null) this.agentId = -1; // an admin picks someone
    this.render();
    this.loadPeople();
    this.load();
    this.timer = setInterval(() => document.hidden || this.load(), REFRESH_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    i18n.removeEventListener('change', this.onLanguage);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  async loadPeople() {
    const [sites, overview] = await Promise.all([
      api.sites().catch(() => []),
      this.canPickAgent ? api.overview().catch(() => null) : null,
    ]);
    this.sites = new Map((sites ?? []).map((site) => [site.id, site.name]));
    if (overview) {
      this.agents = overview.agents.map((agent) => ({ id: agent.id, name: agent.name }));
      if (this.agentId === -1 && this.agents.length) {
        this.agentId = this.agents[0].id;
        this.load();
      }
    }
    this.renderHead();
    this.renderList();
  }

  async load() {
    if (this.agentId === -1) {
      this.entries = [];
      this.renderList();
      return;
    }
    const day = this.day;
    const agentId = this.agentId;
    try {
      const entries = await api.agenda(day, agentId);
      if (day !== this.day || agentId !== this.agentId) return;
      this.entries = entries;
      this.error = null;
      this.updatedAt = new Date();
    } catch (error) {
      this.error = error.status === 403 ? t('agenda.forbidden') : error.status === 0 ? t('error.network') : t('agenda.failed');
    }
    this.renderHead();
    this.renderList();
  }

  setDay(day) {
    if (!day) return;
    this.day = day;
    this.entries = null;
    this.renderHead();
    this.renderList();
    this.load();
  }

  async showFeed() {
    try {
      const { url } = await api.agendaFeedUrl();
      this.feedUrl = url;
      this.feedError = null;
    } catch (error) {
      this.feedError = error.status === 403 ? t('agenda.feed_forbidden') : t('agenda.failed');
    }
    this.renderFeed();
  }

  serviceName(code) {
    const item = this.catalog.services.find((entry) => entry.code === code);
    return item ? i18n.pick(item.names, code) : code;
  }

  render() {
    this.parts = {
      head: h('div', { class: 'agenda-head' }),
      list: h('section', { class: 'panel agenda-list' }),
      feed: h('div', { class: 'agenda-feed' }),
    };
    if (!this.booking) {
      const booking = h('cab-booking', { props: { me: this.me } });
      this.booking = booking;
      booking.addEventListener('booked', (event) => this.onBooked(/** @type {CustomEvent} */ (event).detail));
    }
    const bookingBox = h(
      'details',
      { class: 'agenda-book', open: this.bookingOpen ? true : null, ontoggle: (event) => (this.bookingOpen = event.target.open) },
      h('summary', {}, t('agenda.book')),
      this.booking,
    );
    mount(this, this.parts.head, this.parts.list, h('div', { class: 'agenda-side' }, this.takesCalls ? this.parts.feed : null, bookingBox));
    this.renderHead();
    this.renderList();
    this.renderFeed();
  }

  /** A booking was made here: show its day, where it appears if it is in this agenda. */
  onBooked(appointment) {
    if (!appointment?.starts_at) return;
    const zone = appointment.offer?.timezone;
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(appointment.starts_at));
    if (this.agentId === null || this.agentId === this.me?.id) this.setDay(parts);
    else this.load();
  }

  renderHead() {
    if (!this.parts) return;
    const date = h('input', { type: 'date', name: 'day', value: this.day, required: true, 'aria-label': t('agenda.day') });
    date.addEventListener('change', () => this.setDay(date.value));
    const picker = this.canPickAgent
      ? h(
          'label',
          { class: 'agenda-agent' },
          t('agenda.agent'),
          h(
            'select',
            {
              name: 'agent',
              onchange: (event) => {
                const value = event.target.value;
                this.agentId = value === '' ? null : Number(value);
                this.entries = null;
                this.renderList();
                this.load();
              },
            },
            this.takesCalls ? h('option', { value: '', selected: this.agentId === null }, t('agenda.me')) : null,
            this.agents.filter((agent) => agent.id !== this.me?.id).map((agent) => h('option', { value: agent.id, selected: agent.id === this.agentId }, agent.name)),
          ),
        )
      : null;
    mount(
      this.parts.head,
      h('h1', {}, t('agenda.title')),
      h(
        'div',
        { class: 'row day-switcher' },
        h('button', { type: 'button', class: 'day-back', onclick: () => this.setDay(addDays(this.day, -1)), 'aria-label': t('agenda.previous') }, '◀'),
        date,
        h('button', { type: 'button', class: 'day-next', onclick: () => this.setDay(addDays(this.day, 1)), 'aria-label': t('agenda.next') }, '▶'),
        h('button', { type: 'button', class: 'day-today', onclick: () => this.setDay(localToday()), disabled: this.day === localToday() }, t('agenda.today')),
        picker,
      ),
      this.updatedAt ? h('span', { class: 'muted small updated' }, t('supervisor.updated', { time: i18n.dateTime(this.updatedAt, { timeStyle: 'medium' }) })) : null,
    );
  }

  renderList() {
    if (!this.parts) return;
    const entries = this.entries;
    const title = h('h2', {}, i18n.dateTime(`${this.day}T12:00:00Z`, { dateStyle: 'full', timeZone: 'UTC' }));
    if (this.error) {
      mount(this.parts.list, title, h('p', { class: 'form-error', role: 'alert' }, this.error));
      return;
    }
    if (entries === null) {
      mount(this.parts.list, title, h('p', { class: 'muted' }, t('app.loading')));
      return;
    }
    if (!entries.length) {
      mount(this.parts.list, title, h('p', { class: 'muted agenda-empty' }, this.agentId === -1 ? t('agenda.pick_agent') : t('agenda.empty')));
      return;
    }
    const time = (iso) => i18n.dateTime(iso, { timeStyle: 'short', hourCycle: 'h23' });
    const live = entries.filter((entry) => entry.status !== 'cancelled').length;
    mount(
      this.parts.list,
      title,
      h('p', { class: 'muted small' }, t('agenda.count', { count: live })),
      this.arrivalError ? h('p', { class: 'form-error arrival-error', role: 'alert' }, this.arrivalError) : null,
      h(
        'table',
        { class: 'agenda-table' },
        h('thead', {}, h('tr', {}, ['agenda.time', 'agenda.citizen', 'agenda.errand', 'agenda.channel', 'agenda.status', 'agenda.documents'].map((key) => h('th', {}, t(key))))),
        h(
          'tbody',
          {},
          entries.map((entry) =>
            h(
              'tr',
              { class: ['agenda-entry', `status-${entry.status}`], dataset: { reference: entry.reference, status: entry.status } },
              h('td', { class: 'num agenda-time' }, `${time(entry.starts_at)}–${time(entry.ends_at)}`),
              h('td', { class: 'agenda-citizen' }, entry.citizen_name || '—', h('span', { class: 'muted small reference' }, entry.reference)),
              h('td', { class: 'agenda-errand' }, this.serviceName(entry.service), this.sites.get(entry.site_id) ? h('span', { class: 'muted small' }, this.sites.get(entry.site_id)) : null),
              h('td', { class: 'agenda-channel' }, h('span', { class: ['tag', `channel-${entry.channel}`] }, t(`channel.${entry.channel}`))),
              h('td', {}, h('span', { class: ['tag', 'appointment-status', `appointment-${entry.status}`] }, STATUSES.includes(entry.status) ? t(`appointment.status.${entry.status}`) : entry.status), this.arrivalButton(entry)),
              h('td', { class: 'agenda-documents' }, this.documentsCell(entry)),
            ),
          ),
        ),
      ),
    );
  }

  /** "Arrived" for an in-person appointment still booked, to its agent or a supervisor. */
  arrivalButton(entry) {
    const mine = entry.agent_id === this.me?.id;
    if (entry.channel !== 'in_person' || entry.status !== 'booked' || !(mine || this.canPickAgent)) return null;
    return h('button', { type: 'button', class: 'small mark-arrived', onclick: (event) => this.markArrived(entry, event.currentTarget) }, t('agenda.arrived'));
  }

  async markArrived(entry, button) {
    button.disabled = true;
    try {
      const updated = await api.markArrived(entry.id);
      this.entries = (this.entries ?? []).map((item) => (item.id === updated.id ? updated : item));
      this.arrivalError = null;
    } catch (error) {
      const early = error.body?.reason === 'too_early';
      this.arrivalError = error.status === 0 ? t('error.network') : early ? t('agenda.arrived_too_early') : t('agenda.arrived_failed');
    }
    this.renderList();
  }

  /** The count of documents sent ahead, which lists them with a link to open each. */
  documentsCell(entry) {
    if (!entry.documents) return h('span', { class: 'muted' }, '—');
    const listed = this.sentDocuments.get(entry.id);
    if (listed === undefined || (Array.isArray(listed) && listed.length !== entry.documents)) {
      return h('button', { type: 'button', class: 'link show-documents', onclick: () => this.showDocuments(entry) }, t('agenda.documents_count', { count: entry.documents }));
    }
    if (typeof listed === 'string') return h('span', { class: 'form-error' }, listed);
    return h(
      'ul',
      { class: 'sent-documents' },
      listed.map((doc) =>
        h(
          'li',
          {},
          h(
            'a',
            { href: api.appointmentDocumentUrl(entry.id, doc.id), target: '_blank', rel: 'noopener', dataset: { documentId: doc.id, kind: doc.kind } },
            t(DOCUMENT_KINDS[doc.kind] ?? 'agenda.document_pdf'),
            doc.label ? ` · ${doc.label}` : '',
          ),
          h('span', { class: 'muted small' }, ` ${Math.max(1, Math.round(doc.size / 1024))} KB`),
        ),
      ),
    );
  }

  /** List an appointment's documents (each listing is recorded in the audit log). */
  async showDocuments(entry) {
    try {
      this.sentDocuments.set(entry.id, await api.appointmentDocuments(entry.id));
    } catch (error) {
      this.sentDocuments.set(entry.id, error.status === 403 ? t('agenda.documents_forbidden') : error.status === 0 ? t('error.network') : t('agenda.documents_failed'));
    }
    this.renderList();
  }

  renderFeed() {
    if (!this.parts) return;
    const url = this.feedUrl;
    mount(
      this.parts.feed,
      h('h3', {}, t('agenda.feed')),
      h('p', { class: 'muted small' }, t('agenda.feed_hint')),
      url
        ? h(
            'div',
            { class: 'row' },
            h('input', { class: 'feed-url', readonly: true, value: url, 'aria-label': t('agenda.feed'), onfocus: (event) => event.target.select() }),
            h('a', { class: 'button', href: url.replace(/^https?:/, 'webcal:') }, t('agenda.subscribe')),
            h(
              'button',
              {
                type: 'button',
                class: 'copy-feed',
                onclick: async (event) => {
                  const button = event.currentTarget;
                  await navigator.clipboard?.writeText(url).catch(() => {});
                  button.textContent = t('agenda.copied');
                },
              },
              t('agenda.copy'),
            ),
          )
        : h('button', { type: 'button', class: 'show-feed', onclick: () => this.showFeed() }, t('agenda.show_feed')),
      this.feedError ? h('p', { class: 'form-error', role: 'alert' }, this.feedError) : null,
    );
  }
}

customElements.define('cab-agenda', CabAgenda);
