/**
 * Format 2's shard digests: crc32c always (folded from the frames, no extra pass), sha256 on
 * request; checks by verify, the reader, resume and merge; format-1 folders still read.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  FORMAT_VERSION, mergeDatasets, openShardWriter, readManifest, readRecords, readShardIndex, verifyDataset, type Manifest,
} from '../src/shards/index.js';
import { syntheticRecord, writeSyntheticDataset } from '../src/shards/synthetic.js';
import { canonicalJson } from '../src/shards/atomic.js';

const tmp = () => mkdtemp(join(tmpdir(), 'ctw-digest-'));
const OPTS = { seed: 11, records: { train: 7, val: 2 }, batch: 3, hw: [9, 7] as [number, number], shardBytes: 2500, ragged: true };
const hexCrc = (b: Buffer) => (crc32c(b) >>> 0).toString(16).padStart(8, '0');
const hexSha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Rewrites a format-2 folder as format 1 wrote it: formatVersion 1, sha256 per shard, no crc32c. */
async function toFormat1(dir: string): Promise<void> {
  const m = await readManifest(dir);
  for (const s of Object.values(m.splits)) {
    for (const sh of s!.shards) {
      const sha = hexSha(await readFile(join(dir, sh.file)));
      const idx = await readShardIndex(dir, sh.index);
      const { crc32c: _c, ...rest } = idx;
      await writeFile(join(dir, sh.index), canonicalJson({ ...rest, formatVersion: 1, sha256: sha }));
      delete sh.crc32c;
      sh.sha256 = sha;
    }
  }
  await writeFile(join(dir, 'manifest.json'), canonicalJson({ ...m, formatVersion: 1 }));
}

describe('shard digests (format 2)', () => {
  it('every shard records the CRC-32C of its bytes, and sha256 only when asked', async () => {
    for (const sha256 of [false, true]) {
      const dir = await tmp();
      const m = await writeSyntheticDataset(dir, { ...OPTS, sha256 });
      expect(m.formatVersion).toBe(FORMAT_VERSION);
      const shards = [...m.splits.train!.shards, ...m.splits.val!.shards];
      expect(shards.length).toBeGreaterThan(2);
      for (const sh of shards) {
        const bytes = await readFile(join(dir, sh.file));
        expect(sh.crc32c).toBe(hexCrc(bytes));
        if (sha256) expect(sh.sha256).toBe(hexSha(bytes));
        else expect(sh).not.toHaveProperty('sha256');
        const idx = await readShardIndex(dir, sh.index);
        expect([idx.crc32c, idx.sha256]).toEqual([sh.crc32c, sh.sha256]);
      }
      expect(await verifyDataset(dir)).toEqual([]);
    }
  });

  it('the shard bytes do not depend on whether sha256 is recorded', async () => {
    const [a, b] = [await tmp(), await tmp()];
    await writeSyntheticDataset(a, OPTS);
    await writeSyntheticDataset(b, { ...OPTS, sha256: true });
    const shards = (await readdir(a)).filter((n) => n.endsWith('.ctws')).sort();
    expect(shards).toEqual((await readdir(b)).filter((n) => n.endsWith('.ctws')).sort());
    for (const n of shards) expect((await readFile(join(a, n))).equals(await readFile(join(b, n)))).toBe(true);
  });

  it('a flipped byte fails crc32c and, where recorded, sha256 (verify and readRecords(verify))', async () => {
    const dir = await tmp();
    const m = await writeSyntheticDataset(dir, { ...OPTS, sha256: true });
    const sh = m.splits.train!.shards[0];
    const buf = await readFile(join(dir, sh.file));
    buf[buf.length - 7] ^= 0x20; // in the last frame's payload
    await writeFile(join(dir, sh.file), buf);
    const p = await verifyDataset(dir);
    expect(p.some((x) => x.shard === sh.file && /^crc32c [0-9a-f]{8} does not match the manifest's/.test(x.message))).toBe(true);
    const read = async () => {
      for await (const _ of readRecords(dir, { verify: true })) void _;
    };
    await expect(read()).rejects.toThrow(new RegExp(`${sh.file}: crc32c .* \\(shard damaged\\)`));
    // sha256 alone: make the crc32c agree with the damaged bytes; sha256 still catches it.
    const idx = await readShardIndex(dir, sh.index);
    await writeFile(join(dir, sh.index), canonicalJson({ ...idx, crc32c: hexCrc(buf) }));
    const mm = await readManifest(dir);
    mm.splits.train!.shards[0].crc32c = hexCrc(buf);
    await writeFile(join(dir, 'manifest.json'), canonicalJson(mm));
    expect((await verifyDataset(dir)).some((x) => x.shard === sh.file && /^sha256 .* does not match the manifest's/.test(x.message))).toBe(true);
    await expect(read()).rejects.toThrow(new RegExp(`${sh.file}: sha256 .* \\(shard damaged\\)`));
  });

  it('resume checks committed shards by crc32c: a same-size damaged shard is rewritten', async () => {
    const dir = await tmp();
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 1500 });
    for (let i = 0; i < 6; i++) await w.append(syntheticRecord({ seed: 2, split: 'train', index: i, batch: 2, hw: [8, 8] }));
    const shards = await w.close();
    expect(shards.length).toBeGreaterThan(2);
    const victim = shards[1];
    const buf = await readFile(join(dir, victim.file));
    buf[buf.length >> 1] ^= 1;
    await writeFile(join(dir, victim.file), buf);
    const w2 = await openShardWriter({ dir, split: 'train', shardBytes: 1500, resume: true });
    expect(w2.committedRecords).toBe(victim.firstRecord);
    expect(await readdir(dir)).not.toContain(victim.file);
  });

  it('a format-2 index without crc32c, or with a malformed one, is refused naming the field', async () => {
    const dir = await tmp();
    const m = await writeSyntheticDataset(dir, OPTS);
    const sh = m.splits.train!.shards[0];
    const idx = await readShardIndex(dir, sh.index);
    const { crc32c: _c, ...rest } = idx;
    await writeFile(join(dir, sh.index), canonicalJson(rest));
    await expect(readShardIndex(dir, sh.index)).rejects.toThrow(`${sh.index}: field "crc32c" missing (format 2)`);
    await writeFile(join(dir, sh.index), canonicalJson({ ...idx, crc32c: 'XYZ' }));
    await expect(readShardIndex(dir, sh.index)).rejects.toThrow(/crc32c must be 8 lower-case hex digits/);
    const mm: Manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    delete mm.splits.train!.shards[1].crc32c;
    await writeFile(join(dir, 'manifest.json'), canonicalJson(mm));
    await expect(readManifest(dir)).rejects.toThrow(/splits\.train\.shards\[1\]: field "crc32c" missing \(format 2\)/);
  });
});

describe('format-1 folders (sha256 per shard, no crc32c)', () => {
  it('read, verify and merge as before; damage is caught by sha256', async () => {
    const dir = await tmp();
    await writeSyntheticDataset(dir, OPTS);
    const want: number[][] = [];
    for await (const r of readRecords(dir)) want.push([r.index, r.images.length, r.images[0]]);
    await toFormat1(dir);
    const m = await readManifest(dir);
    expect(m.formatVersion).toBe(1);
    expect(m.splits.train!.shards.every((s) => s.crc32c === undefined && /^[0-9a-f]{64}$/.test(s.sha256!))).toBe(true);
    expect(await verifyDataset(dir)).toEqual([]);
    const got: number[][] = [];
    for await (const r of readRecords(dir, { verify: true })) got.push([r.index, r.images.length, r.images[0]]);
    expect(got).toEqual(want);
    const out = join(await tmp(), 'merged');
    const merged = await mergeDatasets([dir], out);
    expect(merged.manifest.formatVersion).toBe(1);
    expect(await verifyDataset(out)).toEqual([]);
    // Damage: caught by sha256, the only digest a format-1 folder has.
    const sh = m.splits.train!.shards[0];
    const buf = await readFile(join(dir, sh.file));
    buf[20] ^= 4;
    await writeFile(join(dir, sh.file), buf);
    expect((await verifyDataset(dir)).some((x) => x.shard === sh.file && /^sha256 .* does not match/.test(x.message))).toBe(true);
  });

  it('a format-1 index without sha256 is refused naming the field', async () => {
    const dir = await tmp();
    const m = await writeSyntheticDataset(dir, OPTS);
    await toFormat1(dir);
    const sh = m.splits.val!.shards[0];
    const idx = await readShardIndex(dir, sh.index);
    const { sha256: _s, ...rest } = idx;
    await writeFile(join(dir, sh.index), canonicalJson(rest));
    await expect(readShardIndex(dir, sh.index)).rejects.toThrow(`${sh.index}: field "sha256" missing (format 1)`);
  });
});

describe('resume across formats', () => {
  it('refuses to continue a run whose committed shards are format 1, naming the file', async () => {
    const dir = await tmp();
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 1500 });
    for (let i = 0; i < 4; i++) await w.append(syntheticRecord({ seed: 2, split: 'train', index: i, batch: 2, hw: [8, 8] }));
    const shards = await w.close();
    const idx = await readShardIndex(dir, shards[0].index);
    const { crc32c: _c, ...rest } = idx;
    await writeFile(join(dir, shards[0].index), canonicalJson({ ...rest, formatVersion: 1, sha256: hexSha(await readFile(join(dir, shards[0].file))) }));
    await expect(openShardWriter({ dir, split: 'train', shardBytes: 1500, resume: true })).rejects.toThrow(`resume: ${shards[0].index} is format 1, this build writes format ${FORMAT_VERSION}`);
    expect(await readdir(dir)).toContain(shards[0].file); // nothing deleted
  });
});
