// One cabin on the fleet page: its health device by device, its last self-test, and the remote
// actions a technician may take (restart the app, self-test, screenshot, revoke).
import { api } from '../api.js';
import { clock, h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';
import { detailText, deviceName, problemName } from './fleet-alerts.js';

const OPEN = new Set(['queued', 'sent']);
const SHOWN_ACTIONS = 5;
const TRACK_ONLINE_MS = 1000;
const TRACK_OFFLINE_MS = 5000;

function kindLabel(kind) {
  switch (kind) {
    case 'self_test': return t('fleet.action.self_test');
    case 'screenshot': return t('fleet.action.screenshot');
    case 'restart_app': return t('fleet.action.restart_app');
    default: return kind;
  }
}

function statusLabel(status) {
  switch (status) {
    case 'queued': return t('fleet.status.queued');
    case 'sent': return t('fleet.status.sent');
    case 'done': return t('fleet.status.done');
    case 'failed': return t('fleet.status.failed');
    case 'cancelled': return t('fleet.status.cancelled');
    default: return status;
  }
}

function healthLabel(health) {
  switch (health) {
    case 'ok': return t('fleet.health.ok');
    case 'warning': return t('fleet.health.warning');
    case 'fault': return t('fleet.health.fault');
    case 'missing': return t('fleet.health.missing');
    case 'offline': return t('fleet.health.offline');
    default: return t('fleet.health.unknown');
  }
}

function cabinStatusLabel(status) {
  switch (status) {
    case 'pending': return t('fleet.cabin_status.pending');
    case 'maintenance': return t('fleet.cabin_status.maintenance');
    default: return null;
  }
}

function stateLabel(state) {
  switch (state) {
    case 'ok': return t('fleet.device.ok');
    case 'warning': return t('fleet.device.warning');
    case 'fault': return t('fleet.device.fault');
    case 'missing': return t('fleet.device.missing');
    default: return state ?? '—';
  }
}

/**
 * The card's sections, built by the first render.
 * @typedef {object} CabinParts
 * @property {HTMLElement} head
 * @property {HTMLElement} facts
 * @property {HTMLElement} devices
 * @property {HTMLDetailsElement} selftest
 * @property {HTMLElement} controls
 * @property {HTMLElement} actions
 */

class CabFleetCabin extends HTMLElement {
  constructor() {
    super();
    this.cabin = null;
    this.actions = [];
    this.selftest = null;
    this.confirming = false;
    this.busy = false;
    this.error = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    /** @type {CabinParts | null} */
    this.parts = null;
  }

  connectedCallback() {
    this.classList.add('panel', 'fleet-cabin');
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    i18n.addEventListener('change', this.onLanguage);
    this.render();
    this.loadActions();
  }

  disconnectedCallback() {
    clearTimeout(this.timer);
    this.timer = undefined;
    i18n.removeEventListener('change', this.onLanguage);
  }

  /** New facts from the fleet list. */
  update(cabin) {
    this.cabin = cabin;
    this.dataset.cabinId = cabin.id;
    this.dataset.online = String(cabin.online);
    this.dataset.health = cabin.health;
    this.render();
  }

  async loadActions() {
    if (!this.cabin) return;
    try {
      this.actions = await api.fleetActions(this.cabin.id);
    } catch {
      return; // the page's own refresh reports a hub that cannot be reached
    }
    this.renderActions();
    this.track();
  }

  async loadSelftest() {
    try {
      const detail = await api.fleetCabin(this.cabin.id);
      this.selftest = detail.selftest;
      this.cabin = { ...this.cabin, selftest_ok: detail.selftest_ok, selftest_at: detail.selftest_at };
    } catch {
      this.selftest = null;
    }
    this.renderSelftest();
  }

  track() {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.isConnected || !this.actions.some((action) => OPEN.has(action.status))) return;
    const wait = this.cabin?.online ? TRACK_ONLINE_MS : TRACK_OFFLINE_MS;
    this.timer = setTimeout(() => this.followOpenActions(), wait);
  }

  async followOpenActions() {
    const open = this.actions.filter((action) => OPEN.has(action.status));
    const fresh = await Promise.all(open.map((action) => api.fleetAction(action.id).catch(() => action)));
    const byId = new Map(fresh.map((action) => [action.id, action]));
    const finishedTest = fresh.some((action) => action.kind === 'self_test' && !OPEN.has(action.status));
    this.actions = this.actions.map((action) => byId.get(action.id) ?? action);
    this.renderActions();
    if (finishedTest) {
      if (this.parts) this.parts.selftest.open = true;
      await this.loadSelftest();
      this.dispatchEvent(new CustomEvent('fleet-changed', { bubbles: true }));
    }
    this.track();
  }

  async act(kind) {
    this.error = null;
    this.busy = true;
    this.renderControls();
    try {
      const action = await api.queueAction(this.cabin.id, kind);
      this.actions = [action, ...this.actions];
      this.renderActions();
      this.track();
    } catch (error) {
      this.error = error.status === 403 ? t('fleet.forbidden') : t('fleet.action_failed');
    }
    this.busy = false;
    this.renderControls();
  }

  async revoke() {
    this.error = null;
    this.busy = true;
    this.renderControls();
    try {
      await api.revokeCabin(this.cabin.id);
      this.confirming = false;
      this.dispatchEvent(new CustomEvent('fleet-changed', { bubbles: true }));
      await this.loadActions();
    } catch (error) {
      this.error = error.status === 403 ? t('fleet.forbidden') : t('fleet.action_failed');
    }
    this.busy = false;
    this.renderControls();
  }

  build() {
    /** @type {CabinParts} */
    const parts = {
      head: h('div', { class: 'fleet-cabin-head' }),
      facts: h('dl', { class: 'facts compact fleet-facts' }),
      devices: h('div', { class: 'fleet-devices' }),
      selftest: h('details', { class: 'fleet-selftest' }),
      controls: h('div', { class: 'actions fleet-controls' }),
      actions: h('ul', { class: 'steps fleet-actions' }),
    };
    this.parts = parts;
    parts.selftest.addEventListener('toggle', () => {
      if (parts.selftest.open && this.selftest === null) this.loadSelftest();
    });
    mount(this, ...Object.values(parts));
  }

  render() {
    if (!this.cabin) return;
    if (!this.parts) this.build();
    this.renderHead();
    this.renderFacts();
    this.renderDevices();
    this.renderSelftest();
    this.renderControls();
    this.renderActions();
  }

  renderHead() {
    if (!this.parts) return;
    const { cabin } = this;
    const status = cabinStatusLabel(cabin.status);
    mount(
      this.parts.head,
      h(
        'div',
        { class: 'fleet-cabin-title' },
        h('h2', { tabindex: '-1' }, cabin.name),
        h('span', { class: ['health', `health-${cabin.health}`], dataset: { health: cabin.health } }, h('span', { class: 'dot', 'aria-hidden': 'true' }), healthLabel(cabin.health)),
      ),
      h('div', { class: 'fleet-cabin-site muted' }, cabin.site.name, status ? h('span', { class: 'tag cabin-status' }, status) : null),
    );
  }

  renderFacts() {
    if (!this.parts) return;
    const { cabin } = this;
    const fact = (key, value) => [h('dt', {}, t(key)), h('dd', {}, value ?? '—')];
    mount(
      this.parts.facts,
      fact('fleet.fact.version', cabin.version),
      fact('fleet.fact.uptime', cabin.uptime_s === null ? null : clock(cabin.uptime_s)),
      fact('fleet.fact.heartbeat', cabin.last_heartbeat ? i18n.dateTime(cabin.last_heartbeat, { dateStyle: 'short', timeStyle: 'medium' }) : null),
      fact('fleet.fact.serial', cabin.serial),
      fact('fleet.fact.pending', cabin.pending_actions ? String(cabin.pending_actions) : null),
    );
  }

  renderDevices() {
    if (!this.parts) return;
    const { cabin } = this;
    if (!cabin.devices.length) {
      mount(this.parts.devices, h('p', { class: 'muted small' }, cabin.online ? t('fleet.no_telemetry') : t('fleet.offline_no_devices')));
      return;
    }
    mount(
      this.parts.devices,
      h(
        'table',
        { class: 'device-table' },
        h('thead', {}, h('tr', {}, ['fleet.col.device', 'fleet.col.state', 'fleet.col.paper', 'fleet.col.error'].map((key) => h('th', {}, t(key))))),
        h(
          'tbody',
          {},
          cabin.devices.map((device) =>
            h(
              'tr',
              { class: `device-${device.state}`, dataset: { device: device.device, state: device.state } },
              h('td', {}, deviceName(device.device)),
              h('td', { class: 'device-state' }, h('span', { class: ['state', `state-${device.state}`] }, stateLabel(device.state))),
              h('td', { class: 'device-paper' }, device.paper ? (device.paper === 'ok' ? t('fleet.paper.ok') : problemName(device.paper === 'out' ? 'paper_out' : device.paper)) : '—'),
              h('td', { class: 'device-error' }, device.last_error ? problemName(device.last_error) : '—'),
            ),
          ),
        ),
      ),
    );
  }

  renderSelftest() {
    if (!this.parts) return;
    const { cabin } = this;
    const summary = cabin.selftest_at
      ? t(cabin.selftest_ok ? 'fleet.selftest.passed' : 'fleet.selftest.failed', { time: i18n.dateTime(cabin.selftest_at, { dateStyle: 'short', timeStyle: 'medium' }) })
      : t('fleet.selftest.never');
    const rows = this.selftest ?? [];
    mount(
      this.parts.selftest,
      h('summary', { class: cabin.selftest_at && !cabin.selftest_ok ? 'selftest-failed' : '' }, summary),
      rows.length
        ? h(
            'table',
            { class: 'selftest-table' },
            h(
              'tbody',
              {},
              rows.map((row) =>
                h(
                  'tr',
                  { dataset: { device: row.device, state: row.state }, title: row.advice ?? '' },
                  h('td', {}, deviceName(row.device)),
                  h('td', {}, h('span', { class: ['state', `state-${row.state}`] }, stateLabel(row.state))),
                  h('td', {}, row.error ? problemName(row.error) : '—'),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted small' }, this.selftest === null ? t('app.loading') : t('fleet.selftest.empty')),
    );
  }

  renderControls() {
    if (!this.parts) return;
    const disabled = this.busy;
    const button = (kind) => h('button', { type: 'button', dataset: { action: kind }, disabled, onclick: () => this.act(kind) }, kindLabel(kind));
    const revoke = this.confirming
      ? h(
          'span',
          { class: 'confirm-revoke', role: 'group' },
          h('span', { class: 'confirm-text' }, t('fleet.revoke_confirm', { cabin: this.cabin.name })),
          h('button', { type: 'button', class: 'danger', dataset: { action: 'revoke-confirm' }, disabled, onclick: () => this.revoke() }, t('fleet.revoke')),
          h('button', { type: 'button', class: 'link', disabled, onclick: () => { this.confirming = false; this.renderControls(); } }, t('fleet.cancel')),
        )
      : h('button', { type: 'button', class: 'revoke', dataset: { action: 'revoke' }, disabled, onclick: () => { this.confirming = true; this.renderControls(); } }, t('fleet.revoke'));
    mount(
      this.parts.controls,
      button('self_test'),
      button('screenshot'),
      button('restart_app'),
      h('span', { class: 'spacer' }),
      revoke,
      this.error ? h('p', { class: 'form-error', role: 'alert' }, this.error) : null,
    );
    if (this.confirming) /** @type {HTMLElement | null} */ (this.parts.controls.querySelector('[data-action="revoke-confirm"]'))?.focus();
  }

  renderActions() {
    if (!this.parts) return;
    const shown = this.actions.slice(0, SHOWN_ACTIONS);
    mount(
      this.parts.actions,
      shown.map((action) =>
        h(
          'li',
          { class: ['step', `step-${action.status === 'done' ? 'done' : action.status === 'failed' || action.status === 'cancelled' ? 'failed' : 'open'}`, 'fleet-action'], dataset: { kind: action.kind, status: action.status, actionId: action.id } },
          h('span', { class: 'step-kind' }, kindLabel(action.kind)),
          h('span', { class: 'muted small' }, i18n.dateTime(action.requested_at, { timeStyle: 'medium' })),
          // A screenshot speaks for itself; its detail is only its size.
          h('span', { class: 'action-detail' }, action.has_screenshot ? '' : detailText(action.detail)),
          h('span', { class: 'step-status' }, statusLabel(action.status)),
          action.has_screenshot
            ? h('a', { class: 'screenshot', href: api.screenshotUrl(action.id), target: '_blank', rel: 'noopener' }, h('img', { src: api.screenshotUrl(action.id), alt: t('fleet.screenshot_alt', { cabin: this.cabin.name }) }))
            : null,
        ),
      ),
    );
  }
}

customElements.define('cab-fleet-cabin', CabFleetCabin);
