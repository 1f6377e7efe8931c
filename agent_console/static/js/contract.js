// Generated from contract/signalling.py by agent_console/contract_js.py: do not edit.
// Regenerate with `make contract-js` (python -m agent_console.contract_js).

/** The protocol version every message carries as `v`. */
export const PROTOCOL_VERSION = 1;

/** Why the hub closed a WebSocket: the standard codes it uses and its own 44xx ones. */
export const CloseCode = Object.freeze({
  /** The peer said goodbye, or the hub shuts down. */
  NORMAL: 1000,
  /** A frame larger than the hub accepts. */
  MESSAGE_TOO_LARGE: 1009,
  /** The peer does not read its messages: too many are pending for it. */
  TRY_AGAIN_LATER: 1013,
  /** Bad, missing or revoked credentials: sign in or enrol again before reconnecting. */
  UNAUTHORIZED: 4401,
  /** No heartbeat within the allowed time. */
  NO_HEARTBEAT: 4408,
  /** A newer connection of the same cabin or agent replaced this one. */
  REPLACED: 4409,
  /** A citizen's visit is open in another window already: this newer one is refused (the first keeps the call). */
  ELSEWHERE: 4410,
});

/** The message types a console may send to the hub. */
export const AGENT_MESSAGE_TYPES = Object.freeze(/** @type {const} */ ([
  'call.accept',
  'call.decline',
  'call.end',
  'call.transfer',
  'ping',
  'presence.set',
  'rtc.candidate',
  'rtc.description',
  'step.request',
  'wrapup.done',
]));

/** The message types the hub sends, to consoles and cabins. */
export const HUB_MESSAGE_TYPES = Object.freeze(/** @type {const} */ ([
  'cabin.tools',
  'call.connected',
  'call.ended',
  'call.ring',
  'call.ring_cancelled',
  'call.transferred',
  'error',
  'fleet.action',
  'pong',
  'presence',
  'queue.update',
  'rtc.candidate',
  'rtc.description',
  'service.closed',
  'step.request',
  'step.update',
  'welcome',
]));

/** @typedef {(typeof AGENT_MESSAGE_TYPES)[number]} AgentMessageType */
/** @typedef {(typeof HUB_MESSAGE_TYPES)[number]} HubMessageType */
