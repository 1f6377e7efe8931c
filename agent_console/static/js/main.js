// The console's entry point: sign-in, then the agent's desk, the supervisor's board and the
// technicians' fleet page.
import { api } from './api.js';
import { h, mount } from './dom.js';
import { i18n, t } from './i18n.js';
import './components/agenda.js';
import './components/desk.js';
import { AlertWatch } from './components/fleet-alerts.js';
import './components/fleet-page.js';
import './components/notices.js';
import './components/signin.js';
import './components/supervisor.js';
import './components/topbar.js';

const AGENT_ROLES = new Set(['agent', 'supervisor']);
const SUPERVISOR_ROLES = new Set(['supervisor', 'admin']);
const FLEET_ROLES = new Set(['technician', 'admin']);
// Agents see their own agenda; supervisors and admins any agent's.
const AGENDA_ROLES = new Set(['agent', 'supervisor', 'admin']);
// The cabin's enrolment QR code opens #/enrol/CODE.
const ENROL_ROUTE = /^#\/enrol\/([A-Za-z0-9-]{1,20})$/;
const EMPTY_CATALOG = { services: [], topics: [], outcomes: [] };

class ConsoleApp {
  constructor(root) {
    this.root = root;
    this.me = null;
    this.desk = null;
    this.board = null;
    this.fleet = null;
    this.agenda = null;
    this.alertWatch = null;
    window.addEventListener('hashchange', () => this.route());
  }

  async boot() {
    await i18n.load(i18n.preferred());
    try {
      this.enter(await api.me());
    } catch (error) {
      this.showSignin(error.status === 401 ? null : t('error.network'));
    }
  }

  showSignin(message = null) {
    this.me = null;
    this.desk = null;
    this.board = null;
    this.fleet = null;
    this.agenda = null;
    this.alertWatch?.stop();
    this.alertWatch = null;
    const signin = h('cab-signin');
    signin.addEventListener('signedin', (event) => this.enter(event.detail));
    mount(this.root, message ? h('p', { class: 'notice notice-warning banner' }, message) : null, signin);
  }

  async enter(me) {
    this.me = me;
    const catalog = await api.catalog().catch(() => EMPTY_CATALOG);
    this.topbar = h('cab-topbar');
    this.notices = h('cab-notices');
    this.page = h('main', { class: 'page' });
    mount(this.root, this.topbar, this.notices, this.page);
    this.topbar.update({ me });
    this.topbar.addEventListener('signout', () => this.signOut());
    this.catalog = catalog;
    if (AGENT_ROLES.has(me.role)) {
      this.desk = h('cab-desk', { props: { me } });
      this.page.append(this.desk);
      this.desk.addEventListener('signedout', () => this.showSignin(t('signin.expired')));
      this.desk.start({ topbar: this.topbar, notices: this.notices, catalog });
      // A call that rings while the agent reads the agenda brings the desk back.
      new MutationObserver(() => {
        if (this.desk?.dataset.view === 'ringing' && location.hash === '#/agenda') location.hash = '#/';
      }).observe(this.desk, { attributes: true, attributeFilter: ['data-view'] });
    }
    if (FLEET_ROLES.has(me.role)) {
      this.alertWatch = new AlertWatch();
      this.alertWatch.addEventListener('change', (event) => this.topbar.update({ alerts: /** @type {CustomEvent} */ (event).detail.count }));
      this.alertWatch.start();
    }
    this.route();
  }

  route() {
    if (!this.me) return;
    const canSupervise = SUPERVISOR_ROLES.has(this.me.role);
    const canFleet = FLEET_ROLES.has(this.me.role);
    const enrolCode = ENROL_ROUTE.exec(location.hash)?.[1] ?? null;
    const wantsFleet = location.hash === '#/fleet' || enrolCode !== null;
    const wantsBoard = location.hash === '#/supervisor' || !this.desk;
    let page = wantsBoard && canSupervise ? 'supervisor' : this.desk ? 'desk' : 'none';
    if (location.hash === '#/agenda' && AGENDA_ROLES.has(this.me.role)) page = 'agenda';
    if (wantsFleet) page = canFleet ? 'fleet' : 'fleet-refused';
    else if (page === 'none' && canFleet) page = 'fleet';
    this.topbar.update({ page });
    if (this.desk) this.desk.hidden = page !== 'desk';
    if (page === 'supervisor' && !this.board) {
      this.board = h('cab-supervisor');
      this.board.catalog = this.catalog;
      this.page.append(this.board);
    } else if (page !== 'supervisor' && this.board) {
      this.board.remove();
      this.board = null;
    }
    if (page === 'fleet' && !this.fleet) {
      this.fleet = h('cab-fleet', { props: { watch: this.alertWatch } });
      this.page.append(this.fleet);
    } else if (page !== 'fleet' && this.fleet) {
      this.fleet.remove();
      this.fleet = null;
    }
    if (page === 'agenda' && !this.agenda) {
      this.agenda = h('cab-agenda', { props: { me: this.me, catalog: this.catalog } });
      this.page.append(this.agenda);
    } else if (page !== 'agenda' && this.agenda) {
      this.agenda.remove();
      this.agenda = null;
    }
    if (page === 'fleet' && enrolCode) this.fleet.enrol(enrolCode);
    this.page.querySelector('.no-access')?.remove();
    if (page === 'none') this.page.append(h('p', { class: 'no-access panel' }, t('app.no_access')));
    if (page === 'fleet-refused') this.page.append(h('p', { class: 'no-access panel', role: 'alert' }, t('fleet.forbidden')));
  }

  async signOut() {
    this.desk?.stop();
    this.alertWatch?.stop();
    await api.logout().catch(() => {});
    history.replaceState(null, '', '#/');
    this.showSignin();
  }
}

const app = new ConsoleApp(document.getElementById('app'));
/** @type {any} */ (window).cabinaConsole = app;
app.boot();
