// Small inline SVG charts for the supervisor's board: bars and a stacked strip.
import { s } from './dom.js';

/** Vertical bars, one per item: [{label, value, title}]. */
export function barChart(items, { width = 320, height = 120, className = 'chart' } = {}) {
  const max = Math.max(1, ...items.map((item) => item.value));
  const gap = 4;
  const labelHeight = 14;
  const barWidth = items.length ? (width - gap * (items.length - 1)) / items.length : width;
  const plot = height - labelHeight;
  return s(
    'svg',
    { class: className, viewBox: `0 0 ${width} ${height}`, role: 'img' },
    items.map((item, index) => {
      const barHeight = (item.value / max) * (plot - 2);
      const x = index * (barWidth + gap);
      return s(
        'g',
        {},
        s('title', {}, item.title ?? `${item.label}: ${item.value}`),
        s('rect', { class: 'bar', x, y: plot - barHeight, width: barWidth, height: Math.max(barHeight, item.value ? 1 : 0) }),
        s('text', { class: 'bar-label', x: x + barWidth / 2, y: height - 2, 'text-anchor': 'middle' }, item.label),
      );
    }),
  );
}

/** One horizontal strip split by share: [{key, value, title}] (CSS colours each key). */
export function stackedStrip(parts, { width = 320, height = 18, className = 'chart strip' } = {}) {
  const total = parts.reduce((sum, part) => sum + part.value, 0);
  let x = 0;
  return s(
    'svg',
    { class: className, viewBox: `0 0 ${width} ${height}`, role: 'img', preserveAspectRatio: 'none' },
    total
      ? parts
          .filter((part) => part.value)
          .map((part) => {
            const w = (part.value / total) * width;
            const rect = s('rect', { class: `part part-${part.key}`, x, y: 0, width: w, height }, s('title', {}, part.title));
            x += w;
            return rect;
          })
      : s('rect', { class: 'part part-empty', x: 0, y: 0, width, height }),
  );
}
