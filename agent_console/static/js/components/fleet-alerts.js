// The fleet's alerts: a watcher that keeps the count for the top bar, the list at the top of the
// fleet page, and the words for devices and their problems that the fleet page shares.
import { api } from '../api.js';
import { h } from '../dom.js';
import { i18n, t } from '../i18n.js';

const WATCH_MS = 15000;

/** A device's name in the console's language (`receipt_printer` → "Ticket printer"). */
export function deviceName(device) {
  const key = `device.${device}`;
  return i18n.has(key) ? t(key) : device;
}

/** A problem code (`paper_out`, `near_end`, `missing` …) as words, or the code itself. */
export function problemName(code) {
  const key = `device.error.${code}`;
  return i18n.has(key) ? t(key) : code;
}

/** An action's detail from the cabin ("receipt_printer: paper_out; handset: missing") in words. */
export function detailText(detail) {
  if (!detail) return '';
  if (detail === 'all devices ok') return t('fleet.selftest.all_ok');
  return detail
    .split('; ')
    .map((part) => {
      const match = /^([a-z0-9_]+): ([a-z0-9_]+)$/.exec(part);
      return match && i18n.has(`device.${match[1]}`) ? `${deviceName(match[1])}: ${problemName(match[2])}` : part;
    })
    .join('; ');
}

/** What one alert says, after the cabin's name. */
export function alertText(alert) {
  if (alert.kind === 'silent') {
    return alert.since
      ? t('fleet.alert.silent_since', { time: i18n.dateTime(alert.since) })
      : t('fleet.alert.silent');
  }
  if (alert.kind === 'paper_low') return t('fleet.alert.paper_low', { device: deviceName(alert.device) });
  return t('fleet.alert.device', { device: deviceName(alert.device), problem: problemName(alert.code) });
}

/** Polls the hub's alerts for technicians and admins; 'change' carries them. */
export class AlertWatch extends EventTarget {
  constructor() {
    super();
    this.data = null;
    /** @type {number | undefined} */
    this.timer = undefined;
  }

  start() {
    this.stop();
    this.refresh();
    this.timer = setInterval(() => document.hidden || this.refresh(), WATCH_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async refresh() {
    try {
      this.set(await api.fleetAlerts());
    } catch {
      // The fleet page says when the hub cannot be reached; the badge keeps its last count.
    }
    return this.data;
  }

  set(data) {
    this.data = data;
    this.dispatchEvent(new CustomEvent('change', { detail: data }));
  }
}

/** The list at the top of the fleet page. */
export function alertsPanel(data) {
  const alerts = data?.alerts ?? [];
  return h(
    'section',
    { class: ['panel', 'fleet-alerts', alerts.length ? 'has-alerts' : ''], 'aria-live': 'polite' },
    h('h2', {}, alerts.length ? t('fleet.alerts_count', { count: alerts.length }) : t('fleet.alerts')),
    alerts.length
      ? h(
          'ul',
          { class: 'alert-list' },
          alerts.map((alert) =>
            h(
              'li',
              {
                class: ['fleet-alert', `alert-${alert.severity}`],
                dataset: { kind: alert.kind, cabinId: alert.cabin_id, device: alert.device ?? '' },
              },
              h('span', { class: 'alert-mark', 'aria-hidden': 'true' }),
              h('a', { class: 'alert-cabin', href: '#/fleet', onclick: (event) => focusCabin(event, alert.cabin_id) }, alert.cabin_name),
              h('span', { class: 'muted' }, ` · ${alert.site.name} — `),
              h('span', { class: 'alert-text' }, alertText(alert)),
            ),
          ),
        )
      : h('p', { class: 'muted no-alerts' }, t('fleet.no_alerts')),
  );
}

function focusCabin(event, cabinId) {
  event.preventDefault();
  const card = document.querySelector(`cab-fleet-cabin[data-cabin-id="${cabinId}"]`);
  if (!card) return;
  card.scrollIntoView({ behavior: 'smooth', block: 'start' });
  card.querySelector('h2')?.focus();
}

/** The alert count beside "Fleet" in the top bar. */
export function alertBadge(count) {
  if (!count) return null;
  return h('span', { class: 'nav-badge', title: t('fleet.alerts_count', { count }) }, String(count));
}
