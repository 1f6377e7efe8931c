// Enrolling a cabin from the fleet page: the code the cabin shows (its QR code opens this page
// with the code filled in), where it is and its name; and the cabins waiting for a technician.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';

const CODE_CHARS = /[^A-Z0-9]/g;

/** A code as people read it: K7PM4X → K7P-M4X. */
export function formatCode(text) {
  const code = String(text ?? '').toUpperCase().replace(CODE_CHARS, '');
  return code.length === 6 ? `${code.slice(0, 3)}-${code.slice(3)}` : code;
}

function refusal(error) {
  switch (error.status) {
    case 404: return t('enrol.error.unknown');
    case 410: return t('enrol.error.expired');
    case 409: return t('enrol.error.used');
    case 429: return t('enrol.error.too_many');
    case 422: return t('enrol.error.invalid');
    case 403: return t('fleet.forbidden');
    default: return t('enrol.error.failed');
  }
}

/**
 * The form and lists, built by render.
 * @typedef {object} EnrolParts
 * @property {HTMLInputElement} code
 * @property {HTMLSelectElement} site
 * @property {HTMLInputElement} name
 * @property {HTMLButtonElement} submit
 * @property {HTMLElement} result
 * @property {HTMLElement} waiting
 */

class CabFleetEnrol extends HTMLElement {
  constructor() {
    super();
    this.sites = [];
    this.waiting = [];
    this.result = null;
    /** @type {EnrolParts | null} */
    this.parts = null;
  }

  connectedCallback() {
    this.classList.add('panel', 'fleet-enrol');
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    i18n.addEventListener('change', this.onLanguage);
    this.render();
    this.loadSites();
  }

  disconnectedCallback() {
    i18n.removeEventListener('change', this.onLanguage);
  }

  async loadSites() {
    try {
      this.sites = await api.sites();
    } catch {
      this.sites = [];
    }
    this.renderSites();
  }

  /** The waiting requests, from the page's refresh. */
  updateWaiting(waiting) {
    this.waiting = waiting ?? [];
    this.renderWaiting();
  }

  /** Fill in a code (from the cabin's QR code) and bring the form to the technician. */
  prefill(code) {
    if (!this.parts) this.render();
    const parts = /** @type {EnrolParts} */ (this.parts);
    parts.code.value = formatCode(code);
    this.result = null;
    this.renderResult();
    this.classList.add('prefilled');
    this.scrollIntoView({ block: 'start' });
    parts.name.focus();
  }

  async submit(event) {
    event.preventDefault();
    if (!this.parts) return;
    const { code, site, name, submit } = this.parts;
    submit.disabled = true;
    this.result = null;
    this.renderResult();
    try {
      const approved = await api.approveEnrolment({ code: code.value.trim(), site: Number(site.value), name: name.value.trim() });
      const siteName = this.sites.find((entry) => entry.id === approved.site_id)?.name ?? '';
      this.result = { ok: true, text: t(approved.created ? 'enrol.approved' : 'enrol.approved_again', { cabin: approved.name, site: siteName }) };
      code.value = '';
      name.value = '';
      this.classList.remove('prefilled');
      if (location.hash.startsWith('#/enrol/')) history.replaceState(null, '', '#/fleet');
      this.dispatchEvent(new CustomEvent('fleet-changed', { bubbles: true }));
    } catch (error) {
      this.result = { ok: false, text: refusal(error) };
    }
    submit.disabled = false;
    this.renderResult();
  }

  async turnDown(request) {
    try {
      await api.refuseEnrolment(request.id);
    } catch (error) {
      this.result = { ok: false, text: error.status === 404 ? t('enrol.error.gone') : t('enrol.error.failed') };
      this.renderResult();
    }
    this.dispatchEvent(new CustomEvent('fleet-changed', { bubbles: true }));
  }

  render() {
    const previous = this.parts;
    const code = h('input', { name: 'code', class: 'enrol-code', autocomplete: 'off', spellcheck: 'false', required: true, maxlength: '9', placeholder: 'K7P-M4X' });
    const site = h('select', { name: 'site', required: true });
    const name = h('input', { name: 'name', autocomplete: 'off', required: true, maxlength: '200', placeholder: t('enrol.name_hint') });
    const submit = h('button', { class: 'primary', type: 'submit' }, t('enrol.approve'));
    if (previous) {
      code.value = previous.code.value;
      name.value = previous.name.value;
    }
    const form = h(
      'form',
      { class: 'enrol-form', onsubmit: (event) => this.submit(event) },
      h('div', { class: 'row' }, h('label', {}, t('enrol.code'), code), h('label', {}, t('enrol.site'), site), h('label', {}, t('enrol.name'), name), submit),
    );
    const result = h('div', { class: 'enrol-result' });
    const waiting = h('div', { class: 'enrol-waiting' });
    this.parts = { code, site, name, submit, result, waiting };
    mount(this, h('h2', {}, t('enrol.title')), h('p', { class: 'muted small' }, t('enrol.intro')), form, result, h('h3', {}, t('enrol.waiting')), waiting);
    this.renderSites(previous?.site.value);
    this.renderResult();
    this.renderWaiting();
  }

  renderSites(selected = this.parts?.site.value) {
    if (!this.parts) return;
    mount(
      this.parts.site,
      h('option', { value: '', disabled: true, selected: !selected }, t('enrol.choose_site')),
      this.sites.map((entry) => h('option', { value: String(entry.id), selected: String(entry.id) === selected }, entry.name)),
    );
    if (this.sites.length === 1 && !selected) this.parts.site.value = String(this.sites[0].id);
  }

  renderResult() {
    if (!this.parts) return;
    const { result } = this;
    mount(this.parts.result, result ? h('p', { class: result.ok ? 'enrol-ok' : 'form-error', role: result.ok ? 'status' : 'alert' }, result.text) : null);
  }

  renderWaiting() {
    if (!this.parts) return;
    if (!this.waiting.length) {
      mount(this.parts.waiting, h('p', { class: 'muted small' }, t('enrol.none_waiting')));
      return;
    }
    const when = (value) => i18n.dateTime(value, { timeStyle: 'short' });
    mount(
      this.parts.waiting,
      h(
        'table',
        { class: 'waiting-table' },
        h('thead', {}, h('tr', {}, ['enrol.col.serial', 'enrol.col.hostname', 'enrol.col.version', 'enrol.col.asked', 'enrol.col.expires'].map((key) => h('th', {}, t(key))), h('th', {}))),
        h(
          'tbody',
          {},
          this.waiting.map((request) =>
            h(
              'tr',
              { dataset: { requestId: request.id, serial: request.serial } },
              h('td', { class: 'mono' }, request.serial),
              h('td', {}, request.hostname ?? '—'),
              h('td', {}, request.software_version ?? '—'),
              h('td', {}, when(request.created_at)),
              h('td', {}, when(request.expires_at)),
              h('td', {}, h('button', { type: 'button', class: 'link turn-down', onclick: () => this.turnDown(request) }, t('enrol.turn_down'))),
            ),
          ),
        ),
      ),
    );
  }
}

customElements.define('cab-fleet-enrol', CabFleetEnrol);
