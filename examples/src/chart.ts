// SVG drawings of loss curves and of the demos' pictures, as strings: the
// CLI writes them to files, the playground puts them into the page.
import type { Curve, Picture } from './demos/types';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** Colour of series or group `i`. */
export function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/**
 * Centred moving average (half-width about 1/40 of the curve), to read a noisy
 * curve without the lag of an exponential average; non-finite values are skipped.
 */
export function smooth(values: number[], half = Math.max(1, Math.round(values.length / 40))): number[] {
  return values.map((_, i) => {
    let sum = 0;
    let n = 0;
    for (let k = Math.max(0, i - half); k <= Math.min(values.length - 1, i + half); k++) {
      if (Number.isFinite(values[k])) {
        sum += values[k];
        n++;
      }
    }
    return n > 0 ? sum / n : Number.NaN;
  });
}

export interface ChartOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Logarithmic loss axis (when every value is positive). */
  logY?: boolean;
}

/**
 * Loss curves against the step, each phase its own colour; every curve is
 * drawn raw (faint) and smoothed. Curves run one after the other on the step
 * axis when `sequential` (phases of one run), else all from step 0.
 */
export function lossChartSvg(curves: Curve[], options: ChartOptions & { sequential?: boolean } = {}): string {
  const { title = 'loss', width = 640, height = 320, sequential = false } = options;
  const m = { left: 56, right: 16, top: title ? 28 : 12, bottom: 40 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const finite = curves.flatMap((c) => c.values.filter(Number.isFinite));
  const logY = (options.logY ?? false) && finite.length > 0 && finite.every((v) => v > 0);
  const tr = (v: number): number => (logY ? Math.log10(v) : v);
  let lo = finite.length ? Math.min(...finite.map(tr)) : 0;
  let hi = finite.length ? Math.max(...finite.map(tr)) : 1;
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const offsets: number[] = [];
  let acc = 0;
  for (const c of curves) {
    offsets.push(sequential ? acc : 0);
    acc += c.values.length;
  }
  const steps = sequential ? acc : Math.max(1, ...curves.map((c) => c.values.length));
  const x = (i: number): number => m.left + (w * i) / Math.max(1, steps - 1);
  const y = (v: number): number => m.top + h - (h * (tr(v) - lo)) / (hi - lo);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (title) parts.push(`<text x="${m.left}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`);
  const yTicks = logY
    ? niceTicks(lo, hi, 4).map((t) => 10 ** t)
    : niceTicks(lo, hi, 5);
  for (const t of yTicks) {
    const yy = y(t);
    if (yy < m.top - 1 || yy > m.top + h + 1) continue;
    parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 4}" y="${(yy + 4).toFixed(1)}" text-anchor="end" fill="#555">${label(t)}</text>`);
  }
  for (const t of niceTicks(0, steps - 1, 6)) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${m.top + h + 14}" text-anchor="middle" fill="#555">${t}</text>`);
  }
  parts.push(`<text x="${m.left + w / 2}" y="${height - 6}" text-anchor="middle" fill="#555">step</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  curves.forEach((c, k) => {
    const pts = (vals: number[]): string =>
      vals
        .map((v, i) => (Number.isFinite(v) && (!logY || v > 0) ? `${x(offsets[k] + i).toFixed(1)},${y(v).toFixed(1)}` : ''))
        .filter(Boolean)
        .join(' ');
    if (c.values.length > 1) {
      parts.push(`<polyline points="${pts(c.values)}" fill="none" stroke="${color(k)}" stroke-opacity="0.25" stroke-width="1"/>`);
      parts.push(`<polyline points="${pts(smooth(c.values))}" fill="none" stroke="${color(k)}" stroke-width="2"/>`);
    } else if (c.values.length === 1 && Number.isFinite(c.values[0])) {
      parts.push(`<circle cx="${x(offsets[k]).toFixed(1)}" cy="${y(c.values[0]).toFixed(1)}" r="3" fill="${color(k)}"/>`);
    }
    parts.push(`<rect x="${m.left + w - 150}" y="${m.top + 8 + 16 * k}" width="10" height="10" fill="${color(k)}"/>`);
    parts.push(`<text x="${m.left + w - 135}" y="${m.top + 17 + 16 * k}">${esc(c.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A demo's picture as SVG (scatter, text, masks or series). */
export function pictureSvg(picture: Picture, width = 480): string {
  const head = (h: number): string =>
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" font-family="sans-serif" font-size="11"><rect width="${width}" height="${h}" fill="#fff"/><text x="8" y="16" font-size="12" font-weight="bold">${esc(picture.title)}</text>`;
  if (picture.kind === 'series') {
    return lossChartSvg(picture.series, { title: picture.title, width, height: 300 });
  }
  if (picture.kind === 'text') {
    const h = 30 + 16 * picture.lines.length;
    const lines = picture.lines.map(
      (l, i) => `<text x="8" y="${38 + 16 * i}" font-family="monospace" xml:space="preserve">${esc(l)}</text>`,
    );
    return `${head(h)}${lines.join('')}</svg>`;
  }
  if (picture.kind === 'scatter') {
    const size = width;
    const legendH = 16 * Math.ceil(picture.groups.length / 2);
    const h = size + 24 + legendH;
    const xs = picture.points.map((p) => p.x);
    const ys = picture.points.map((p) => p.y);
    const lo = Math.min(...xs, ...ys);
    const hi = Math.max(...xs, ...ys);
    const pad = (hi - lo) * 0.05 + 1e-6;
    const sx = (v: number): number => 8 + ((size - 16) * (v - lo + pad)) / (hi - lo + 2 * pad);
    const sy = (v: number): number => 24 + size - 8 - ((size - 16) * (v - lo + pad)) / (hi - lo + 2 * pad);
    const dots = picture.points
      .map((p) => `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2" fill="${color(p.group)}" fill-opacity="0.7"/>`)
      .join('');
    const legend = picture.groups
      .map((g, i) => {
        const lx = 8 + (i % 2) * (width / 2);
        const ly = size + 28 + 16 * Math.floor(i / 2);
        return `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color(i)}"/><text x="${lx + 14}" y="${ly}">${esc(g)}</text>`;
      })
      .join('');
    return `${head(h)}${dots}${legend}</svg>`;
  }
  // masks: rows of class-index images, one colour per class.
  const perRow = Math.max(...picture.rows.map((r) => r.images.length));
  const cell = Math.floor((width - 110) / perRow);
  const px = cell / Math.max(picture.width, picture.height);
  const h = 30 + picture.rows.length * (cell + 8) + 20;
  const parts: string[] = [head(h)];
  picture.rows.forEach((row, r) => {
    const y0 = 26 + r * (cell + 8);
    parts.push(`<text x="8" y="${y0 + cell / 2}">${esc(row.label)}</text>`);
    row.images.forEach((img, k) => {
      const x0 = 104 + k * cell;
      for (let i = 0; i < picture.height; i++) {
        for (let j = 0; j < picture.width; j++) {
          const c = img[i * picture.width + j];
          if (c === 0) continue;
          parts.push(`<rect x="${(x0 + j * px).toFixed(1)}" y="${(y0 + i * px).toFixed(1)}" width="${px.toFixed(2)}" height="${px.toFixed(2)}" fill="${color(c)}"/>`);
        }
      }
      parts.push(`<rect x="${x0}" y="${y0}" width="${(px * picture.width).toFixed(1)}" height="${(px * picture.height).toFixed(1)}" fill="none" stroke="#999"/>`);
    });
  });
  const ly = h - 8;
  picture.classes.forEach((c, i) => {
    parts.push(`<rect x="${8 + 90 * i}" y="${ly - 9}" width="10" height="10" fill="${i === 0 ? '#fff' : color(i)}" stroke="#999"/><text x="${22 + 90 * i}" y="${ly}">${esc(c)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
