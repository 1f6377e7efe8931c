// Booking an appointment from the console: for the citizen in the call (a follow-up) or for a
// caller on the phone. Errand, channel and office choose the offer; a day and a time come from
// its availability; the citizen's details and the consent the agent read to them complete it.
import { ApiError, api } from '../api.js';
import { h, mount } from '../dom.js';
import { i18n, t } from '../i18n.js';

/** Languages a citizen can choose (contract/languages.py), in the cabin's order. */
export const CITIZEN_LANGUAGES = ['es', 'ca', 'ca@valencia', 'eu', 'gl', 'en'];
export const CHANNELS = ['cabin_video', 'home_video', 'in_person'];
/** How many days of availability one look shows. */
const WEEK = 7;

/**
 * An offer as the hub sends it (contract.appointments.Offer).
 * @typedef {object} Offer
 * @property {number} id
 * @property {number} site_id
 * @property {string} site_name
 * @property {string} site_address
 * @property {string} service
 * @property {Record<string, string>} names
 * @property {string} channel
 * @property {number} slot_minutes
 * @property {string} timezone
 * @property {number} retention_days
 */

/**
 * What the call in progress tells the form, to fill in a follow-up.
 * @typedef {{ service?: string | null, language?: string | null, siteId?: number | null }} BookingContext
 */

/** A date (YYYY-MM-DD) `days` after `iso`. */
export function addDays(iso, days) {
  const date = new Date(`${iso}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Today's date where the console runs (YYYY-MM-DD). */
export function localToday() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
}

/** The words for an appointment refusal: its code in the agent's language, else the hub's. */
export function refusalText(error) {
  const code = error instanceof ApiError ? error.code : null;
  if (code && i18n.has(`booking.refusal.${code}`)) return t(`booking.refusal.${code}`);
  if (error instanceof ApiError && error.status === 0) return t('error.network');
  if (error instanceof ApiError && error.status === 403) return t('booking.refusal.forbidden');
  if (error instanceof ApiError && error.status === 422) return t('booking.refusal.invalid', { reason: error.detail ?? '' });
  return t('booking.failed', { reason: error?.detail ?? error?.message ?? '' });
}

class CabBooking extends HTMLElement {
  constructor() {
    super();
    /** @type {import('../api.js').Me | null} */
    this.me = null;
    /** @type {BookingContext} */
    this.context = {};
    /** @type {Offer[] | null} */
    this.offers = null;
    this.loadError = null;
    this.choice = { service: '', channel: '', offerId: 0 };
    this.first = localToday();
    /** @type {{ day: string, slots: { starts_at: string, ends_at: string, free: number }[] }[] | null} */
    this.days = null;
    this.day = '';
    this.startsAt = '';
    this.error = null;
    this.busy = false;
    /** @type {{ appointment: any, email: boolean, phone: boolean, withMe: boolean } | null} */
    this.booked = null;
    /** @type {Record<string, any> | null} */
    this.fields = null;
  }

  connectedCallback() {
    this.classList.add('booking', 'panel');
    /** @type {() => void} */
    this.onLanguage = () => this.render();
    i18n.addEventListener('change', this.onLanguage);
    this.render();
    if (this.offers === null) this.loadOffers();
  }

  disconnectedCallback() {
    i18n.removeEventListener('change', this.onLanguage);
  }

  /** Start again, perhaps for the citizen of a new call. @param {BookingContext} [context] */
  reset(context = {}) {
    this.context = context;
    this.booked = null;
    this.error = null;
    this.fields = null;
    this.choice = { service: '', channel: '', offerId: 0 };
    this.applyContext();
    this.render();
    this.loadAvailability();
  }

  async loadOffers() {
    try {
      this.offers = await api.appointmentOffers();
      this.loadError = null;
    } catch (error) {
      this.offers = [];
      this.loadError = refusalText(error);
    }
    this.applyContext();
    this.render();
    this.loadAvailability();
  }

  applyContext() {
    const offers = this.offers ?? [];
    const { service, siteId } = this.context;
    if (!this.choice.service) {
      this.choice.service = offers.some((offer) => offer.service === service) ? String(service) : (offers[0]?.service ?? '');
    }
    const ofService = offers.filter((offer) => offer.service === this.choice.service);
    if (!ofService.some((offer) => offer.channel === this.choice.channel)) this.choice.channel = ofService[0]?.channel ?? '';
    const candidates = ofService.filter((offer) => offer.channel === this.choice.channel);
    if (!candidates.some((offer) => offer.id === this.choice.offerId)) {
      this.choice.offerId = (candidates.find((offer) => offer.site_id === siteId) ?? candidates[0])?.id ?? 0;
    }
  }

  /** @returns {Offer | null} */
  offer() {
    return this.offers?.find((offer) => offer.id === this.choice.offerId) ?? null;
  }

  serviceName(service) {
    const offer = this.offers?.find((item) => item.service === service);
    return offer ? i18n.pick(offer.names, service) : service;
  }

  async loadAvailability() {
    const offer = this.offer();
    this.days = null;
    this.startsAt = '';
    if (!offer) {
      this.render();
      return;
    }
    const first = this.first;
    this.render();
    try {
      const availability = await api.appointmentAvailability(offer.id, first, addDays(first, WEEK - 1));
      if (this.offer() !== offer || this.first !== first) return;
      const days = availability.days.filter((day) => day.slots.length);
      this.days = days;
      if (!days.some((day) => day.day === this.day)) this.day = days[0]?.day ?? '';
    } catch (error) {
      this.days = [];
      this.error = refusalText(error);
    }
    this.render();
  }

  choose(changes) {
    Object.assign(this.choice, changes);
    this.applyContext();
    this.error = null;
    this.loadAvailability();
  }

  /**
   * @param {string} iso
   * @param {Intl.DateTimeFormatOptions} [options]
   */
  time(iso, options = { timeStyle: 'short' }) {
    const offer = this.offer();
    // Times in the office's zone, on a 24-hour clock as offices in Spain give them.
    return i18n.dateTime(iso, { ...options, hourCycle: 'h23', timeZone: offer?.timezone });
  }

  dayLabel(iso) {
    return i18n.dateTime(`${iso}T12:00:00Z`, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
  }

  offerPicker() {
    const offers = this.offers ?? [];
    const services = [...new Set(offers.map((offer) => offer.service))];
    const ofService = offers.filter((offer) => offer.service === this.choice.service);
    const channels = CHANNELS.filter((channel) => ofService.some((offer) => offer.channel === channel));
    const sites = ofService.filter((offer) => offer.channel === this.choice.channel);
    return h(
      'div',
      { class: 'row booking-offer' },
      h(
        'label',
        {},
        t('booking.errand'),
        h('select', { name: 'service', onchange: (event) => this.choose({ service: event.target.value, channel: '', offerId: 0 }) }, services.map((code) => h('option', { value: code, selected: code === this.choice.service }, this.serviceName(code)))),
      ),
      h(
        'label',
        {},
        t('booking.channel'),
        h('select', { name: 'channel', onchange: (event) => this.choose({ channel: event.target.value, offerId: 0 }) }, channels.map((code) => h('option', { value: code, selected: code === this.choice.channel }, t(`channel.${code}`)))),
      ),
      h(
        'label',
        {},
        t('booking.office'),
        h('select', { name: 'offer', onchange: (event) => this.choose({ offerId: Number(event.target.value) }) }, sites.map((offer) => h('option', { value: offer.id, selected: offer.id === this.choice.offerId }, offer.site_name))),
      ),
    );
  }

  slotPicker() {
    const from = h('input', { type: 'date', name: 'first', value: this.first, min: localToday(), required: true });
    from.addEventListener('change', () => {
      if (!from.value) return;
      this.first = from.value;
      this.loadAvailability();
    });
    const move = (days) => {
      const next = addDays(this.first, days);
      this.first = next < localToday() ? localToday() : next;
      this.loadAvailability();
    };
    const days = this.days;
    const current = days?.find((day) => day.day === this.day);
    return h(
      'fieldset',
      { class: 'booking-when' },
      h('legend', {}, t('booking.when')),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'week-back', onclick: () => move(-WEEK), disabled: this.first <= localToday(), 'aria-label': t('booking.earlier') }, '◀'),
        h('label', {}, t('booking.from_day'), from),
        h('button', { type: 'button', class: 'week-next', onclick: () => move(WEEK), 'aria-label': t('booking.later') }, '▶'),
      ),
      days === null
        ? h('p', { class: 'muted' }, this.offer() ? t('app.loading') : t('booking.no_offers'))
        : !days.length
          ? h('p', { class: 'muted booking-none' }, t('booking.no_slots'))
          : [
              h(
                'div',
                { class: 'booking-days', role: 'group', 'aria-label': t('booking.day') },
                days.map((day) =>
                  h(
                    'button',
                    {
                      type: 'button',
                      class: ['day', day.day === this.day ? 'current' : ''],
                      'aria-pressed': String(day.day === this.day),
                      dataset: { day: day.day },
                      onclick: () => {
                        this.day = day.day;
                        this.startsAt = '';
                        this.render();
                      },
                    },
                    this.dayLabel(day.day),
                    h('span', { class: 'muted small' }, t('booking.slots', { count: day.slots.length })),
                  ),
                ),
              ),
              h(
                'div',
                { class: 'booking-times', role: 'group', 'aria-label': t('booking.time') },
                (current?.slots ?? []).map((slot) =>
                  h(
                    'button',
                    {
                      type: 'button',
                      class: ['time', slot.starts_at === this.startsAt ? 'current' : ''],
                      'aria-pressed': String(slot.starts_at === this.startsAt),
                      dataset: { startsAt: slot.starts_at },
                      title: t('booking.free', { count: slot.free }),
                      onclick: () => {
                        this.startsAt = slot.starts_at;
                        this.error = null;
                        this.render();
                      },
                    },
                    this.time(slot.starts_at),
                  ),
                ),
              ),
            ],
    );
  }

  /** The citizen's inputs, kept across renders so that nothing typed is lost. */
  citizenFields() {
    if (this.fields) return this.fields;
    const language = this.context.language && CITIZEN_LANGUAGES.includes(this.context.language) ? this.context.language : 'es';
    const canTakeCalls = this.me?.role === 'agent' || this.me?.role === 'supervisor';
    this.fields = {
      name: h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' }),
      document: h('input', { name: 'document', required: true, maxlength: 32, autocomplete: 'off', spellcheck: 'false' }),
      email: h('input', { name: 'email', type: 'email', maxlength: 254, autocomplete: 'off' }),
      phone: h('input', { name: 'phone', type: 'tel', maxlength: 32, autocomplete: 'off' }),
      language: h('select', { name: 'language' }, CITIZEN_LANGUAGES.map((code) => h('option', { value: code, selected: code === language }, t(`language.${code}`)))),
      consent: h('input', { name: 'consent', type: 'checkbox' }),
      // A follow-up from a call is booked with the agent by default; a caller on the phone
      // goes to whoever is free, unless the agent ticks it.
      withMe: canTakeCalls ? h('input', { name: 'with_me', type: 'checkbox', checked: Boolean(this.context.service) }) : null,
    };
    return this.fields;
  }

  citizenPart() {
    const f = this.citizenFields();
    for (const option of f.language.options) option.textContent = t(`language.${option.value}`);
    return h(
      'fieldset',
      { class: 'booking-citizen' },
      h('legend', {}, t('booking.citizen')),
      h('div', { class: 'grid-2' }, h('label', {}, t('booking.name'), f.name), h('label', {}, t('booking.document'), f.document), h('label', {}, t('booking.email'), f.email), h('label', {}, t('booking.phone'), f.phone), h('label', {}, t('booking.language'), f.language)),
      h('p', { class: 'muted small' }, t('booking.contact_hint')),
      // The notice the agent reads to the citizen, with the hub's own retention.
      h('p', { class: 'booking-notice' }, t('booking.notice', { days: this.offer()?.retention_days ?? 0 })),
      h('label', { class: 'check consent' }, f.consent, t('booking.consent')),
      f.withMe ? h('label', { class: 'check with-me' }, f.withMe, t('booking.with_me')) : null,
    );
  }

  async submit(event) {
    event.preventDefault();
    const offer = this.offer();
    const f = this.citizenFields();
    if (!offer || !this.startsAt) {
      this.error = t('booking.pick_time');
      this.render();
      return;
    }
    if (!f.email.value.trim() && !f.phone.value.trim()) {
      this.error = t('booking.refusal.no_contact');
      this.render();
      return;
    }
    if (!f.consent.checked) {
      this.error = t('booking.refusal.no_consent');
      this.render();
      return;
    }
    /** @type {Record<string, unknown>} */
    const booking = {
      offer_id: offer.id,
      starts_at: this.startsAt,
      consent: true,
      citizen: {
        name: f.name.value.trim(),
        document: f.document.value.trim(),
        email: f.email.value.trim() || null,
        phone: f.phone.value.trim() || null,
        language: f.language.value,
      },
    };
    if (f.withMe?.checked && this.me) booking.agent_id = this.me.id;
    this.busy = true;
    this.error = null;
    this.render();
    try {
      const appointment = await api.bookAppointment(booking);
      // The hub says how the receipt really goes: none without a mail server or SMS gateway.
      const by = Array.isArray(appointment.receipt_by) ? appointment.receipt_by : [];
      this.booked = { appointment, email: by.includes('email'), phone: by.includes('sms'), withMe: Boolean(booking.agent_id) };
      this.fields = null;
      this.dispatchEvent(new CustomEvent('booked', { detail: appointment, bubbles: true }));
    } catch (error) {
      this.error = refusalText(error);
      if (error instanceof ApiError && (error.code === 'slot_taken' || error.code === 'slot_unavailable')) this.loadAvailability();
    } finally {
      this.busy = false;
      this.render();
    }
  }

  receipt() {
    if (!this.booked) return null;
    const { appointment, email, phone, withMe } = this.booked;
    const sent = email && phone ? 'booking.receipt_both' : email ? 'booking.receipt_email' : phone ? 'booking.receipt_phone' : 'booking.receipt_none';
    const timeZone = appointment.offer?.timezone;
    return h(
      'div',
      { class: 'booking-done', role: 'status' },
      h('h3', {}, t('booking.done')),
      h('p', { class: 'reference' }, h('span', { class: 'muted' }, t('booking.reference')), ' ', h('strong', { class: 'booking-reference' }, appointment.reference)),
      h(
        'dl',
        {},
        h('dt', {}, t('booking.when')),
        h('dd', {}, i18n.dateTime(appointment.starts_at, { dateStyle: 'full', timeStyle: 'short', hourCycle: 'h23', timeZone })),
        h('dt', {}, t('booking.errand')),
        h('dd', {}, i18n.pick(appointment.offer?.names, appointment.offer?.service ?? '')),
        h('dt', {}, t('booking.office')),
        h('dd', {}, `${appointment.offer?.site_name ?? ''} — ${t(`channel.${appointment.offer?.channel ?? 'in_person'}`)}`),
      ),
      h('p', {}, t(sent)),
      withMe ? h('p', { class: 'muted small' }, t('booking.in_your_agenda')) : null,
      h('button', { type: 'button', class: 'book-another', onclick: () => this.reset(this.context) }, t('booking.another')),
    );
  }

  render() {
    if (!this.isConnected) return;
    const heading = h('h2', {}, t(this.context.service ? 'booking.title_follow_up' : 'booking.title'));
    if (this.booked) {
      mount(this, heading, this.receipt());
      return;
    }
    if (this.offers === null) {
      mount(this, heading, h('p', { class: 'muted' }, t('app.loading')));
      return;
    }
    if (!this.offers.length) {
      mount(this, heading, h('p', { class: this.loadError ? 'form-error' : 'muted', role: this.loadError ? 'alert' : null }, this.loadError ?? t('booking.no_offers')));
      return;
    }
    // A re-render replaces the buttons: keep the focus on the day or time just chosen.
    const focused = document.activeElement instanceof HTMLElement && this.contains(document.activeElement) ? document.activeElement : null;
    const refocus = focused?.dataset.startsAt ? `button.time[data-starts-at="${focused.dataset.startsAt}"]` : focused?.dataset.day ? `button.day[data-day="${focused.dataset.day}"]` : null;
    const form = h(
      'form',
      { class: 'booking-form', novalidate: true, onsubmit: (event) => this.submit(event) },
      this.offerPicker(),
      this.slotPicker(),
      this.citizenPart(),
      this.error ? h('p', { class: 'form-error booking-error', role: 'alert' }, this.error) : null,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit', class: 'primary book', disabled: this.busy }, t('booking.submit')),
        this.startsAt ? h('span', { class: 'muted chosen' }, t('booking.chosen', { time: this.time(this.startsAt, { dateStyle: 'medium', timeStyle: 'short' }) })) : null,
      ),
    );
    mount(this, heading, form);
    if (refocus) /** @type {HTMLElement | null} */ (this.querySelector(refocus))?.focus();
  }
}

customElements.define('cab-booking', CabBooking);
