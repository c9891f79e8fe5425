/**
 * Contact sheet: rows = slices, columns = strategies, each cell titled with its strategy and
 * each row labelled with its slice. Cells are resized with tf.image.resizeBilinear to
 * `cell` pixels on the long side; 3-channel outputs are shown as RGB, single-channel as grey.
 *
 * @example
 *   const png = await contactSheet([{ label: 'a.dcm', hu, rows: 512, cols: 512, meta }], ['lung', 'gradient']);
 *   await writeFile('sheet.png', png);
 */
import * as tf from '@tensorflow/tfjs-core';
import { createCanvas } from '@napi-rs/canvas';
import { compileWindow } from '../compile.js';
import { applyWindow } from '../apply.js';
import type { SliceWindowMeta } from '../plan.js';
import { windowProblem } from '../compile.js';
import { ensureFont } from './fonts.js';

export interface SheetSlice {
  label: string;
  hu: Float32Array;
  rows: number;
  cols: number;
  meta: SliceWindowMeta;
}

export interface SheetOptions {
  /** Long side of a cell image, pixels (default 160). */
  cell?: number;
  /** Row labels (slice names) in a left column (default true). */
  labels?: boolean;
}

const TITLE = 18;
const LABEL_COLUMN = 150;
const PAD = 4;

/** RGBA bytes of one windowed cell [h,w,3] in [0,1]. */
function toRgba(v: Float32Array, n: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    out[p * 4] = Math.round(v[p * 3] * 255);
    out[p * 4 + 1] = Math.round(v[p * 3 + 1] * 255);
    out[p * 4 + 2] = Math.round(v[p * 3 + 2] * 255);
    out[p * 4 + 3] = 255;
  }
  return out;
}

function fitText(ctx: { measureText(s: string): { width: number } }, s: string, max: number): string {
  if (ctx.measureText(s).width <= max) return s;
  let t = s;
  while (t.length > 1 && ctx.measureText('…' + t).width > max) t = t.slice(1);
  return '…' + t;
}

export async function contactSheet(slices: SheetSlice[], strategies: string[], opts: SheetOptions = {}): Promise<Buffer> {
  if (slices.length === 0) throw new Error('contactSheet: no slices');
  if (strategies.length === 0) throw new Error('contactSheet: no strategies');
  const cell = opts.cell ?? 160;
  if (!Number.isInteger(cell) || cell < 16 || cell > 1024) throw new Error(`contactSheet: cell must be an integer in [16, 1024], got ${cell}`);
  const plans = strategies.map((s) => compileWindow({ strategy: s as never }));
  const font = ensureFont();
  const LABEL_W = opts.labels === false ? 0 : LABEL_COLUMN;
  const W = (LABEL_W || PAD) + strategies.length * (cell + PAD) + PAD;
  const H = slices.length * (cell + TITLE + PAD) + PAD;
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  ctx.textBaseline = 'top';
  slices.forEach((s, r) => {
    const y0 = PAD + r * (cell + TITLE + PAD);
    ctx.fillStyle = '#000000';
    ctx.font = `12px ${font}`;
    if (LABEL_W) ctx.fillText(fitText(ctx, s.label, LABEL_W - 2 * PAD), PAD, y0 + TITLE + cell / 2 - 6);
    const scale = cell / Math.max(s.rows, s.cols);
    const h = Math.max(1, Math.round(s.rows * scale));
    const w = Math.max(1, Math.round(s.cols * scale));
    plans.forEach((plan, c) => {
      const x0 = (LABEL_W || PAD) + c * (cell + PAD);
      ctx.fillStyle = '#000000';
      // Shrink the title until it fits the cell (down to 8 px, then elide).
      let size = 12;
      do ctx.font = `bold ${size}px ${font}`;
      while (ctx.measureText(strategies[c]).width > cell && --size > 8);
      ctx.fillText(fitText(ctx, strategies[c], cell), x0, y0 + 2);
      const problem = windowProblem(plan, s.meta);
      if (problem) {
        ctx.fillStyle = '#eeeeee';
        ctx.fillRect(x0, y0 + TITLE, cell, cell);
        ctx.fillStyle = '#aa0000';
        ctx.font = `10px ${font}`;
        ctx.fillText(fitText(ctx, problem, cell - 4), x0 + 2, y0 + TITLE + cell / 2);
        return;
      }
      const img = tf.tidy(() => {
        const out = applyWindow(plan, tf.tensor3d(s.hu, [1, s.rows, s.cols]), [s.meta]);
        return tf.clipByValue(tf.image.resizeBilinear(out, [h, w], false, true), 0, 1);
      });
      const rgba = toRgba(img.dataSync() as Float32Array, h * w);
      img.dispose();
      const id = ctx.createImageData(w, h);
      id.data.set(rgba);
      ctx.putImageData(id, x0 + Math.floor((cell - w) / 2), y0 + TITLE + Math.floor((cell - h) / 2));
    });
  });
  return canvas.encode('png');
}
