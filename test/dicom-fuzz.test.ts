/**
 * Robustness: seeded random truncations and byte flips of real and generated DICOM must
 * each end in pixels or a DicomDecodeError (never another exception, a crash or a hang)
 * within a time bound.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DicomDecodeError, decodeDicomSync, huFrame, initCodecs, readDicomHeader } from '../src/dicom/index.js';
import { ctElements, writeDicom } from '../src/dicom/write.js';
import { CORPUS } from './helpers/shared.js';

/** mulberry32: tiny seeded PRNG, so every run fuzzes the same cases. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seeds(): { name: string; bytes: Uint8Array }[] {
  const px = new Int16Array(32 * 32).map((_, i) => (i * 37) % 3000 - 1024);
  const gen = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'].map((ts) => ({
    name: `generated ${ts}`,
    bytes: writeDicom({ transferSyntax: ts, elements: ctElements({ rows: 32, cols: 32, intercept: -1024 }), pixelData: px }),
  }));
  if (!CORPUS) return gen;
  const dirs = ['syntax', 'bad'];
  const real = dirs.flatMap((d) =>
    readdirSync(join(CORPUS!, d))
      .sort()
      .filter((f) => !f.startsWith('693_UNCI')) // 512 KiB uncompressed: covered by the small MR/CT files
      .map((f) => ({ name: `${d}/${f}`, bytes: new Uint8Array(readFileSync(join(CORPUS!, d, f))) })),
  );
  return [...real, ...gen];
}

function mutate(src: Uint8Array, r: () => number): { bytes: Uint8Array; what: string } {
  const kind = r();
  let b = src.slice();
  const what: string[] = [];
  if (kind < 0.4 || kind >= 0.8) {
    const cut = Math.floor(r() * b.length);
    b = b.slice(0, cut);
    what.push(`truncate@${cut}`);
  }
  if (kind >= 0.4) {
    const flips = 1 + Math.floor(r() * 8);
    for (let k = 0; k < flips && b.length; k++) {
      // Half the flips land in the first 2 KiB, where the header (lengths, VRs, attributes) is.
      const pos = r() < 0.5 ? Math.floor(r() * Math.min(2048, b.length)) : Math.floor(r() * b.length);
      const val = Math.floor(r() * 256);
      b[pos] = val;
      what.push(`b[${pos}]=${val}`);
    }
  }
  return { bytes: b, what: what.join(' ') };
}

describe('fuzz: truncations and byte flips end in pixels or a reason', () => {
  beforeAll(() => initCodecs());

  it('every mutated input decodes or throws DicomDecodeError, each within 2 s', () => {
    const r = rng(20261125);
    const inputs = seeds();
    const perSeed = Math.max(10, Math.ceil(300 / inputs.length));
    let ok = 0;
    let reasons = 0;
    let slowest = 0;
    const sum = (a: ArrayLike<number>) => {
      let h = 0;
      for (let i = 0; i < a.length; i++) h = (Math.imul(h, 31) + a[i]) | 0;
      return h;
    };
    for (const s of inputs) {
      let before: number | undefined;
      try {
        before = sum(decodeDicomSync(s.bytes).stored);
      } catch {
        /* corpus/bad seeds do not decode */
      }
      for (let k = 0; k < perSeed; k++) {
        const { bytes, what } = mutate(s.bytes, r);
        const t0 = performance.now();
        try {
          const img = decodeDicomSync(bytes);
          expect(img.stored.length).toBe(img.rows * img.cols * img.samplesPerPixel * img.frames);
          if (img.samplesPerPixel === 1) expect(huFrame(img).length).toBe(img.rows * img.cols);
          ok++;
        } catch (e) {
          if (!(e instanceof DicomDecodeError)) throw new Error(`${s.name} (${what}): non-DicomDecodeError ${String(e)}`);
          expect(e.reason.length, `${s.name} (${what})`).toBeGreaterThan(5);
          reasons++;
        }
        try {
          readDicomHeader(bytes);
        } catch (e) {
          if (!(e instanceof DicomDecodeError)) throw new Error(`${s.name} (${what}): header: non-DicomDecodeError ${String(e)}`);
        }
        const dt = performance.now() - t0;
        slowest = Math.max(slowest, dt);
        expect(dt, `${s.name} (${what}) took ${dt.toFixed(0)} ms`).toBeLessThan(2000);
      }
      // A codec that trapped on corrupt data must not poison later decodes.
      if (before !== undefined) expect(sum(decodeDicomSync(s.bytes).stored), `${s.name} after its mutations`).toBe(before);
    }
    expect(ok + reasons).toBeGreaterThanOrEqual(300);
    // Both outcomes must occur, or the mutations are not reaching the decoder.
    expect(ok).toBeGreaterThan(0);
    expect(reasons).toBeGreaterThan(0);
  }, 120_000);
});
