// The hub's web-visit API, and the citizen's words for each of its refusals.

/** @type {Record<string, string>} */
export const texts = JSON.parse(document.getElementById('texts')?.textContent ?? '{}');

/**
 * One request to the hub; never throws for an HTTP status, only reports it.
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<{ ok: boolean, status: number, data: any }>}
 */
export async function call(method, path, body) {
  try {
    const response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    return { ok: response.ok, status: response.status, data };
  } catch {
    return { ok: false, status: 0, data: null };
  }
}

/** An hour and minute the way the page's language writes them. */
export function clockTime(date) {
  return date.toLocaleTimeString(document.documentElement.lang || 'es', {
    hour: '2-digit',
    minute: '2-digit',
  });
}

/**
 * The sentence the citizen reads for a refused request.
 * @param {{ status: number, data: any }} answer
 */
export function refusal(answer) {
  const data = answer.data ?? {};
  const code = typeof data.code === 'string' ? data.code : '';
  if (answer.status === 0) return texts.network_down;
  if (code === 'too_early' && data.opens_at) {
    return texts.too_early.replace('{time}', clockTime(new Date(data.opens_at)));
  }
  if (code === 'locked_out') {
    const at = new Date(Date.now() + (Number(data.retry_after_s) || 60) * 1000);
    return texts.locked_out.replace('{time}', clockTime(at));
  }
  if (code === 'link_invalid') return texts.link_invalid;
  const text = Object.hasOwn(texts, code) ? texts[code] : '';
  if (text && !text.includes('{')) return text;
  return texts.failed;
}
