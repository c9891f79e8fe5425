/**
 * Inputs of other matrix sizes for the bench's whole-run table: real CT slices resampled
 * (bilinear on Hounsfield units) to 568² and 616² and written as DICOM (explicit VR little
 * endian, the originals' window tags), so a run mixes 512², 568² and 616² slices as real
 * archives do (RSNA PE: ~85 % 512²).
 *
 *   const files = mixedFiles(distinct, join(WORK, 'mixed-src'), { every: 6 });
 *   // the 512² originals plus, for every 6th original, a 568² and a 616² copy
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

/** Bilinear resampling (half-pixel centres) of a [rows, cols] float image. */
function resample(x, rows, cols, h, w) {
  const out = new Float32Array(h * w);
  for (let r = 0; r < h; r++) {
    const sy = Math.min(rows - 1, Math.max(0, ((r + 0.5) * rows) / h - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(rows - 1, y0 + 1);
    const fy = sy - y0;
    for (let c = 0; c < w; c++) {
      const sx = Math.min(cols - 1, Math.max(0, ((c + 0.5) * cols) / w - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(cols - 1, x0 + 1);
      const fx = sx - x0;
      const top = x[y0 * cols + x0] * (1 - fx) + x[y0 * cols + x1] * fx;
      const bot = x[y1 * cols + x0] * (1 - fx) + x[y1 * cols + x1] * fx;
      out[r * w + c] = top * (1 - fy) + bot * fy;
    }
  }
  return out;
}

export async function mixedFiles(originals, dir, { every = 6, sizes = [568, 616] } = {}) {
  const { decodeDicomSync, huFrame } = await dist('dicom/index.js');
  const { writeCtSlice } = await dist('fixtures/index.js');
  mkdirSync(dir, { recursive: true });
  const extra = [];
  for (let i = 0; i < originals.length; i += every) {
    for (const size of sizes) {
      const out = join(dir, `${size}-${basename(originals[i])}`);
      extra.push(out);
      if (existsSync(out)) continue;
      const img = decodeDicomSync(new Uint8Array(readFileSync(originals[i])));
      const hu = resample(huFrame(img, 0, { padding: 'keep' }), img.rows, img.cols, size, size);
      const uid = `2.25.${size}${i}${Date.now() % 1e9}`;
      writeFileSync(out, writeCtSlice({ hu, rows: size, cols: size, study: `${uid}.1`, series: `${uid}.2`, sop: `${uid}.3`, instance: i + 1, z: 0, windowCenter: img.windowCenter[0] ?? 40, windowWidth: img.windowWidth[0] ?? 400 }));
    }
  }
  return [...originals, ...extra];
}
