// Plain messages for the agent: what went wrong or what changed, in a calm strip under the bar.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';

const DEFAULT_MS = 8000;

class CabNotices extends HTMLElement {
  constructor() {
    super();
    this.items = new Map();
  }

  connectedCallback() {
    this.setAttribute('role', 'status');
    this.classList.add('notices');
  }

  /**
   * Show `text` (level: info | warning | error). A `key` replaces an earlier notice with the
   * same key; `sticky` notices stay until cleared.
   * @param {string} text
   * @param {{ level?: 'info' | 'warning' | 'error', key?: string, sticky?: boolean, action?: { label: string, run: () => void } | null }} [options]
   */
  show(text, { level = 'info', key = text, sticky = false, action = null } = {}) {
    this.clear(key);
    const close = h('button', { class: 'notice-close', type: 'button', onclick: () => this.clear(key) }, '×');
    close.setAttribute('aria-label', t('notice.dismiss'));
    const item = h(
      'div',
      { class: ['notice', `notice-${level}`], dataset: { key } },
      h('span', { class: 'notice-text' }, text),
      action ? h('button', { class: 'link', type: 'button', onclick: action.run }, action.label) : null,
      close,
    );
    const timer = sticky ? null : setTimeout(() => this.clear(key), DEFAULT_MS);
    this.items.set(key, { item, timer });
    this.append(item);
    return key;
  }

  clear(key) {
    const entry = this.items.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.item.remove();
    this.items.delete(key);
  }

  clearAll() {
    for (const key of [...this.items.keys()]) this.clear(key);
    mount(this);
  }
}

customElements.define('cab-notices', CabNotices);
