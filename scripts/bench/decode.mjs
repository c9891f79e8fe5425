#!/usr/bin/env node
/**
 * Decode benchmark: slices/s per transfer syntax for ctwindow (decodeDicomSync + huFrame →
 * float32 HU) beside pydicom + GDCM (`ds.pixel_array * slope + intercept` as float32, Debian
 * /usr/bin/python3) on the same files, in the same run. Files are read into memory first
 * on both sides, so it times decoding, not disk.
 *
 *   node scripts/bench/decode.mjs [--corpus ../shared/corpus] [--seconds 1] [--json]   # needs `npm run build`
 *
 * @example
 *   import { benchDecode } from './scripts/bench/decode.mjs';
 *   const rows = await benchDecode({ seconds: 0.5 });
 *   // [{ syntax, name, files, rows, cols, ctwindow_slices_per_s, pydicom_slices_per_s, speedup }, …]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = '/usr/bin/python3';

const PY = String.raw`
import sys, json, time, io, warnings
warnings.filterwarnings('ignore')
import numpy as np, pydicom
try:
    import gdcm  # noqa: F401  (pydicom uses it for compressed syntaxes)
    have_gdcm = True
except Exception:
    have_gdcm = False
req = json.load(sys.stdin)
out = {}
for group in req['groups']:
    blobs = [open(p, 'rb').read() for p in group['files']]
    def one(b):
        ds = pydicom.dcmread(io.BytesIO(b))
        arr = ds.pixel_array
        if arr.ndim == 3 and getattr(ds, 'NumberOfFrames', 1) and int(getattr(ds, 'NumberOfFrames', 1)) > 1:
            arr = arr[0]
        slope = float(getattr(ds, 'RescaleSlope', 1) or 1)
        inter = float(getattr(ds, 'RescaleIntercept', 0) or 0)
        return (arr.astype(np.float32) * np.float32(slope) + np.float32(inter))
    try:
        for b in blobs: one(b)  # warm-up, and fail early
        n = 0; t0 = time.perf_counter()
        while True:
            for b in blobs: one(b); n += 1
            dt = time.perf_counter() - t0
            if dt >= req['seconds']: break
        out[group['syntax']] = {'slices': n, 'seconds': dt}
    except Exception as e:
        out[group['syntax']] = {'error': type(e).__name__ + ': ' + str(e)[:160]}
print(json.dumps({'gdcm': have_gdcm, 'results': out}))
`;

/** Groups decodable corpus files by transfer syntax (from reference.json). */
function groupsFrom(corpus) {
  const ref = JSON.parse(readFileSync(join(corpus, 'reference.json'), 'utf8')).files;
  const groups = new Map();
  for (const [rel, r] of Object.entries(ref)) {
    if (!r.decodable || rel.startsWith('series/')) continue;
    const g = groups.get(r.transferSyntax) ?? { syntax: r.transferSyntax, files: [], rows: r.rows, cols: r.cols };
    g.files.push(join(corpus, rel));
    groups.set(r.transferSyntax, g);
  }
  return [...groups.values()].sort((a, b) => a.syntax.localeCompare(b.syntax, 'en', { numeric: true }));
}

/**
 * HTJ2K lossless (1.2.840.10008.1.2.4.201) copies of the corpus CT slices, encoded here with
 * OpenJPH's encoder (no public HTJ2K CT is in the corpus); pydicom 2.3 has no HTJ2K decoder.
 */
async function htj2kGroup(corpus, dicom) {
  const { createRequire } = await import('node:module');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const require = createRequire(import.meta.url);
  const mod = await require('@cornerstonejs/codec-openjph/wasmjs')({ print() {}, printErr() {} });
  const { writeDicom, ctElements } = await import(join(REPO, 'dist', 'dicom', 'write.js'));
  const ct = join(corpus, 'ct');
  const dir = mkdtempSync(join(tmpdir(), 'ctw-bench-htj2k-'));
  const files = [];
  for (const n of readdirSync(ct).filter((f) => f.endsWith('.dcm')).sort().slice(0, 6)) {
    const img = dicom.decodeDicomSync(new Uint8Array(readFileSync(join(ct, n))));
    const enc = new mod.HTJ2KEncoder();
    const signed = img.pixelRepresentation === 1;
    enc.getDecodedBuffer({ width: img.cols, height: img.rows, bitsPerSample: 16, componentCount: 1, isSigned: signed, isUsingColorTransform: false }).set(new Uint8Array(img.stored.buffer, img.stored.byteOffset, img.stored.byteLength));
    enc.setQuality(true, 0);
    enc.encode();
    const code = enc.getEncodedBuffer().slice();
    enc.delete();
    const out = join(dir, `htj2k-${n}`);
    writeFileSync(out, writeDicom({ transferSyntax: '1.2.840.10008.1.2.4.201', elements: ctElements({ rows: img.rows, cols: img.cols, pixelRepresentation: img.pixelRepresentation, slope: img.slope, intercept: img.intercept }), pixelData: { fragments: [code] } }));
    files.push(out);
  }
  return { syntax: '1.2.840.10008.1.2.4.201', files, rows: 512, cols: 512 };
}

/**
 * Runs the benchmark. opts: { corpus = ../shared/corpus, seconds = 1 (per syntax per tool),
 * python = /usr/bin/python3 }. Returns one row per transfer syntax.
 */
export async function benchDecode(opts = {}) {
  const corpus = resolve(opts.corpus ?? process.env.CTWINDOW_SHARED_CORPUS ?? join(REPO, '..', 'shared', 'corpus'));
  const seconds = opts.seconds ?? 1;
  const python = opts.python ?? PYTHON;
  if (!existsSync(join(corpus, 'reference.json'))) throw new Error(`benchDecode: no reference.json under ${corpus}`);
  const dicom = await import(join(REPO, 'dist', 'dicom', 'index.js'));
  await dicom.initCodecs();
  const groups = groupsFrom(corpus);
  if (existsSync(join(corpus, 'ct'))) groups.push(await htj2kGroup(corpus, dicom));

  const ours = {};
  for (const g of groups) {
    const blobs = g.files.map((f) => {
      const b = readFileSync(f);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    });
    for (const b of blobs) dicom.huFrame(dicom.decodeDicomSync(b, { frame: 0 }), 0); // warm-up
    let n = 0;
    const t0 = performance.now();
    let dt = 0;
    do {
      for (const b of blobs) {
        dicom.huFrame(dicom.decodeDicomSync(b, { frame: 0 }), 0);
        n++;
      }
      dt = (performance.now() - t0) / 1000;
    } while (dt < seconds);
    ours[g.syntax] = { slices: n, seconds: dt };
  }

  const p = spawnSync(python, ['-c', PY], {
    input: JSON.stringify({ seconds, groups: groups.map((g) => ({ syntax: g.syntax, files: g.files })) }),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  let py = { gdcm: false, results: {} };
  let pyError;
  if (p.status === 0) py = JSON.parse(p.stdout);
  else pyError = (p.stderr || p.error?.message || 'python failed').trim().split('\n').pop();

  return groups.map((g) => {
    const o = ours[g.syntax];
    const q = py.results[g.syntax];
    const oursRate = o.slices / o.seconds;
    const pyRate = q && !q.error ? q.slices / q.seconds : undefined;
    return {
      syntax: g.syntax,
      name: dicom.TRANSFER_SYNTAXES[g.syntax]?.name ?? 'unknown',
      files: g.files.length,
      rows: g.rows,
      cols: g.cols,
      ctwindow_slices_per_s: +oursRate.toFixed(1),
      pydicom_slices_per_s: pyRate === undefined ? null : +pyRate.toFixed(1),
      speedup: pyRate === undefined ? null : +(oursRate / pyRate).toFixed(2),
      ...(q?.error || pyError ? { pydicom_error: q?.error ?? pyError } : {}),
      pydicom_gdcm: py.gdcm,
    };
  });
}

function table(rows) {
  const head = ['syntax', 'name', 'files', 'size', 'ctwindow/s', 'pydicom+GDCM/s', 'speedup'];
  const body = rows.map((r) => [r.syntax, r.name, String(r.files), `${r.rows}×${r.cols}`, String(r.ctwindow_slices_per_s), r.pydicom_slices_per_s === null ? `n/a (${String(r.pydicom_error).slice(0, 60)}…)` : String(r.pydicom_slices_per_s), r.speedup === null ? '-' : `${r.speedup}×`]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const val = (k) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rows = await benchDecode({ corpus: val('--corpus'), seconds: val('--seconds') ? Number(val('--seconds')) : undefined });
  console.log(args.includes('--json') ? JSON.stringify(rows, null, 2) : table(rows));
}
