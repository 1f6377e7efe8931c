// Who the agent is serving: how their identity was checked, and what happened to them before.
// The hub only answers for the call this agent is in.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';

export const ID_METHODS = ['document_on_camera', 'document_scanned', 'electronic_id', 'clave', 'known_to_agent'];
const DOCUMENT_TYPES = ['dni', 'nie', 'passport'];

class CabCitizen extends HTMLElement {
  constructor() {
    super();
    this.call = null;
    this.data = null;
    this.error = null;
    /** @type {import('../api.js').Catalog} */
    this.catalog = { services: [], topics: [], outcomes: [] };
  }

  connectedCallback() {
    this.classList.add('citizen', 'panel');
  }

  async start(call) {
    this.call = call;
    this.data = null;
    this.error = null;
    this.render();
    // The cabin may identify the citizen itself (electronic ID, Cl@ve): look again now and then.
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (!this.data?.identity && !this.querySelector('form :focus')) this.refresh();
    }, 15_000);
    await this.refresh();
  }

  stop() {
    clearInterval(this.timer);
    this.call = null;
    this.data = null;
    mount(this);
  }

  async refresh() {
    if (!this.call) return;
    const callId = this.call.call_id;
    try {
      const data = await api.citizen(callId);
      if (this.call?.call_id !== callId) return;
      this.data = data;
      this.error = null;
    } catch (error) {
      this.error = error.status === 403 ? t('citizen.not_yours') : t('citizen.failed');
    }
    this.render();
  }

  name(list, code) {
    const item = this.catalog[list]?.find((entry) => entry.code === code);
    return item ? i18n.pick(item.names, code) : code ?? '—';
  }

  identityForm() {
    const method = h('select', { name: 'method', required: true }, ID_METHODS.map((code) => h('option', { value: code }, t(`identity.method.${code}`))));
    const type = h('select', { name: 'document_type' }, DOCUMENT_TYPES.map((code) => h('option', { value: code }, t(`identity.type.${code}`))));
    const number = h('input', { name: 'document_number', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 20 });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h(
      'form',
      { class: 'identity-form' },
      h('label', {}, t('identity.method'), method),
      h('div', { class: 'row' }, h('label', {}, t('identity.type'), type), h('label', {}, t('identity.number'), number)),
      error,
      h('button', { class: 'primary', type: 'submit' }, t('identity.record')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      try {
        await api.recordIdentity(this.call.call_id, {
          method: method.value,
          document_type: type.value,
          document_number: number.value,
        });
        number.value = '';
        await this.refresh();
      } catch (failure) {
        error.textContent = failure.status === 422 ? t('identity.invalid') : failure.status === 429 ? t('identity.too_many') : t('citizen.failed');
        error.hidden = false;
      }
    });
    return form;
  }

  history(attentions) {
    if (!attentions.length) return h('p', { class: 'muted history-empty' }, t('citizen.no_history'));
    return h(
      'ol',
      { class: 'history' },
      attentions.map((item) =>
        h(
          'li',
          { dataset: { attentionId: item.id } },
          h('div', { class: 'history-head' }, h('strong', {}, i18n.dateTime(item.started_at)), h('span', { class: 'muted' }, item.site ?? '')),
          h(
            'dl',
            { class: 'facts compact' },
            h('dt', {}, t('wrapup.topic')),
            h('dd', { class: 'history-topic' }, this.name('topics', item.topic)),
            h('dt', {}, t('wrapup.outcome')),
            h('dd', { class: 'history-outcome' }, this.name('outcomes', item.outcome)),
            h('dt', {}, t('ring.service')),
            h('dd', {}, this.name('services', item.service)),
            item.notes ? [h('dt', {}, t('wrapup.notes')), h('dd', { class: 'history-notes' }, item.notes)] : null,
            item.documents?.length
              ? [
                  h('dt', {}, t('documents.title')),
                  h('dd', { class: 'history-documents' }, item.documents.map((doc) => t(`documents.kind.${doc.kind}`)).join(', ')),
                ]
              : null,
          ),
        ),
      ),
    );
  }

  render() {
    if (!this.call) {
      mount(this);
      return;
    }
    const identity = this.data?.identity;
    mount(
      this,
      h('h3', {}, t('citizen.title')),
      this.error ? h('p', { class: 'form-error' }, this.error) : null,
      identity
        ? h(
            'p',
            { class: 'identity-verified', dataset: { method: identity.method } },
            h('span', { class: 'check', 'aria-hidden': 'true' }, '✓ '),
            t('identity.verified', { method: t(`identity.method.${identity.method}`), when: i18n.dateTime(identity.verified_at, { timeStyle: 'short' }) }),
          )
        : h('p', { class: 'muted identity-unverified' }, t('identity.none')),
      identity
        ? h('details', { class: 'identity-again' }, h('summary', {}, t('identity.again')), this.identityForm())
        : this.identityForm(),
      identity ? h('h4', {}, t('citizen.history')) : null,
      identity ? this.history(this.data.attentions ?? []) : null,
    );
  }
}

customElements.define('cab-citizen', CabCitizen);
