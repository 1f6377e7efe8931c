// The hub's HTTP API, as the console uses it. Every call sends the session cookie.

/**
 * A code and its name in each language ({es: 'Padrón', ca: 'Padró', …}).
 * @typedef {{ code: string, names: Record<string, string> }} CatalogItem
 */

/**
 * The signed-in person, as GET /api/me answers (only what the console reads).
 * @typedef {object} Me
 * @property {number} id
 * @property {string} username
 * @property {string} display_name
 * @property {string} role agent, supervisor, admin or technician
 */

/**
 * What GET /api/catalog answers: services, and the topics (perhaps of one service) and
 * outcomes of wrap-up.
 * @typedef {object} Catalog
 * @property {CatalogItem[]} services
 * @property {(CatalogItem & { service?: string | null })[]} topics
 * @property {CatalogItem[]} outcomes
 */

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status, 0 when the hub could not be reached
   * @param {string} [detail] the hub's explanation
   * @param {any} [body] the refusal's body as the hub sent it (an appointment's refusal
   *   carries a `code`)
   */
  constructor(status, detail, body = null) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }

  /** The refusal's code ({code, message} bodies, bare or under `detail`), or null. */
  get code() {
    const body = this.body;
    if (body && typeof body === 'object') {
      if (typeof body.code === 'string') return body.code;
      if (body.detail && typeof body.detail === 'object' && typeof body.detail.code === 'string') return body.detail.code;
    }
    return null;
  }
}

/**
 * @typedef {object} RequestOptions
 * @property {unknown} [json] a body sent as JSON
 * @property {BodyInit} [body] a body sent as it is (a file)
 * @property {Record<string, string>} [headers]
 */

/**
 * One call to the hub: the parsed JSON (or text) answer, null for 204, ApiError otherwise.
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
async function request(method, path, { json, body, headers = {} } = {}) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, error.message);
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  const data = type.includes('application/json') ? await response.json() : await response.text();
  if (!response.ok) {
    let detail = typeof data === 'string' ? data : data?.detail ?? data?.message;
    if (Array.isArray(detail)) detail = detail.map((item) => item.msg).join('; ');
    else if (detail && typeof detail === 'object') detail = detail.message ?? JSON.stringify(detail);
    throw new ApiError(response.status, detail, data);
  }
  return data;
}

export const api = {
  login: (username, password) => request('POST', '/api/auth/login', { json: { username, password } }),
  logout: () => request('POST', '/api/auth/logout'),
  me: () => request('GET', '/api/me'),
  catalog: () => request('GET', '/api/catalog'),
  closeAttention: (attentionId, closing) =>
    request('POST', `/api/attentions/${encodeURIComponent(attentionId)}/close`, { json: closing }),
  uploadDocument: (callId, purpose, file) =>
    request('POST', `/api/calls/${encodeURIComponent(callId)}/documents?purpose=${purpose}`, {
      body: file,
      headers: { 'Content-Type': file.type || 'application/pdf' },
    }),
  documentUrl: (documentId) => `/api/documents/${encodeURIComponent(documentId)}`,
  recordIdentity: (callId, identity) =>
    request('POST', `/api/calls/${encodeURIComponent(callId)}/identity`, { json: identity }),
  citizen: (callId) => request('GET', `/api/calls/${encodeURIComponent(callId)}/citizen`),
  overview: () => request('GET', '/api/supervisor/overview'),
  exportUrl: (from, to) =>
    `/api/attentions.csv?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
  sites: () => request('GET', '/api/sites'),
  fleetCabins: () => request('GET', '/api/fleet/cabins'),
  fleetCabin: (cabinId) => request('GET', `/api/fleet/cabins/${encodeURIComponent(cabinId)}`),
  fleetAlerts: () => request('GET', '/api/fleet/alerts'),
  fleetActions: (cabinId) => request('GET', `/api/fleet/cabins/${encodeURIComponent(cabinId)}/actions`),
  fleetAction: (actionId) => request('GET', `/api/fleet/actions/${encodeURIComponent(actionId)}`),
  queueAction: (cabinId, kind) =>
    request('POST', `/api/fleet/cabins/${encodeURIComponent(cabinId)}/actions`, { json: { kind } }),
  screenshotUrl: (actionId) => `/api/fleet/actions/${encodeURIComponent(actionId)}/screenshot`,
  revokeCabin: (cabinId) => request('POST', `/api/fleet/cabins/${encodeURIComponent(cabinId)}/revoke`),
  enrolmentRequests: () => request('GET', '/api/enrolment/requests'),
  approveEnrolment: (approval) => request('POST', '/api/enrolment/approvals', { json: approval }),
  appointmentOffers: () => request('GET', '/api/console/appointments/offers'),
  appointmentAvailability: (offerId, first, last) =>
    request(
      'GET',
      `/api/console/appointments/offers/${encodeURIComponent(offerId)}/availability?first=${encodeURIComponent(first)}&last=${encodeURIComponent(last)}`,
    ),
  bookAppointment: (booking) => request('POST', '/api/console/appointments', { json: booking }),
  /**
   * @param {string} day
   * @param {number | null} [agentId]
   */
  agenda: (day, agentId = null) =>
    request(
      'GET',
      `/api/console/appointments/agenda?day=${encodeURIComponent(day)}${agentId === null ? '' : `&agent_id=${encodeURIComponent(agentId)}`}`,
    ),
  agendaFeedUrl: () => request('GET', '/api/console/appointments/feed-url'),
  /** The documents a citizen sent ahead of an appointment. @param {string} appointmentId */
  appointmentDocuments: (appointmentId) => request('GET', `/api/console/appointments/${encodeURIComponent(appointmentId)}/documents`),
  /** Where one of them opens (the session cookie goes with it). */
  appointmentDocumentUrl: (appointmentId, documentId) =>
    `/api/console/appointments/${encodeURIComponent(appointmentId)}/documents/${encodeURIComponent(documentId)}`,
  /** An in-person appointment's citizen arrived at the desk. @param {string} appointmentId */
  markArrived: (appointmentId) => request('POST', `/api/console/appointments/${encodeURIComponent(appointmentId)}/arrived`),
  appointmentFigures: (from, to) =>
    request('GET', `/api/supervisor/appointments?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
  refuseEnrolment: (requestId) =>
    request('DELETE', `/api/enrolment/requests/${encodeURIComponent(requestId)}`),
};
