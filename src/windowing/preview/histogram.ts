/**
 * HU distribution plot (the notebook's "Distribution of DICOM Pixel Values": 300 bins, cyan),
 * of the HU of all given slices, with axes, tick labels and title.
 *
 * @example await writeFile('hist.png', await huHistogram([hu1, hu2]));
 */
import { createCanvas } from '@napi-rs/canvas';
import { ensureFont } from './fonts.js';

export interface HistogramOptions {
  bins?: number;
  width?: number;
  height?: number;
  title?: string;
}

/** Counts of `values` in `bins` equal bins over [min, max] (max in the last bin). */
export function histogramCounts(values: Float32Array[], bins: number): { counts: number[]; min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!Number.isFinite(min)) throw new Error('histogram: no finite values');
  const counts = new Array<number>(bins).fill(0);
  const span = max - min || 1;
  for (const v of values) for (const x of v) counts[Math.min(bins - 1, Math.floor(((x - min) / span) * bins))]++;
  return { counts, min, max };
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

export async function huHistogram(values: Float32Array[], opts: HistogramOptions = {}): Promise<Buffer> {
  const bins = opts.bins ?? 300;
  const W = opts.width ?? 800;
  const H = opts.height ?? 400;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${bins}`);
  const { counts, min, max } = histogramCounts(values, bins);
  const font = ensureFont();
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  const L = 70, R = 20, T = 36, B = 46;
  const pw = W - L - R, ph = H - T - B;
  const top = Math.max(...counts, 1);
  ctx.fillStyle = '#00bfbf'; // matplotlib 'c'
  counts.forEach((n, i) => {
    const bh = (n / top) * ph;
    ctx.fillRect(L + (i / bins) * pw, T + ph - bh, Math.max(1, pw / bins), bh);
  });
  ctx.strokeStyle = '#000000';
  ctx.lineWidth = 1;
  ctx.strokeRect(L, T, pw, ph);
  ctx.fillStyle = '#000000';
  ctx.font = `11px ${font}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const xs = niceStep(max - min || 1, 8);
  for (let x = Math.ceil(min / xs) * xs; x <= max; x += xs) {
    const px = L + ((x - min) / (max - min || 1)) * pw;
    ctx.fillRect(px, T + ph, 1, 4);
    ctx.fillText(String(Math.round(x)), px, T + ph + 6);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const ys = niceStep(top, 5);
  for (let y = 0; y <= top; y += ys) {
    const py = T + ph - (y / top) * ph;
    ctx.fillRect(L - 4, py, 4, 1);
    ctx.fillText(String(y), L - 6, py);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.font = `13px ${font}`;
  ctx.fillText(opts.title ?? 'Distribution of HU values', L + pw / 2, 10);
  ctx.font = `11px ${font}`;
  ctx.fillText(`Hounsfield units (${bins} bins, ${values.length} slice(s))`, L + pw / 2, H - 18);
  return canvas.encode('png');
}
