// The capture time written into a frame's top band, read back from a decoded frame: the same
// block pattern as hardware/camera/timestamp.py (marker 1010, 42 bits of milliseconds since
// the epoch, CRC-8), with the same sampling, rounding and thresholds, so both ends agree on
// which frames carry a valid stamp.

export const MARKER = [1, 0, 1, 0];
export const PAYLOAD_BITS = 42;
export const CHECK_BITS = 8;
export const BLOCKS = MARKER.length + PAYLOAD_BITS + CHECK_BITS;
const BAND_FRACTION = 1 / 12;
const MIN_CONTRAST = 64;

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x) {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Rows the band takes at the top of a frame `height` rows high. */
export function bandHeight(height) {
  return Math.max(4, roundHalfEven(height * BAND_FRACTION));
}

function blockEdges(width) {
  const edges = [];
  for (let i = 0; i <= BLOCKS; i++) edges.push(roundHalfEven((i * width) / BLOCKS));
  return edges;
}

/** CRC-8 (polynomial 0x07) of `value` as six big-endian bytes. */
export function crc8(value) {
  let crc = 0;
  for (let k = 5; k >= 0; k--) {
    crc ^= Math.floor(value / 2 ** (8 * k)) % 256;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
  }
  return crc;
}

function bitsOf(value, width) {
  const bits = [];
  for (let i = width - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2);
  return bits;
}

/** Draw `ms` into the top band of a canvas `width` × `height` (the sender's side). */
export function writeTimestamp(ctx, width, height, ms) {
  const bits = [...MARKER, ...bitsOf(ms, PAYLOAD_BITS), ...bitsOf(crc8(ms), CHECK_BITS)];
  const rows = bandHeight(height);
  const edges = blockEdges(width);
  bits.forEach((bit, i) => {
    ctx.fillStyle = bit ? '#ffffff' : '#000000';
    ctx.fillRect(edges[i], 0, edges[i + 1] - edges[i], rows);
  });
}

/**
 * The milliseconds in the band, or null if it is absent. `rgba` holds the band's rows only
 * (`bandHeight(height)` rows of `width` pixels, as getImageData returns them).
 */
export function readTimestamp(rgba, width, height) {
  const rows = bandHeight(height);
  const top = Math.floor(rows / 4);
  const bottom = Math.max(top + 1, Math.floor((3 * rows) / 4));
  const profile = new Float64Array(width);
  for (let y = top; y < bottom; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      profile[x] += (rgba[at] + rgba[at + 1] + rgba[at + 2]) / 3;
    }
  }
  for (let x = 0; x < width; x++) profile[x] /= bottom - top;
  const edges = blockEdges(width);
  const levels = [];
  for (let i = 0; i < BLOCKS; i++) {
    const left = edges[i];
    const right = edges[i + 1];
    const quarter = Math.floor((right - left) / 4);
    const end = Math.max(left + quarter + 1, right - quarter);
    let sum = 0;
    for (let x = left + quarter; x < end; x++) sum += profile[x];
    levels.push(sum / (end - left - quarter));
  }
  const white = [levels[0], levels[2]];
  const black = [levels[1], levels[3]];
  if (Math.min(...white) - Math.max(...black) < MIN_CONTRAST) return null;
  const threshold = (white[0] + white[1] + black[0] + black[1]) / 4;
  const bits = levels.map((level) => (level > threshold ? 1 : 0));
  if (MARKER.some((bit, i) => bits[i] !== bit)) return null;
  let ms = 0;
  for (let i = MARKER.length; i < MARKER.length + PAYLOAD_BITS; i++) ms = ms * 2 + bits[i];
  let check = 0;
  for (let i = MARKER.length + PAYLOAD_BITS; i < BLOCKS; i++) check = check * 2 + bits[i];
  return check === crc8(ms) ? ms : null;
}
