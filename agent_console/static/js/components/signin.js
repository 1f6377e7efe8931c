// Signing in: username and password, and the language of the console.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { LANGUAGES, i18n, t } from '../i18n.js';

class CabSignin extends HTMLElement {
  connectedCallback() {
    this.render();
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    i18n.addEventListener('change', this.onLanguage);
  }

  disconnectedCallback() {
    i18n.removeEventListener('change', this.onLanguage);
  }

  render() {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { class: 'primary', type: 'submit' }, t('signin.submit'));
    const form = h(
      'form',
      { class: 'signin-form' },
      h('h1', {}, t('app.name')),
      h('p', { class: 'muted' }, t('signin.intro')),
      h('label', {}, t('signin.username'), username),
      h('label', {}, t('signin.password'), password),
      error,
      submit,
      h(
        'label',
        { class: 'inline' },
        t('app.language'),
        h(
          'select',
          { name: 'language', onchange: (event) => i18n.load(event.target.value) },
          LANGUAGES.map((code) => h('option', { value: code, selected: code === i18n.language }, t(`language.${code}`))),
        ),
      ),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        const result = await api.login(username.value.trim(), password.value);
        this.dispatchEvent(new CustomEvent('signedin', { detail: result.user, bubbles: true }));
      } catch (failure) {
        error.textContent =
          failure.status === 401 ? t('signin.wrong') : failure.status === 429 ? t('signin.too_many') : t('error.network');
        error.hidden = false;
        password.value = '';
        password.focus();
      } finally {
        submit.disabled = false;
      }
    });
    mount(this, h('main', { class: 'signin' }, form));
  }
}

customElements.define('cab-signin', CabSignin);
