// The supervisor's board: cabins, queues, agents and today's figures, live; and the CSV export.
import { api } from '../api.js';
import { barChart, stackedStrip } from '../charts.js';
import { clock, h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';

const REFRESH_MS = 5000;
// The appointments' figures are counted from the database: once a minute is enough.
const FIGURES_REFRESH_MS = 60_000;
const AGENT_STATES = ['available', 'ringing', 'in_call', 'wrap_up', 'away', 'offline'];

function isoDate(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 10);
}

/** Monday to Sunday of the week of `date` (YYYY-MM-DD). */
function weekOf(date) {
  const monday = new Date(date);
  monday.setDate(date.getDate() - ((date.getDay() + 6) % 7));
  const sunday = new Date(monday);
  sunday.setDate(monday.getDate() + 6);
  return { from: isoDate(monday), to: isoDate(sunday) };
}

/** A lead time in seconds, in the unit that reads best. */
function leadTime(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const format = (value) => i18n.number(value, { maximumFractionDigits: 1 });
  if (seconds < 3600) return t('appointments.minutes', { count: format(seconds / 60) });
  if (seconds < 2 * 86400) return t('appointments.hours', { count: format(seconds / 3600) });
  return t('appointments.days', { count: format(seconds / 86400) });
}

class CabSupervisor extends HTMLElement {
  constructor() {
    super();
    this.data = null;
    this.error = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    /** @type {number | undefined} */
    this.figuresTimer = undefined;
    /** @type {HTMLElement | null} */
    this.figuresEl = null;
    /** @type {HTMLElement | null} */
    this.figuresBody = null;
    this.figuresRange = weekOf(new Date());
    this.figures = null;
    this.figuresError = null;
    /** @type {Pick<import('../api.js').Catalog, 'services'>} */
    this.catalog = { services: [] };
  }

  connectedCallback() {
    this.classList.add('supervisor');
    /** @type {() => void} */
    this.onLanguage = () => {
      this.exporterEl = null;
      this.figuresEl = null;
      this.render();
    };
    /** @type {() => void} */
    this.onVisibility = () => document.hidden || this.load();
    i18n.addEventListener('change', this.onLanguage);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.render();
    this.load();
    this.loadFigures();
    this.timer = setInterval(() => document.hidden || this.load(), REFRESH_MS);
    this.figuresTimer = setInterval(() => document.hidden || this.loadFigures(), FIGURES_REFRESH_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
    clearInterval(this.figuresTimer);
    i18n.removeEventListener('change', this.onLanguage);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  async load() {
    try {
      this.data = await api.overview();
      this.error = null;
    } catch (error) {
      this.error = error.status === 403 ? t('supervisor.forbidden') : t('supervisor.failed');
    }
    this.render();
  }

  async loadFigures() {
    const { from, to } = this.figuresRange;
    try {
      const figures = await api.appointmentFigures(from, to);
      if (from !== this.figuresRange.from || to !== this.figuresRange.to) return;
      this.figures = figures;
      this.figuresError = null;
    } catch (error) {
      this.figuresError = error.status === 422 ? error.detail ?? t('appointments.failed') : t('appointments.failed');
    }
    this.renderFigures();
  }

  /** The appointments panel: its range inputs stay while the table below them changes. */
  appointmentsPanel() {
    const from = h('input', { type: 'date', name: 'from', value: this.figuresRange.from, required: true });
    const to = h('input', { type: 'date', name: 'to', value: this.figuresRange.to, required: true });
    const change = () => {
      if (!from.value || !to.value) return;
      this.figuresRange = { from: from.value, to: to.value };
      this.loadFigures();
    };
    from.addEventListener('change', change);
    to.addEventListener('change', change);
    this.figuresBody = h('div', { class: 'appointment-figures-body' });
    return h(
      'section',
      { class: 'panel appointment-figures' },
      h('h2', {}, t('appointments.title')),
      h('div', { class: 'row' }, h('label', {}, t('export.from'), from), h('label', {}, t('export.to'), to)),
      h('p', { class: 'muted small' }, t('appointments.hint')),
      this.figuresBody,
    );
  }

  renderFigures() {
    if (!this.figuresBody) return;
    const figures = this.figures;
    if (this.figuresError) {
      mount(this.figuresBody, h('p', { class: 'form-error', role: 'alert' }, this.figuresError));
      return;
    }
    if (!figures) {
      mount(this.figuresBody, h('p', { class: 'muted' }, t('app.loading')));
      return;
    }
    if (!figures.services.length) {
      mount(this.figuresBody, h('p', { class: 'muted' }, t('appointments.none')));
      return;
    }
    const percent = (value) => (value === null || value === undefined ? '—' : i18n.number(value, { style: 'percent', maximumFractionDigits: 0 }));
    const line = (row, name, total = false) =>
      h(
        'tr',
        { class: total ? 'total' : '', dataset: { service: row.service } },
        h(total ? 'th' : 'td', {}, name),
        h('td', { class: 'num figure-bookings' }, i18n.number(row.bookings)),
        h('td', { class: 'num figure-cancelled' }, i18n.number(row.cancelled)),
        h('td', { class: 'num figure-no-shows' }, i18n.number(row.no_shows), row.bookings ? h('span', { class: 'muted small' }, ` (${percent(row.no_shows / row.bookings)})`) : null),
        h('td', { class: 'num figure-lead-time' }, leadTime(row.lead_time_median_s)),
        h('td', { class: 'num figure-utilisation' }, percent(row.utilisation), h('span', { class: 'muted small' }, ` ${t('appointments.places', { taken: i18n.number(row.places_taken), offered: i18n.number(row.places_offered) })}`)),
      );
    mount(
      this.figuresBody,
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['appointments.service', 'appointments.bookings', 'appointments.cancelled', 'appointments.no_shows', 'appointments.lead_time', 'appointments.utilisation'].map((key) => h('th', {}, t(key))))),
        h('tbody', {}, figures.services.map((row) => line(row, this.serviceName(row.service)))),
        figures.services.length > 1 ? h('tfoot', {}, line(figures.total, t('appointments.total'), true)) : null,
      ),
    );
  }

  serviceName(code) {
    const item = this.catalog.services.find((entry) => entry.code === code);
    return item ? i18n.pick(item.names, code) : code;
  }

  figure(key, value, extra = null) {
    return h('div', { class: 'figure', dataset: { figure: key } }, h('span', { class: 'figure-value' }, value), h('span', { class: 'figure-label' }, t(`figures.${key}`)), extra);
  }

  today(today) {
    const minutes = (seconds) => (seconds === null || seconds === undefined ? '—' : clock(seconds));
    const satisfaction = today.satisfaction?.count
      ? `${i18n.number(today.satisfaction.average, { maximumFractionDigits: 1 })} / 5`
      : '—';
    // The office day at least (8 to 20 h), wider if attentions started earlier or later.
    const counts = new Map((today.by_hour ?? []).map((slot) => [slot.hour, slot.attentions]));
    const first = Math.min(8, ...counts.keys());
    const last = Math.max(20, ...counts.keys());
    const hours = [];
    for (let hour = first; hour <= last; hour += 1) {
      const count = counts.get(hour) ?? 0;
      hours.push({ label: String(hour), value: count, title: t('figures.hour_title', { hour, count }) });
    }
    return h(
      'section',
      { class: 'panel today' },
      h('h2', {}, t('supervisor.today')),
      h(
        'div',
        { class: 'figures' },
        this.figure('attentions', i18n.number(today.attentions)),
        this.figure('answered', i18n.number(today.answered)),
        this.figure('average_wait', minutes(today.average_wait_s)),
        this.figure('p90_wait', minutes(today.p90_wait_s)),
        this.figure('abandoned', i18n.number(today.abandoned)),
        this.figure('satisfaction', satisfaction, today.satisfaction?.count ? h('span', { class: 'muted small' }, t('figures.answers', { count: today.satisfaction.count })) : null),
      ),
      counts.size ? h('figure', { class: 'hourly' }, barChart(hours, { width: 640, height: 96 }), h('figcaption', { class: 'muted small' }, t('figures.by_hour'))) : null,
    );
  }

  queues(queues) {
    return h(
      'section',
      { class: 'panel queues' },
      h('h2', {}, t('supervisor.queues')),
      queues.length
        ? h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ['queue.service', 'queue.language', 'queue.waiting', 'queue.ringing', 'queue.staffed', 'queue.longest'].map((key) => h('th', {}, t(key))))),
            h(
              'tbody',
              {},
              queues.map((queue) =>
                h(
                  'tr',
                  { class: queue.waiting && !queue.staffed ? 'alert' : '', dataset: { service: queue.service, language: queue.language } },
                  h('td', {}, this.serviceName(queue.service)),
                  h('td', {}, queue.language.toUpperCase()),
                  h('td', { class: 'num queue-waiting' }, queue.waiting),
                  h('td', { class: 'num' }, queue.ringing),
                  h('td', { class: 'num' }, queue.staffed),
                  h('td', { class: 'num' }, queue.waiting ? clock(queue.longest_wait_s) : '—'),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('supervisor.no_queues')),
    );
  }

  agents(agents) {
    const counts = AGENT_STATES.map((state) => ({
      key: state,
      value: agents.filter((agent) => agent.state === state).length,
    })).map((part) => ({ ...part, title: `${t(`presence.${part.key}`)}: ${part.value}` }));
    return h(
      'section',
      { class: 'panel agents' },
      h('h2', {}, t('supervisor.agents')),
      stackedStrip(counts),
      h('p', { class: 'legend small' }, counts.filter((part) => part.value).map((part) => h('span', { class: ['legend-item', `part-${part.key}`] }, h('span', { class: 'swatch' }), part.title))),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['agent.name', 'agent.state', 'agent.since', 'agent.calls_today'].map((key) => h('th', {}, t(key))))),
        h(
          'tbody',
          {},
          agents.map((agent) =>
            h(
              'tr',
              { dataset: { agentId: agent.id, state: agent.state } },
              h('td', {}, agent.name),
              h('td', {}, h('span', { class: ['presence', `presence-${agent.state}`] }, h('span', { class: 'dot' }), t(`presence.${agent.state}`))),
              h('td', { class: 'num' }, agent.state === 'offline' ? '—' : clock(agent.seconds_in_state)),
              h('td', { class: 'num' }, agent.calls_today),
            ),
          ),
        ),
      ),
    );
  }

  cabins(cabins) {
    return h(
      'section',
      { class: 'panel cabins' },
      h('h2', {}, t('supervisor.cabins')),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['cabin.name', 'cabin.site', 'cabin.activity', 'cabin.devices', 'cabin.heartbeat'].map((key) => h('th', {}, t(key))))),
        h(
          'tbody',
          {},
          cabins.map((cabin) =>
            h(
              'tr',
              { class: cabin.faults.length ? 'alert' : '', dataset: { cabinId: cabin.id, activity: cabin.activity } },
              h('td', {}, cabin.name),
              h('td', {}, cabin.site?.name ?? ''),
              h('td', {}, h('span', { class: ['activity', `activity-${cabin.activity}`] }, t(`cabin.activity.${cabin.activity}`))),
              h(
                'td',
                { class: 'faults' },
                cabin.faults.length
                  ? cabin.faults.map((fault) => h('span', { class: 'tag tag-fault' }, `${t(`device.${fault.device}`)}: ${t(`device.error.${fault.error ?? fault.state}`)}`))
                  : cabin.online ? t('cabin.devices_ok') : '—',
              ),
              h('td', {}, cabin.last_heartbeat ? i18n.dateTime(cabin.last_heartbeat, { timeStyle: 'medium' }) : '—'),
            ),
          ),
        ),
      ),
    );
  }

  /**
   * The CSV export, from and to `today` at first: the hub's day (the office's time zone, as
   * the hub counts days), not the browser's, which around midnight may be another.
   * @param {string} today
   */
  exporter(today) {
    const from = h('input', { type: 'date', name: 'from', value: today, required: true });
    const to = h('input', { type: 'date', name: 'to', value: today, required: true });
    const link = h('a', { class: 'button', href: api.exportUrl(today, today), download: `attentions-${today}.csv` }, t('export.download'));
    const refresh = () => {
      link.href = api.exportUrl(from.value, to.value);
      link.download = `attentions-${from.value}-${to.value}.csv`;
    };
    from.addEventListener('change', refresh);
    to.addEventListener('change', refresh);
    return h('section', { class: 'panel export' }, h('h2', {}, t('export.title')), h('div', { class: 'row' }, h('label', {}, t('export.from'), from), h('label', {}, t('export.to'), to), link), h('p', { class: 'muted small' }, t('export.hint')));
  }

  render() {
    const data = this.data;
    if (data) this.exporterEl ??= this.exporter(data.today.date);
    const exporter = this.exporterEl;
    if (!this.figuresEl) {
      this.figuresEl = this.appointmentsPanel();
      this.renderFigures();
    }
    const appointments = this.figuresEl;
    mount(
      this,
      h('div', { class: 'board-head' }, h('h1', {}, t('supervisor.title')), data ? h('span', { class: 'muted small updated' }, t('supervisor.updated', { time: i18n.dateTime(data.generated_at, { timeStyle: 'medium' }) })) : null),
      this.error ? h('p', { class: 'form-error', role: 'alert' }, this.error) : null,
      data ? this.today(data.today) : h('p', { class: 'muted' }, t('app.loading')),
      data ? h('div', { class: 'board-grid' }, this.queues(data.queues), this.agents(data.agents)) : null,
      data ? this.cabins(data.cabins) : null,
      appointments,
      exporter,
    );
  }
}

customElements.define('cab-supervisor', CabSupervisor);
