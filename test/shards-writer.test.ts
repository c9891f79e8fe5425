import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtemp, readdir, readFile, writeFile, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeFrameAt, decodePayload, describeExistingOutput, encodeFrame, encodePayload, PAYLOAD_VERSION, hashConfig, maskedCrc32c,
  openShardWriter, readManifest, writeGroups, readShardIndex, summarizeSplit, verifyDataset, writeManifest, type Manifest,
} from '../src/shards/index.js';
import { syntheticRecord, writeSyntheticDataset } from '../src/shards/synthetic.js';
import type { Quarantine } from '../src/types.js';

const tmp = () => mkdtemp(join(tmpdir(), 'ctw-shards-'));

async function dirBytes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await readdir(dir)).sort()) out[n] = (await readFile(join(dir, n))).toString('base64');
  return out;
}

const OPTS = { seed: 7, records: { train: 9, val: 3 }, batch: 4, hw: [6, 5] as [number, number], shardBytes: 3000, ragged: true };

describe('record framing', () => {
  it('masked crc32c matches the TFRecord definition on a known vector', () => {
    // crc32c("123456789") = 0xe3069283 (RFC 3720 check value); mask applied by hand here.
    const crc = 0xe3069283;
    const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe(masked);
  });

  it('round-trips a record through frame + msgpack for every dtype', () => {
    for (const dtype of ['uint8', 'float16', 'float32'] as const) {
      const r = { ...syntheticRecord({ seed: 1, split: 'train', index: 3, batch: 2, hw: [3, 4], dtype }), extra: { neighbours: [['a', 'b'], ['c', 'd']] } };
      const frame = encodeFrame(encodePayload(r));
      expect(frame.readBigUInt64LE(0)).toBe(BigInt(frame.length - 16));
      const { payload, next } = decodeFrameAt(frame, 0);
      expect(next).toBe(frame.length);
      const back = decodePayload(payload);
      expect(back.v).toBe(PAYLOAD_VERSION);
      expect(Buffer.from(back.images).equals(Buffer.from(r.images))).toBe(true);
      const { images: _a, ...restBack } = back;
      const { images: _b, ...rest } = r;
      expect(restBack).toEqual({ v: PAYLOAD_VERSION, ...rest });
    }
  });

  it('rejects a record whose images do not match its shape, naming the field', () => {
    const r = syntheticRecord({ seed: 1, split: 'train', index: 0, batch: 2, hw: [3, 4] });
    expect(() => encodePayload({ ...r, images: r.images.subarray(1) })).toThrow(/images holds 71 bytes/);
    expect(() => encodePayload({ ...r, labels: [1] })).toThrow(/labels must have B=2/);
  });
});

describe('shard writer', () => {
  it('splits a frame into writes of at most the limit, in order, without losing or copying a byte', () => {
    const parts = [3, 700, 700, 2000, 5, 5, 990].map((n, i) => new Uint8Array(n).fill(i + 1));
    const groups = writeGroups(parts, 1000);
    // [3, 700] [700] [2000] (alone: larger than the limit) [5, 5, 990]
    expect(groups.map((g) => g.chunks.map((c) => c.length))).toEqual([[3, 700], [700], [2000], [5, 5, 990]]);
    expect(groups.flatMap((g) => g.chunks)).toEqual(parts);
    for (const g of groups) {
      expect(g.length).toBe(g.chunks.reduce((a, c) => a + c.length, 0));
      if (g.chunks.length > 1) expect(g.length).toBeLessThanOrEqual(1000);
    }
    expect(writeGroups([])).toEqual([]);
  });

  it('writes a record larger than one write (several MiB) byte for byte', async () => {
    const dir = await tmp();
    const r = syntheticRecord({ seed: 3, split: 'train', index: 0, batch: 12, hw: [256, 256] });
    const flat = r.images as Uint8Array;
    const per = flat.length / 12; // 196,608 bytes a slice, as the pipeline hands them: one part per slice
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 64 << 20 });
    await w.append({ ...r, images: Array.from({ length: 12 }, (_, b) => flat.subarray(b * per, (b + 1) * per)) });
    const [info] = await w.close();
    const bytes = await readFile(join(dir, info.file));
    expect(bytes.length).toBeGreaterThan(2 << 20); // several writes of ≤ 1 MiB
    const { payload, next } = decodeFrameAt(bytes, 0);
    expect(next).toBe(bytes.length);
    expect(Buffer.from(decodePayload(payload).images).equals(Buffer.from(flat))).toBe(true);
  });

  it('is deterministic: same records → byte-identical folder', async () => {
    const [a, b] = [await tmp(), await tmp()];
    await writeSyntheticDataset(a, OPTS);
    await writeSyntheticDataset(b, OPTS);
    const [x, y] = [await dirBytes(a), await dirBytes(b)];
    expect(Object.keys(x)).toContain('manifest.json');
    expect(Object.keys(x).some((n) => n.endsWith('.tmp'))).toBe(false);
    expect(x).toEqual(y);
  });

  it('rotates at shardBytes; a record larger than shardBytes gets its own shard', async () => {
    const dir = await tmp();
    const m = await writeSyntheticDataset(dir, OPTS);
    const train = m.splits.train!;
    expect(train.shards.length).toBeGreaterThan(1);
    expect(train.records).toBe(9);
    expect(train.slices).toBe(9 * 4 - 1);
    for (const s of train.shards) {
      expect((await stat(join(dir, s.file))).size).toBe(s.bytes);
      if (s.records > 1) expect(s.bytes).toBeLessThanOrEqual(OPTS.shardBytes);
    }
    // shardBytes smaller than one record: one record per shard.
    const dir2 = await tmp();
    const m2 = await writeSyntheticDataset(dir2, { ...OPTS, shardBytes: 100 });
    expect(m2.splits.train!.shards.map((s) => s.records)).toEqual(Array(9).fill(1));
    expect(await verifyDataset(dir2)).toEqual([]);
  });

  it('index gives offsets for random access and counts that match the payloads', async () => {
    const dir = await tmp();
    const m = await writeSyntheticDataset(dir, OPTS);
    const sh = m.splits.train!.shards[1];
    const idx = await readShardIndex(dir, sh.index);
    const buf = await readFile(join(dir, sh.file));
    const last = idx.entries[idx.entries.length - 1];
    const rec = decodePayload(decodeFrameAt(buf, last.offset).payload);
    expect(rec.index).toBe(last.index);
    expect(rec.labels.filter((l) => l === 1).length).toBe(last.positives);
    const expected = syntheticRecord({ seed: 7, split: 'train', index: last.index, batch: rec.shape[0], hw: [6, 5] });
    expect(Buffer.from(rec.images).equals(Buffer.from(expected.images))).toBe(true);
  });

  it('refuses to append out of order or to a folder holding another run', async () => {
    const dir = await tmp();
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 1000 });
    await expect(w.append(syntheticRecord({ seed: 1, split: 'train', index: 1, batch: 1, hw: [2, 2] }))).rejects.toThrow(/expected record index 0/);
    await expect(w.append(syntheticRecord({ seed: 1, split: 'val', index: 0, batch: 1, hw: [2, 2] }))).rejects.toThrow(/split 'val'/);
    await w.append(syntheticRecord({ seed: 1, split: 'train', index: 0, batch: 1, hw: [2, 2] }));
    await w.close();
    expect(await describeExistingOutput(dir)).toMatch(/unfinished run \(1 shard/);
    await expect(openShardWriter({ dir, split: 'train', shardBytes: 1000 })).rejects.toThrow(/another run/);
    await expect(openShardWriter({ dir, split: 'train', shardBytes: 999, resume: true })).rejects.toThrow(/shardBytes=1000/);
    expect(await describeExistingOutput(join(dir, 'nope'))).toBeUndefined();
    const full = await tmp();
    await writeSyntheticDataset(full, OPTS);
    expect(await describeExistingOutput(full)).toMatch(/complete dataset \(manifest.json/);
  });

  it('killed + resumed run ends byte-identical to an uninterrupted run, notes included', async () => {
    const ref = await tmp();
    await writeSyntheticDataset(ref, OPTS);
    const refManifest = await readManifest(ref);

    for (const killAfter of [0, 2, 5, 9]) {
      const dir = await tmp();
      // First run: writes killAfter train records, then "dies" without close (tmp shard left behind).
      const notesOf = (i: number): Quarantine[] => (i % 3 === 1 ? [{ stage: 'decode', reason: `synthetic failure train ${i}`, row: i + 2 }] : []);
      const rec = (i: number) => syntheticRecord({ seed: 7, split: 'train', index: i, batch: i === 8 ? 3 : 4, hw: [6, 5] });
      const w1 = await openShardWriter({ dir, split: 'train', shardBytes: OPTS.shardBytes });
      for (let i = 0; i < killAfter; i++) await w1.append(rec(i), notesOf(i));
      // Resume.
      const w2 = await openShardWriter({ dir, split: 'train', shardBytes: OPTS.shardBytes, resume: true });
      expect(w2.committedRecords).toBeLessThanOrEqual(killAfter);
      expect(w2.committedNotes).toEqual(Array.from({ length: w2.committedRecords }, (_, i) => notesOf(i)).flat());
      expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
      for (let i = w2.committedRecords; i < 9; i++) await w2.append(rec(i), notesOf(i));
      const train = await w2.close();
      const wv = await openShardWriter({ dir, split: 'val', shardBytes: OPTS.shardBytes });
      for (let i = 0; i < 3; i++) await wv.append(syntheticRecord({ seed: 7, split: 'val', index: i, batch: i === 2 ? 3 : 4, hw: [6, 5] }), i === 1 ? [{ stage: 'decode', reason: 'synthetic failure val 1', row: 3 }] : []);
      const val = await wv.close();
      const m: Manifest = { ...refManifest, splits: { train: summarizeSplit(train), val: summarizeSplit(val) } };
      await writeManifest(dir, m);
      expect(await dirBytes(dir), `kill after ${killAfter}`).toEqual(await dirBytes(ref));
    }
  });

  it('resume discards a damaged last shard and rewrites it', async () => {
    const dir = await tmp();
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 1500 });
    for (let i = 0; i < 6; i++) await w.append(syntheticRecord({ seed: 2, split: 'train', index: i, batch: 2, hw: [8, 8] }));
    const shards = await w.close();
    expect(shards.length).toBeGreaterThan(2);
    const last = shards[shards.length - 1];
    await truncate(join(dir, last.file), 10);
    const w2 = await openShardWriter({ dir, split: 'train', shardBytes: 1500, resume: true });
    expect(w2.committedRecords).toBe(last.firstRecord);
    expect(await readdir(dir)).not.toContain(last.file);
  });
});

describe('verifyDataset', () => {
  let clean: string;
  beforeAll(async () => {
    clean = await tmp();
    await writeSyntheticDataset(clean, OPTS);
  });
  const copy = async () => {
    const d = await tmp();
    for (const n of await readdir(clean)) await writeFile(join(d, n), await readFile(join(clean, n)));
    return { dir: d, m: await readManifest(d) };
  };

  it('passes an intact dataset', async () => {
    expect(await verifyDataset(clean)).toEqual([]);
  });

  it('names shard and record for a flipped payload byte', async () => {
    const { dir, m } = await copy();
    const sh = m.splits.train!.shards[1];
    const idx = await readShardIndex(dir, sh.index);
    const buf = await readFile(join(dir, sh.file));
    const e = idx.entries[1];
    buf[e.offset + 12 + 40] ^= 0x10;
    await writeFile(join(dir, sh.file), buf);
    const p = await verifyDataset(dir);
    expect(p.find((x) => /payload CRC/.test(x.message))).toMatchObject({ shard: sh.file, record: e.index, position: 1 });
    expect(p.some((x) => x.shard === sh.file && /crc32c [0-9a-f]{8} does not match the manifest's/.test(x.message))).toBe(true);
  });

  it('names shard and record for a flipped length byte, and still checks later records', async () => {
    const { dir, m } = await copy();
    const sh = m.splits.train!.shards[0];
    const idx = await readShardIndex(dir, sh.index);
    expect(idx.entries.length).toBeGreaterThan(1);
    const buf = await readFile(join(dir, sh.file));
    buf[idx.entries[0].offset + 1] ^= 0x01;
    await writeFile(join(dir, sh.file), buf);
    const p = await verifyDataset(dir);
    expect(p.find((x) => /length CRC/.test(x.message))).toMatchObject({ shard: sh.file, record: idx.entries[0].index });
    expect(p.filter((x) => x.record !== undefined && x.record !== idx.entries[0].index)).toEqual([]);
  });

  it('names the missing record of a truncated shard', async () => {
    const { dir, m } = await copy();
    const sh = m.splits.train!.shards[0];
    const idx = await readShardIndex(dir, sh.index);
    const lastE = idx.entries[idx.entries.length - 1];
    await truncate(join(dir, sh.file), lastE.offset + 20);
    const p = await verifyDataset(dir);
    expect(p.find((x) => /truncated/.test(x.message) && x.record !== undefined)).toMatchObject({ shard: sh.file, record: lastE.index });
    expect(p.some((x) => x.shard === sh.file && /size .* \(truncated\)/.test(x.message))).toBe(true);
  });

  it('reports a missing shard, an unlisted shard and a manifest that disagrees', async () => {
    const { dir, m } = await copy();
    const sh = m.splits.val!.shards[0];
    await rm(join(dir, sh.file));
    await writeFile(join(dir, 'train-00099.ctws'), Buffer.alloc(4));
    const m2 = structuredClone(m);
    m2.splits.train!.positives += 1;
    m2.splits.train!.shards[0].crc32c = '0'.repeat(8);
    await writeManifest(dir, m2);
    const p = await verifyDataset(dir);
    expect(p).toContainEqual(expect.objectContaining({ shard: sh.file, message: 'shard file is missing' }));
    expect(p).toContainEqual(expect.objectContaining({ shard: 'train-00099.ctws', message: expect.stringMatching(/not listed/) }));
    expect(p).toContainEqual(expect.objectContaining({ shard: 'manifest.json', message: expect.stringMatching(/splits.train.positives/) }));
    expect(p.some((x) => x.shard === m.splits.train!.shards[0].file && /crc32c .* does not match the manifest's 00000000/.test(x.message))).toBe(true);
    expect(p).toContainEqual(expect.objectContaining({ shard: m.splits.train!.shards[0].index, message: expect.stringMatching(/^crc32c=[0-9a-f]{8} in the index, 00000000 in the manifest/) }));
  });

  it('reports a missing index and still checks the shard frame by frame', async () => {
    const { dir, m } = await copy();
    const sh = m.splits.train!.shards[0];
    await rm(join(dir, sh.index));
    const p = await verifyDataset(dir);
    expect(p).toEqual([expect.objectContaining({ shard: sh.index, message: expect.stringMatching(/cannot read index/) })]);
  });

  it('reports a missing manifest', async () => {
    const d = await tmp();
    expect(await verifyDataset(d)).toEqual([expect.objectContaining({ shard: 'manifest.json', message: expect.stringMatching(/no manifest.json/) })]);
  });

  it('hashConfig ignores key order', () => {
    expect(hashConfig({ a: 1, b: { c: 2, d: 3 } })).toBe(hashConfig({ b: { d: 3, c: 2 }, a: 1 }));
    expect(hashConfig({ a: 1 })).not.toBe(hashConfig({ a: 2 }));
  });
});

describe('zero-copy framing', () => {
  it('encodePayloadParts + encodeFrameParts give exactly the bytes of encodeFrame(encodePayload())', async () => {
    const { encodePayload, encodePayloadParts, encodeFrame, encodeFrameParts } = await import('../src/shards/format.js');
    const shapes: [number, number, number, number][] = [[1, 2, 2, 1], [2, 8, 8, 3], [3, 40, 40, 3], [2, 200, 200, 3]];
    for (const [i, shape] of shapes.entries()) {
      for (const dtype of ['uint8', 'float32'] as const) {
        const n = shape.reduce((a, b) => a * b, 1) * (dtype === 'uint8' ? 1 : 4);
        const images = new Uint8Array(n).map((_, j) => (j * 31 + i) & 0xff);
        const rec = {
          images, shape, dtype, labels: Array.from({ length: shape[0] }, (_, j) => j & 1),
          study: Array.from({ length: shape[0] }, (_, j) => `st${j}`), series: Array.from({ length: shape[0] }, () => 'se'),
          sop: Array.from({ length: shape[0] }, (_, j) => `sop.${i}.${j}`), strategy: 'channelwise', channels: ['a', 'b', 'c'].slice(0, shape[3]),
          split: 'train' as const, index: i * 1000, ...(i % 2 ? { extra: { neighbours: [['x', 'y']] } } : {}),
        };
        const whole = encodeFrame(encodePayload(rec));
        const { chunks, length } = encodeFrameParts(encodePayloadParts(rec));
        expect(length).toBe(whole.length);
        expect(Buffer.compare(Buffer.concat(chunks), whole), `${shape} ${dtype}`).toBe(0);
      }
    }
  });
});

describe('image alignment (format.ts alignPad)', () => {
  it('large records start their images at a multiple of 4096 wherever the frame starts; small ones carry no pad', async () => {
    const { encodePayload, encodePayloadParts, encodeFrame, encodeFrameParts, IMAGE_ALIGN, ALIGN_MIN_IMAGE_BYTES } = await import('../src/shards/format.js');
    const big = syntheticRecord({ seed: 5, split: 'train', index: 2, batch: 2, hw: [256, 256] }); // 393,216 image bytes
    expect(big.images.length).toBeGreaterThanOrEqual(ALIGN_MIN_IMAGE_BYTES);
    const seen = new Set<number>();
    for (let at = 0; at < 2 * IMAGE_ALIGN; at++) {
      const { chunks } = encodeFrameParts(encodePayloadParts(big, at));
      // chunks: frame head, payload before the images (pad included), the images, the rest, the CRC.
      expect((at + chunks[0].length + chunks[1].length) % IMAGE_ALIGN, `at ${at}`).toBe(0);
      expect(chunks[2]).toBe(big.images);
      seen.add(chunks[1].length);
    }
    expect(seen.size).toBe(IMAGE_ALIGN); // every residue needs its own pad length (bin8 and bin16 pads included)
    for (const at of [0, 1, 4093, 4094, 4095, 3838, 3837, 3836, 12_345]) {
      const whole = encodeFrame(encodePayload(big, at));
      expect(Buffer.concat(encodeFrameParts(encodePayloadParts(big, at)).chunks).equals(whole), `at ${at}`).toBe(true);
      const back = decodePayload(decodeFrameAt(whole, 0).payload);
      expect(back).not.toHaveProperty('pad');
      expect(Buffer.from(back.images).equals(Buffer.from(big.images))).toBe(true);
    }
    const small = syntheticRecord({ seed: 5, split: 'train', index: 2, batch: 2, hw: [8, 8] });
    expect(encodePayload(small, 77).equals(encodePayload(small))).toBe(true);
  });

  it('the writer aligns large records in every shard, the first record of a new shard included', async () => {
    const dir = await tmp();
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 1_000_000 });
    for (let i = 0; i < 5; i++) await w.append(syntheticRecord({ seed: 3, split: 'train', index: i, batch: 1, hw: [300, 300] })); // 270,000 image bytes
    const shards = await w.close();
    expect(shards.length).toBe(2);
    for (const sh of shards) {
      const idx = await readShardIndex(dir, sh.index);
      const buf = await readFile(join(dir, sh.file));
      for (const e of idx.entries) {
        const { payload } = decodeFrameAt(buf, e.offset);
        const rec = decodePayload(payload);
        // The images follow the "images" key (fixstr) and a bin32 header.
        const key = payload.indexOf(Buffer.from([0xa6, ...Buffer.from('images')]));
        const start = payload.byteOffset - buf.byteOffset + key + 7 + 5;
        expect(buf.subarray(start, start + rec.images.length).equals(Buffer.from(rec.images))).toBe(true);
        expect(start % 4096, `${sh.file} record ${e.index}`).toBe(0);
      }
    }
  });
});

describe('queued appends', () => {
  const recs = () => Array.from({ length: 9 }, (_, i) => syntheticRecord({ seed: 8, split: 'train', index: i, batch: 2, hw: [260, 260] })); // 405,600 image bytes: aligned records

  it('records appended without waiting give the same folder as one append at a time, across rotations', async () => {
    const [a, b] = [await tmp(), await tmp()];
    const wa = await openShardWriter({ dir: a, split: 'train', shardBytes: 1_300_000 });
    for (const r of recs()) await wa.append(r);
    const sa = await wa.close();
    const wb = await openShardWriter({ dir: b, split: 'train', shardBytes: 1_300_000 });
    const pending = recs().map((r) => wb.append(r)); // all laid out before any is written
    const sb = await wb.close();
    await Promise.all(pending);
    expect(sa.length).toBeGreaterThan(2);
    expect(sb).toEqual(sa);
    expect(await dirBytes(b)).toEqual(await dirBytes(a));
  });

  it('a failed write fails the appends queued after it and close, naming the cause', async () => {
    const dir = await tmp();
    const { open } = await import('node:fs/promises');
    let writes = 0;
    const openFile = async (path: string, flags: number, mode?: number) => {
      const fh = await open(path, flags, mode);
      const fail = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
      const w = fh.write.bind(fh);
      const wv = fh.writev.bind(fh);
      fh.write = ((...args: Parameters<typeof fh.write>) => (++writes > 2 ? fail() : w(...args))) as typeof fh.write;
      fh.writev = ((...args: Parameters<typeof fh.writev>) => (++writes > 2 ? fail() : wv(...args))) as typeof fh.writev;
      return fh;
    };
    const w = await openShardWriter({ dir, split: 'train', shardBytes: 1_300_000, io: 'buffered', openFile });
    const results = await Promise.allSettled(recs().map((r) => w.append(r)));
    expect(results[0].status).toBe('fulfilled');
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed.length).toBeGreaterThan(0);
    expect(results.slice(results.findIndex((r) => r.status === 'rejected')).every((r) => r.status === 'rejected')).toBe(true);
    expect(String(failed[0].reason)).toMatch(/ENOSPC/);
    await expect(w.close()).rejects.toThrow(/ENOSPC/);
    expect((await readdir(dir)).filter((n) => n.endsWith('.ctws'))).toEqual([]); // nothing under a final name
  });
});
