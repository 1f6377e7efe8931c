// The console's texts in Spanish, Catalan, Basque and English, from i18n/<lang>.json.

export const LANGUAGES = ['es', 'ca', 'eu', 'en'];
const STORAGE_KEY = 'cabina.console.language';

class Catalog extends EventTarget {
  constructor() {
    super();
    this.language = 'es';
    this.messages = {};
    this.fallback = {};
  }

  /** The language to start in: the one chosen before, else the browser's, else Spanish. */
  preferred() {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved !== null && LANGUAGES.includes(saved)) return saved;
    for (const tag of navigator.languages ?? []) {
      const base = tag.toLowerCase().split('-')[0];
      if (LANGUAGES.includes(base)) return base;
    }
    return 'es';
  }

  async load(language) {
    const lang = LANGUAGES.includes(language) ? language : 'es';
    const fetchCatalog = async (code) => {
      const response = await fetch(`i18n/${code}.json`, { cache: 'no-cache' });
      if (!response.ok) throw new Error(`Expected the ${code} catalog, but got HTTP ${response.status}`);
      return response.json();
    };
    const [messages, fallback] = await Promise.all([
      fetchCatalog(lang),
      lang === 'es' ? null : fetchCatalog('es'),
    ]);
    this.language = lang;
    this.messages = messages;
    this.fallback = fallback ?? messages;
    localStorage.setItem(STORAGE_KEY, lang);
    document.documentElement.lang = lang;
    this.translate(document);
    this.dispatchEvent(new Event('change'));
  }

  /** The text for `key`, with {name} placeholders filled from `params`. */
  t(key, params = {}) {
    const template = this.messages[key] ?? this.fallback[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
  }

  /** Whether the catalog has `key` (for codes coming from the hub or the cabin). */
  has(key) {
    return key in this.messages || key in this.fallback;
  }

  /** Fill elements marked data-i18n (text), data-i18n-placeholder, -title and -label. */
  translate(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = this.t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
      el.placeholder = this.t(el.dataset.i18nPlaceholder);
    }
    for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = this.t(el.dataset.i18nTitle);
    for (const el of root.querySelectorAll('[data-i18n-label]')) {
      el.setAttribute('aria-label', this.t(el.dataset.i18nLabel));
    }
  }

  /** A name from the hub's catalogue ({es: 'Padrón', ca: 'Padró', …}) in the console's language. */
  pick(names, fallback = '') {
    if (!names) return fallback;
    return names[this.language] ?? names.es ?? names.en ?? Object.values(names)[0] ?? fallback;
  }

  /**
   * A date and time in the console's language.
   * @param {string | number | Date | null | undefined} value
   * @param {Intl.DateTimeFormatOptions} [options]
   */
  dateTime(value, options = { dateStyle: 'medium', timeStyle: 'short' }) {
    if (!value) return '';
    return new Intl.DateTimeFormat(this.language, options).format(new Date(value));
  }

  /**
   * @param {number} value
   * @param {Intl.NumberFormatOptions} [options]
   */
  number(value, options = {}) {
    return new Intl.NumberFormat(this.language, options).format(value);
  }
}

export const i18n = new Catalog();
export const t = (key, params) => i18n.t(key, params);
