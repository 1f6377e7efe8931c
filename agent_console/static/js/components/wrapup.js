// Wrap-up: topic and outcome from the hub's lists, notes, close. Attentions not yet closed stay
// listed here (even when a new call comes in) until the agent closes them.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';

const READY_KEY = 'cabina.console.ready_after_close';

class CabWrapup extends HTMLElement {
  constructor() {
    super();
    /** @type {Record<string, any>[]} */
    this.pending = [];
    /** @type {import('../api.js').Catalog} */
    this.catalog = { services: [], topics: [], outcomes: [] };
  }

  connectedCallback() {
    this.classList.add('wrapup', 'panel');
    this.hidden = true;
  }

  /** Add an attention that needs its topic and outcome. */
  add(item) {
    if (this.pending.some((known) => known.attention_id === item.attention_id)) return;
    this.pending.push({ ...item, eventId: crypto.randomUUID() });
    this.render();
  }

  get count() {
    return this.pending.length;
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }

  topicsFor(service) {
    return this.catalog.topics.filter((topic) => !topic.service || topic.service === service);
  }

  form(item) {
    const options = (list) => [
      h('option', { value: '' }, t('wrapup.choose')),
      list.map((entry) => h('option', { value: entry.code }, i18n.pick(entry.names, entry.code))),
    ];
    const topic = h('select', { name: 'topic', required: true }, options(this.topicsFor(item.service)));
    const outcome = h('select', { name: 'outcome', required: true }, options(this.catalog.outcomes));
    const notes = h('textarea', { name: 'notes', rows: 3, maxlength: 4000 });
    const ready = h('input', { type: 'checkbox', name: 'ready', checked: localStorage.getItem(READY_KEY) !== 'no' });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { class: 'primary', type: 'submit' }, t('wrapup.close'));
    const form = h(
      'form',
      { class: 'wrapup-form', dataset: { attentionId: item.attention_id } },
      h(
        'p',
        { class: 'wrapup-head' },
        h('strong', {}, item.cabin?.name ?? ''),
        ' · ',
        i18n.pick(this.catalog.services.find((s) => s.code === item.service)?.names, item.service),
        item.reason && item.reason !== 'hangup' && item.reason !== 'ended'
          ? h('span', { class: 'muted' }, ` · ${t(`ended.${item.reason}`)}`)
          : null,
      ),
      h('div', { class: 'row' }, h('label', {}, t('wrapup.topic'), topic), h('label', {}, t('wrapup.outcome'), outcome)),
      h('label', {}, t('wrapup.notes'), notes),
      h('p', { class: 'muted small' }, t('wrapup.notes_hint')),
      error,
      h('div', { class: 'actions' }, submit, h('label', { class: 'inline' }, ready, t('wrapup.ready_after'))),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      localStorage.setItem(READY_KEY, ready.checked ? 'yes' : 'no');
      try {
        await api.closeAttention(item.attention_id, {
          topic: topic.value,
          outcome: outcome.value,
          notes: notes.value.trim() || null,
          event_id: item.eventId,
        });
        this.pending = this.pending.filter((other) => other !== item);
        this.render();
        this.emit('closed', { attention_id: item.attention_id, ready: ready.checked, remaining: this.pending.length });
      } catch (failure) {
        if (failure.status === 409) {
          // Already closed (from another window, or before a reload): nothing left to do here.
          this.pending = this.pending.filter((other) => other !== item);
          this.render();
          this.emit('closed', { attention_id: item.attention_id, ready: ready.checked, remaining: this.pending.length });
          return;
        }
        error.textContent = t('wrapup.failed', { reason: failure.detail ?? failure.message });
        error.hidden = false;
        submit.disabled = false;
      }
    });
    return form;
  }

  render() {
    this.hidden = this.pending.length === 0;
    mount(
      this,
      h('h3', {}, t('wrapup.title'), this.pending.length > 1 ? ` (${this.pending.length})` : ''),
      this.pending.map((item) => this.form(item)),
    );
  }
}

customElements.define('cab-wrapup', CabWrapup);
