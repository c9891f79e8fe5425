import { describe, expect, it } from 'vitest';
import { crc32c } from '@node-rs/crc32';
import seedrandom from 'seedrandom';
import { crc32cCombine, crc32cHex } from '../src/shards/crc32c-combine.js';

function bytes(rng: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

describe('crc32cCombine', () => {
  it('equals crc32c of the concatenation, for empty, tiny and large parts', () => {
    const rng = seedrandom('combine');
    const sizes = [0, 1, 3, 4, 12, 255, 4096, 65_537, 786_432 + 5];
    for (const na of sizes) {
      for (const nb of sizes) {
        const a = bytes(rng, na);
        const b = bytes(rng, nb);
        expect(crc32cCombine(crc32c(a), crc32c(b), nb), `${na}+${nb}`).toBe(crc32c(Buffer.concat([a, b])) >>> 0);
      }
    }
  });

  it('folds a file from its pieces, as the shard writer does with frames', () => {
    const rng = seedrandom('fold');
    const pieces = Array.from({ length: 40 }, (_, i) => bytes(rng, i % 5 === 0 ? 0 : Math.floor(rng() * 20_000)));
    let crc = 0;
    for (const p of pieces) crc = crc32cCombine(crc, crc32c(p), p.length);
    expect(crc).toBe(crc32c(Buffer.concat(pieces)) >>> 0);
    expect(crcHexOk(crc32cHex(crc))).toBe(true);
  });

  it('takes lengths beyond 2^32 (zeros appended are x^(8n) mod P: checked against the doubling law)', () => {
    // crc(A‖0^(2n)) from crc(A‖0^n) twice equals the direct combine with 2n.
    const a = crc32c(Buffer.from('ctwindow')) >>> 0;
    const z = (n: number) => crc32c(Buffer.alloc(n)) >>> 0;
    expect(crc32cCombine(crc32cCombine(a, z(1000), 1000), z(1000), 1000)).toBe(crc32cCombine(a, z(2000), 2000));
    // With crc2 = 0 the combine is the shift S_n(crc1) = crc1·x^(8n) mod P, and S_(m+n) = S_m ∘ S_n.
    const S = (c: number, n: number) => crc32cCombine(c, 0, n);
    expect(S(a, 2 ** 33 + 5)).toBe(S(S(S(a, 5), 2 ** 32), 2 ** 32));
    expect(S(a, 2 ** 33 + 5)).not.toBe(S(a, 5));
    expect(() => crc32cCombine(0, 0, -1)).toThrow(/len2/);
  });
});

function crcHexOk(s: string): boolean {
  return /^[0-9a-f]{8}$/.test(s);
}
