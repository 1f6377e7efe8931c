// The citizen's page of a video appointment from home: device check, identification, waiting
// room, call, survey. One step shows at a time; focus moves to its heading so that a screen
// reader announces it. A reload (or the same link opened again) resumes the visit through
// GET /api/web/visits/current while its grace time lasts.

import { call, refusal, texts } from './api.js';
import { cameraCount, checkNetwork, openMedia, playTone, watchLevel } from './devices.js';
import { CallMedia, Citizen } from './call.js';
import { CloseCode } from './contract.js';

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
/** What the page knows of its own appointment: a visit of another one is not resumed here. */
const pageData = JSON.parse(document.getElementById('page-data')?.textContent ?? '{}');
const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));

const state = {
  /** @type {any} the visit body from the hub, once identified */
  visit: null,
  /** @type {MediaStream | null} */
  stream: null,
  facingMode: 'user',
  cameras: 0,
  /** @type {{ stop(): void } | null} */
  meter: null,
  /** @type {Citizen | null} */
  citizen: null,
  /** @type {CallMedia | null} */
  media: null,
  /** 'check' | 'identify' | 'wait' | 'call' | 'end' | 'message' */
  step: 'check',
  /** The STUN/TURN servers of the latest welcome (TURN credentials expire). */
  iceServers: /** @type {RTCIceServer[]} */ ([]),
  /** Whether an agent answered the call: only then is there a survey. */
  answered: false,
  muted: false,
  cameraOff: false,
};

function say(text) {
  $('status').textContent = text;
}

function show(step) {
  state.step = step;
  document.body.dataset.step = step;
  for (const section of document.querySelectorAll('section.step')) {
    if (!(section instanceof HTMLElement)) continue;
    section.hidden = section.id !== `step-${step}`;
  }
  say('');
  $(`${step}-title`)?.focus();
}

function message(title, text) {
  $('message-title').textContent = title;
  $('message-text').textContent = text;
  show('message');
}

// 1. Device check ---------------------------------------------------------------------------

async function startCheck() {
  const { stream, error } = await openMedia(state.facingMode);
  state.stream = stream;
  const hasVideo = Boolean(stream?.getVideoTracks().length);
  if (stream && hasVideo) {
    $('preview').srcObject = stream;
    $('camera-state').textContent = texts.camera_ok;
  } else {
    $('preview').hidden = true;
    const why = error === 'NotAllowedError' ? texts.camera_denied : texts.camera_missing;
    $('camera-state').textContent = `${why} ${stream ? texts.audio_only : texts.no_media}`;
    $('help').open = true;
  }
  if (stream?.getAudioTracks().length) {
    let heard = false;
    state.meter = watchLevel(stream, (level) => {
      $('mic-level').value = level;
      if (level > 8 && !heard) {
        heard = true;
        $('mic-state').textContent = texts.mic_ok;
      }
    });
  } else {
    $('mic-level').closest('.meter-row').hidden = true;
  }
  state.cameras = await cameraCount();
  $('network-state').textContent = texts.network_checking;
  const network = await checkNetwork();
  $('network-state').textContent = texts[`network_${network}`];
}

$('play-tone').addEventListener('click', async () => {
  await playTone().catch(() => {});
  $('tone-answer').hidden = false;
});
$('tone-yes').addEventListener('click', () => {
  $('tone-state').textContent = texts.tone_heard;
  $('tone-answer').hidden = true;
});
$('tone-no').addEventListener('click', () => {
  $('tone-state').textContent = texts.tone_not_heard;
});
$('check-done').addEventListener('click', () => {
  state.meter?.stop();
  state.meter = null;
  show('identify');
});

// 2. Identification -------------------------------------------------------------------------

$('send-code').addEventListener('click', async () => {
  const button = $('send-code');
  button.disabled = true;
  $('code-state').textContent = texts.sending;
  const answer = await call('POST', `/api/web/visits/${encodeURIComponent(token)}/code`, {
    language: document.documentElement.dataset.lang,
  });
  button.disabled = false;
  if (answer.ok) {
    const channels = answer.data?.channels ?? [];
    const both = channels.includes('email') && channels.includes('sms');
    $('code-state').textContent = both
      ? texts.code_sent_both
      : channels.includes('sms')
        ? texts.code_sent_sms
        : texts.code_sent_email;
    $('document').focus();
  } else {
    $('code-state').textContent = refusal(answer);
  }
});

$('identify').addEventListener('submit', async (/** @type {SubmitEvent} */ event) => {
  event.preventDefault();
  const documentValue = $('document').value.trim();
  const code = $('code').value.replace(/\s/g, '');
  const error = $('identify-error');
  if (!/^[0-9]{6}$/.test(code)) {
    error.textContent = texts.no_code;
    $('code').setAttribute('aria-invalid', 'true');
    $('code').focus();
    return;
  }
  $('code').removeAttribute('aria-invalid');
  error.textContent = '';
  const submit = $('identify').querySelector('button[type=submit]');
  submit.disabled = true;
  const answer = await call('POST', `/api/web/visits/${encodeURIComponent(token)}/identify`, {
    document: documentValue,
    code,
  });
  submit.disabled = false;
  if (!answer.ok) {
    error.textContent = refusal(answer);
    return;
  }
  enterWaitingRoom(answer.data);
});

// 3. Waiting room ---------------------------------------------------------------------------

function enterWaitingRoom(visit) {
  state.visit = visit;
  state.iceServers = visit.ice_servers ?? [];
  show('wait');
  $('position').textContent = texts.connecting;
  const citizen = new Citizen();
  state.citizen = citizen;
  citizen.addEventListener('open', (/** @type {any} */ event) => onOpen(event.detail));
  citizen.addEventListener('error', (/** @type {any} */ event) => onHubError(event.detail));
  citizen.addEventListener('reconnecting', () => say(texts.reconnecting));
  citizen.addEventListener('closed', (/** @type {any} */ event) => onRefused(event.detail.code));
  citizen.addEventListener('queue.update', (/** @type {any} */ event) => onQueue(event.detail));
  citizen.addEventListener('call.connected', (/** @type {any} */ event) => onConnected(event.detail));
  citizen.addEventListener('rtc.description', (/** @type {any} */ event) =>
    state.media?.onDescription(event.detail.description),
  );
  citizen.addEventListener('rtc.candidate', (/** @type {any} */ event) =>
    state.media?.onCandidate(event.detail.candidate),
  );
  citizen.addEventListener('call.transferred', () => backToWaiting());
  citizen.addEventListener('call.ended', (/** @type {any} */ event) => onEnded(String(event.detail.reason)));
  citizen.connect();
}

function request() {
  const visit = state.visit;
  /** @type {{ type: string, [field: string]: unknown }} */
  const message = {
    type: 'call.request',
    call_id: visit.call_id,
    attention_id: visit.attention_id,
    service: visit.service,
    language: visit.language,
  };
  // The agent's ring says beforehand when the citizen has no camera or no microphone.
  message.devices = {
    camera: Boolean(state.stream?.getVideoTracks().length),
    microphone: Boolean(state.stream?.getAudioTracks().length),
  };
  state.citizen?.send(message);
}

function onOpen(welcome) {
  say('');
  if (Array.isArray(welcome?.ice_servers)) {
    state.iceServers = welcome.ice_servers;
    if (state.media) state.media.iceServers = welcome.ice_servers;
  }
  if (state.step === 'call' && state.media) {
    // The WebSocket came back during the call: a new peer connection, a new offer.
    state.media.offer();
  } else if (state.step === 'wait') {
    request();
    // The hub sends the place in the queue only when there is a queue; until then an agent
    // is being called.
    if ($('position').textContent === texts.connecting) $('position').textContent = texts.wait_soon;
  }
}

/**
 * A refusal from the hub. After a reload during the call the page asks for the call again;
 * the hub answers that it is already connected: the page goes back to it with a new offer.
 * When the page was away longer than the hub waits for a lost citizen, the call has ended
 * meanwhile: the page says the connection was lost, whether or not it knows of an answer.
 */
function onHubError(error) {
  if (error?.code === 'bad_state' && state.step === 'wait') {
    onConnected({ peer: { name: sessionStorage.getItem(`agent:${state.visit.call_id}`) ?? '' } });
  } else if (error?.code === 'unknown_call' && (state.step === 'wait' || state.step === 'call')) {
    onEnded('gone');
  } else if (error?.code === 'call_ended' && state.step === 'wait') {
    state.answered ||= sessionStorage.getItem(`agent:${state.visit.call_id}`) !== null;
    onEnded('citizen_gone', true);
  }
}

function onQueue(update) {
  const position = Number(update.position) || 1;
  $('position').textContent =
    position <= 1 ? texts.position_next : texts.position.replace('{position}', String(position));
  const minutes = Math.round((Number(update.estimated_wait_s) || 0) / 60);
  $('wait').textContent = minutes >= 2 ? texts.wait_minutes.replace('{minutes}', String(minutes)) : texts.wait_soon;
}

function backToWaiting() {
  state.media?.close();
  state.media = null;
  show('wait');
}

$('leave').addEventListener('click', async () => {
  state.citizen?.send({ type: 'call.cancel', call_id: state.visit.call_id });
  state.citizen?.stop();
  await call('POST', '/api/web/visits/current/leave');
  stopLocal();
  message(texts.left_title, texts.left);
});

// 4. The call -------------------------------------------------------------------------------

function onConnected(connected) {
  if (state.step === 'call') return;
  show('call');
  state.answered = true;
  const name = connected.peer?.name;
  if (name) sessionStorage.setItem(`agent:${state.visit.call_id}`, name);
  $('call-state').textContent = name ? texts.connected.replace('{name}', name) : texts.connected_anonymous;
  $('local').srcObject = state.stream;
  $('local').hidden = !state.stream?.getVideoTracks().length;
  $('switch').hidden = state.cameras < 2;
  $('camera').hidden = !state.stream?.getVideoTracks().length;
  $('mute').hidden = !state.stream?.getAudioTracks().length;
  labelControls();
  const citizen = /** @type {Citizen} */ (state.citizen);
  const media = new CallMedia({
    callId: state.visit.call_id,
    iceServers: state.iceServers,
    send: (m) => citizen.send(m),
    localStream: state.stream,
  });
  state.media = media;
  media.addEventListener('remotestream', (/** @type {any} */ event) => {
    $('remote').srcObject = event.detail;
  });
  media.addEventListener('state', (/** @type {any} */ event) => {
    if (event.detail === 'connected') say('');
    else if (event.detail === 'disconnected' || event.detail === 'failed') say(texts.reconnecting);
  });
  media.offer();
}

function labelControls() {
  $('mute').textContent = state.muted ? texts.unmute : texts.mute;
  $('mute').setAttribute('aria-pressed', String(state.muted));
  $('camera').textContent = state.cameraOff ? texts.camera_on : texts.camera_off;
  $('camera').setAttribute('aria-pressed', String(state.cameraOff));
}

$('mute').addEventListener('click', () => {
  state.muted = !state.muted;
  for (const track of state.stream?.getAudioTracks() ?? []) track.enabled = !state.muted;
  labelControls();
});
$('camera').addEventListener('click', () => {
  state.cameraOff = !state.cameraOff;
  for (const track of state.stream?.getVideoTracks() ?? []) track.enabled = !state.cameraOff;
  labelControls();
});
$('switch').addEventListener('click', async () => {
  const next = state.facingMode === 'user' ? 'environment' : 'user';
  try {
    const fresh = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { exact: next } } });
    const track = fresh.getVideoTracks()[0];
    const stream = /** @type {MediaStream} */ (state.stream);
    for (const old of stream.getVideoTracks()) {
      stream.removeTrack(old);
      old.stop();
    }
    stream.addTrack(track);
    track.enabled = !state.cameraOff;
    await state.media?.replaceVideo(track);
    $('local').srcObject = stream;
    state.facingMode = next;
  } catch {
    // The other camera could not be opened: keep the one in use.
  }
});
$('hang-up').addEventListener('click', () => {
  state.citizen?.send({ type: 'call.end', call_id: state.visit.call_id });
  onEnded('self');
});

// 5. End ------------------------------------------------------------------------------------

function stopLocal() {
  state.media?.close();
  state.media = null;
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.meter?.stop();
}

/**
 * What the citizen reads when the call ends, by the hub's reason (``self``: the citizen hung
 * up; ``gone``: the hub no longer knows the call).
 * @param {string} reason
 * @param {boolean} [lost] the page was away when the call ended: it cannot know more
 */
function endedText(reason, lost = false) {
  if (lost) return texts.ended_lost;
  if (!state.answered) return texts.ended_unanswered;
  if (reason === 'self') return '';
  if (reason === 'hangup') return texts.ended_agent;
  if (/(_lost|_gone|_offline)$/.test(reason)) return texts.ended_lost;
  return texts.ended_other;
}

/**
 * @param {string} reason
 * @param {boolean} [lost]
 */
function onEnded(reason, lost = false) {
  if (state.step === 'end') return;
  stopLocal();
  sessionStorage.removeItem(`agent:${state.visit?.call_id}`);
  $('end-reason').textContent = endedText(reason, lost);
  // The visit stays open (and its socket too) until the survey is answered or skipped: only a
  // call an agent answered has one.
  $('survey').hidden = !state.answered;
  $('survey-skip').hidden = !state.answered;
  if (!state.answered) state.citizen?.stop();
  show('end');
}

async function finish() {
  await call('POST', '/api/web/visits/current/leave');
  state.citizen?.stop();
}

$('survey').addEventListener('submit', async (/** @type {SubmitEvent} */ event) => {
  event.preventDefault();
  const chosen = /** @type {HTMLInputElement | null} */ (
    document.querySelector('input[name="satisfaction"]:checked')
  );
  if (!chosen) return;
  const submit = $('survey').querySelector('button[type=submit]');
  submit.disabled = true;
  const answer = await call('POST', '/api/web/visits/current/survey', { satisfaction: Number(chosen.value) });
  submit.disabled = false;
  const code = answer.data?.code;
  if (answer.ok || code === 'already_answered' || code === 'not_answered' || code === 'no_visit') {
    $('survey').hidden = true;
    $('survey-skip').hidden = true;
    $('survey-state').textContent = answer.ok ? texts.survey_thanks : refusal(answer);
    $('survey-state').focus();
    await finish();
  } else {
    $('survey-state').textContent = refusal(answer);
  }
});

$('survey-skip').addEventListener('click', async () => {
  $('survey').hidden = true;
  $('survey-skip').hidden = true;
  $('end-title').focus();
  await finish();
});

function onRefused(code) {
  stopLocal();
  // The visit ended while the survey was open: its answer will say so.
  if (state.step === 'end') return;
  if (code === CloseCode.ELSEWHERE || code === CloseCode.REPLACED) message(texts.elsewhere_title, texts.elsewhere);
  else message(texts.session_over, '');
}

// Start: resume a visit in progress, or check the devices ------------------------------------

async function start() {
  const current = await call('GET', '/api/web/visits/current');
  // A visit of another appointment (its cookie is still in the browser) is not this link's.
  if (current.ok && current.data && current.data.reference === pageData.reference) {
    const { stream } = await openMedia(state.facingMode);
    state.stream = stream;
    state.cameras = await cameraCount();
    enterWaitingRoom(current.data);
    return;
  }
  show('check');
  await startCheck();
}

start();
