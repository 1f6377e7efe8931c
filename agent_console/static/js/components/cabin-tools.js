// Driving the cabin during a call: scan, print (A4 or a receipt ticket), ask for a signature,
// show an information page. Each request is a protocol step whose progress the cabin reports.
import { api } from '../api.js';
import { h, mount, newId } from '../dom.js';
import { i18n, t } from '../i18n.js';
import { problemName } from './fleet-alerts.js';

const FINAL = new Set(['done', 'failed', 'declined', 'cancelled']);
/** The button of each step that needs a device, by the step's kind. */
const DEVICE_BUTTONS = { scan: 'tool-scan', print_a4: 'tool-print-a4', print_receipt: 'tool-print-receipt' };

/** The plain message for a step's outcome: a known error code, or a generic one. */
export function stepMessage(kind, status, error) {
  if (status === 'failed') {
    for (const key of [`step.error.${kind}.${error}`, `step.error.${error}`]) {
      if (error && i18n.has(key)) return t(key);
    }
    return t('step.error.other', { code: error ?? '?' });
  }
  return t(`step.status.${status}`);
}

class CabCabinTools extends HTMLElement {
  constructor() {
    super();
    this.call = null;
    this.send = null;
    this.steps = new Map();
    /** The hub's last word (cabin.tools) on which steps cannot work now, and why. */
    this.unavailable = { callId: null, tools: {} };
  }

  connectedCallback() {
    this.classList.add('cabin-tools', 'panel');
  }

  /** Start driving the cabin of `call`; `send` sends a protocol message to the hub. */
  start(call, send) {
    if (this.unavailable.callId !== call.call_id) this.unavailable = { callId: call.call_id, tools: {} };
    this.call = call;
    this.send = send;
    this.steps = new Map();
    this.render();
  }

  stop() {
    this.call = null;
    this.steps = new Map();
    mount(this);
  }

  /** A cabin.tools from the hub: the steps whose device is down (it may come before start). */
  setUnavailable(callId, tools) {
    this.unavailable = { callId, tools: tools ?? {} };
    if (this.call?.call_id === callId) this.applyUnavailable();
  }

  /** Disable the buttons of steps the cabin cannot do now, saying why. */
  applyUnavailable() {
    for (const [kind, name] of Object.entries(DEVICE_BUTTONS)) {
      const button = /** @type {HTMLButtonElement | null} */ (this.querySelector(`button.${name}`));
      if (!button) continue;
      const problem = this.unavailable.tools[kind];
      button.disabled = Boolean(problem);
      button.title = problem ? t('tools.unavailable', { problem: problemName(problem) }) : '';
      button.dataset.unavailable = problem ?? '';
    }
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }

  /**
   * Ask the cabin for a step; `label` names it in the list (a file's name, a ticket's title).
   * @param {string} kind
   * @param {{ documentId?: string, params?: object, label?: string }} [options]
   */
  request(kind, { documentId, params = {}, label } = {}) {
    const step = { step_id: newId(kind), kind, status: 'requested', error: null, label };
    this.steps.set(step.step_id, step);
    this.send({
      type: 'step.request',
      call_id: this.call.call_id,
      step_id: step.step_id,
      kind,
      ...(documentId ? { document_id: documentId } : {}),
      params,
    });
    this.renderSteps();
    return step;
  }

  /** A step.update from the cabin. */
  onUpdate(update) {
    const step = this.steps.get(update.step_id);
    if (!step || FINAL.has(step.status)) return;
    Object.assign(step, { status: update.status, error: update.error ?? null, progress: update.progress });
    if (update.document_id) {
      step.document_id = update.document_id;
      // A feeder scan sends each sheet as it is scanned (`page`), then the PDF of them all (`pages`).
      this.emit('document', {
        document_id: update.document_id,
        kind: step.kind === 'sign' ? 'signed' : step.kind,
        step_id: step.step_id,
        ...(update.preview_document_id ? { preview_id: update.preview_document_id } : {}),
        ...(update.page ? { page: update.page } : {}),
        ...(update.pages ? { pages: update.pages } : {}),
      });
    }
    if (update.status === 'failed' || update.status === 'declined') {
      this.emit('step-problem', { text: `${t(`step.kind.${step.kind}`)}: ${stepMessage(step.kind, update.status, update.error)}` });
    }
    this.renderSteps();
  }

  async uploadThen(kind, input, params = {}) {
    const file = input.files?.[0];
    if (!file) {
      this.emit('step-problem', { text: t('tools.choose_pdf') });
      return;
    }
    try {
      const purpose = { sign: 'sign', show_info: 'show' }[kind] ?? 'print';
      const uploaded = await api.uploadDocument(this.call.call_id, purpose, file);
      this.emit('document', { document_id: uploaded.document_id, kind: purpose, name: file.name });
      this.request(kind, { documentId: uploaded.document_id, params, label: file.name });
      input.value = '';
    } catch (error) {
      this.emit('step-problem', { text: t('tools.upload_failed', { reason: error.detail ?? error.message }) });
    }
  }

  fileInput(name) {
    return h('input', { type: 'file', name, accept: 'application/pdf,.pdf' });
  }

  render() {
    const a4File = this.fileInput('print-file');
    const signFile = this.fileInput('sign-file');
    const ticketTitle = h('input', { name: 'ticket-title', maxlength: 60 });
    const ticketBody = h('textarea', { name: 'ticket-body', rows: 3, maxlength: 1000 });
    const infoTitle = h('input', { name: 'info-title', maxlength: 80 });
    const infoText = h('textarea', { name: 'info-text', rows: 3, maxlength: 2000 });
    const infoFile = this.fileInput('info-file');
    // Every sheet in the scanner's feeder, each as it comes and then as one PDF, instead of
    // the page on the glass.
    const scanFeeder = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', name: 'scan-feeder' }));
    const scanParams = () => ({ mode: 'color', resolution: 300, ...(scanFeeder.checked ? { source: 'adf' } : {}) });
    // Scanning is one click; the others fold away until needed, so the column stays short.
    const section = (kind, ...content) =>
      h('details', { class: 'tool', dataset: { tool: kind } }, h('summary', {}, t(`tools.${kind}`)), h('div', { class: 'tool-body' }, ...content));
    mount(
      this,
      h('h3', {}, t('tools.title')),
      h(
        'div',
        { class: 'tool tool-row' },
        h('span', {}, t('tools.scan')),
        h('label', { class: 'tool-option' }, scanFeeder, ` ${t('tools.scan_feeder')}`),
        h('button', { type: 'button', class: 'tool-scan primary', onclick: () => this.request('scan', { params: scanParams() }) }, t('tools.scan_button')),
      ),
      section(
        'print_a4',
        a4File,
        h('button', { type: 'button', class: 'tool-print-a4', onclick: () => this.uploadThen('print_a4', a4File, { copies: 1 }) }, t('tools.print_button')),
      ),
      section(
        'print_receipt',
        h('label', {}, t('tools.ticket_title'), ticketTitle),
        h('label', {}, t('tools.ticket_body'), ticketBody),
        h(
          'button',
          {
            type: 'button',
            class: 'tool-print-receipt',
            onclick: () => {
              if (!ticketBody.value.trim()) return this.emit('step-problem', { text: t('tools.ticket_empty') });
              this.request('print_receipt', { params: { title: ticketTitle.value.trim(), text: ticketBody.value.trim() }, label: ticketTitle.value.trim() });
            },
          },
          t('tools.ticket_button'),
        ),
      ),
      section(
        'sign',
        signFile,
        h('button', { type: 'button', class: 'tool-sign', onclick: () => this.uploadThen('sign', signFile, {}) }, t('tools.sign_button')),
      ),
      section(
        'info',
        h('label', {}, t('tools.info_title'), infoTitle),
        h('label', {}, t('tools.info_text'), infoText),
        h('label', {}, t('tools.info_file'), infoFile),
        h(
          'button',
          {
            type: 'button',
            class: 'tool-info',
            onclick: () => {
              const params = { title: infoTitle.value.trim(), text: infoText.value.trim() };
              if (infoFile.files?.length) return this.uploadThen('show_info', infoFile, params);
              if (!params.text) return this.emit('step-problem', { text: t('tools.info_empty') });
              this.request('show_info', { params, label: params.title });
            },
          },
          t('tools.info_button'),
        ),
      ),
      h('h4', {}, t('tools.steps')),
      h('ol', { class: 'steps' }),
    );
    this.applyUnavailable();
    this.renderSteps();
  }

  renderSteps() {
    const list = this.querySelector('ol.steps');
    if (!list) return;
    const steps = [...this.steps.values()].reverse();
    mount(
      list,
      steps.length
        ? steps.map((step) =>
            h(
              'li',
              { class: ['step', `step-${step.status}`], dataset: { stepId: step.step_id, kind: step.kind, status: step.status } },
              h('span', { class: 'step-kind' }, t(`step.kind.${step.kind}`)),
              step.label ? h('span', { class: 'muted' }, step.label) : null,
              h('span', { class: 'step-status' }, step.status === 'requested' ? t('step.status.requested') : stepMessage(step.kind, step.status, step.error)),
            ),
          )
        : h('li', { class: 'muted empty' }, t('tools.no_steps')),
    );
  }
}

customElements.define('cab-cabin-tools', CabCabinTools);
