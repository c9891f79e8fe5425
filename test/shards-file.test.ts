/**
 * Shard files: O_DIRECT and buffered writes give the same bytes (parts crossing the 8 MiB
 * staging blocks, a tail padded to 4 KiB and cut back), `auto` falls back to buffered where
 * the filesystem refuses O_DIRECT (at open or at the first write), and the shard writer's output is byte-identical
 * whichever way it writes.
 */
import { describe, expect, it } from 'vitest';
import { constants, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECT_BLOCK, markPageAligned, openShardFile, openShardWriter, type OpenFile, type ShardIo } from '../src/shards/index.js';
import { syntheticRecord } from '../src/shards/synthetic.js';
import { workerExecArgv } from '../src/worker-threads.js';

/** Deterministic parts of awkward sizes: tiny frame headers, odd lengths, one larger than a block. */
function parts(seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const sizes = [16, 3, 786_432, 1, 4095, 4097, DIRECT_BLOCK + 12_345, 777, 786_432 * 3, 0, 13];
  return sizes.map((n) => Uint8Array.from({ length: n }, () => (rnd() * 256) | 0));
}

async function writeWith(path: string, io: ShardIo, chunks: Uint8Array[][]): Promise<{ direct: boolean; length: number; sha256: string }> {
  const f = await openShardFile(path, io);
  for (const c of chunks) await f.append(c);
  const direct = f.direct;
  const { length, sha256 } = await f.finish();
  // The digest computed while writing is the file's own.
  expect(sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
  return { direct, length, sha256 };
}

describe('shard files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctw-shardfile-'));
  const records = [parts(1), parts(2), [new Uint8Array(0)], parts(3).slice(0, 4)];
  const expected = Buffer.concat(records.flat());

  it('direct (where the filesystem allows it) and buffered write the same bytes, exact length', async () => {
    const b = await writeWith(join(dir, 'buffered.bin'), 'buffered', records);
    expect(b.direct).toBe(false);
    expect(b.length).toBe(expected.length);
    expect(readFileSync(join(dir, 'buffered.bin')).equals(expected)).toBe(true);

    const a = await writeWith(join(dir, 'auto.bin'), 'auto', records);
    expect(a.length).toBe(expected.length);
    expect(statSync(join(dir, 'auto.bin')).size).toBe(expected.length); // the padded tail is cut back
    expect(readFileSync(join(dir, 'auto.bin')).equals(expected)).toBe(true);
    if (a.direct) {
      // This filesystem takes O_DIRECT (ext4 on CI): 'direct' works and is what auto chose.
      const d = await writeWith(join(dir, 'direct.bin'), 'direct', records);
      expect(d.direct).toBe(true);
      expect(readFileSync(join(dir, 'direct.bin')).equals(expected)).toBe(true);
    } else {
      // It does not: 'direct' refuses by name instead of silently writing another way.
      await expect(writeWith(join(dir, 'direct.bin'), 'direct', records)).rejects.toThrow(/EINVAL|O_DIRECT/);
    }
  });

  it('auto falls back to buffered, with the same bytes, where O_DIRECT is refused at open or at the first write', async () => {
    const einval = () => Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });
    // A filesystem that refuses O_DIRECT at open (e.g. some network filesystems).
    const refuseOpen: OpenFile = async (path, flags, mode) => {
      if (flags & constants.O_DIRECT) throw einval();
      return open(path, flags, mode);
    };
    // One that accepts the open and refuses the write (some FUSE filesystems).
    const refuseWrite: OpenFile = async (path, flags, mode) => {
      const fh = await open(path, flags, mode);
      if (flags & constants.O_DIRECT) fh.write = (async () => { throw einval(); }) as typeof fh.write;
      return fh;
    };
    for (const [name, openFile] of [['open', refuseOpen], ['write', refuseWrite]] as const) {
      const path = join(dir, `refused-at-${name}.bin`);
      const f = await openShardFile(path, 'auto', openFile);
      for (const c of records) await f.append(c);
      expect(f.direct, name).toBe(false);
      const done = await f.finish();
      expect(done.length).toBe(expected.length);
      expect(done.sha256).toBe(createHash('sha256').update(expected).digest('hex'));
      expect(readFileSync(path).equals(expected), name).toBe(true);
      await expect(openShardFile(join(dir, `direct-${name}.bin`), 'direct', refuseOpen)).rejects.toThrow(/EINVAL/);
    }
  });

  it('an empty shard file is empty on disk', async () => {
    for (const io of ['auto', 'buffered'] as const) {
      expect((await writeWith(join(dir, `empty-${io}.bin`), io, [])).length).toBe(0);
      expect(statSync(join(dir, `empty-${io}.bin`)).size).toBe(0);
    }
  });

  it('the shard writer gives byte-identical folders with io auto, direct-or-auto and buffered', async () => {
    const out: Record<string, Record<string, string>> = {};
    for (const io of ['auto', 'buffered'] as const) {
      const d = join(dir, `writer-${io}`);
      const w = await openShardWriter({ dir: d, split: 'train', shardBytes: 12 << 20, io });
      for (let index = 0; index < 10; index++) {
        const r = syntheticRecord({ seed: 9, split: 'train', index, batch: 8, hw: [300, 300] }); // ~2.2 MB a record
        const flat = r.images as Uint8Array;
        const per = flat.length / 8;
        await w.append({ ...r, images: Array.from({ length: 8 }, (_, b) => flat.subarray(b * per, (b + 1) * per)) });
      }
      const shards = await w.close();
      expect(shards.length).toBe(2); // 12 MiB shards: the staging block boundary is crossed in the first
      out[io] = Object.fromEntries(readdirSync(d).sort().map((n) => [n, readFileSync(join(d, n)).toString('base64')]));
    }
    expect(Object.keys(out.auto)).toEqual(Object.keys(out.buffered));
    expect(out.auto).toEqual(out.buffered);
  });

  it('slices in registered page-aligned memory are written in place (O_DIRECT, no staging copy), same bytes, refusal included', async () => {
    const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike } } }).WebAssembly;
    const PER = 256 * 256 * 3; // 196,608 bytes = 48 pages, as 512² × 3 is 192
    const SLOT = PER + 4096; // slots need not be adjacent
    const slab = new Wasm.Memory({ initial: (8 * SLOT) / 65536 + 1, maximum: (8 * SLOT) / 65536 + 1, shared: true }).buffer;
    markPageAligned(slab);
    const einval = () => Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });
    const results: Record<string, { bytes: Record<string, string>; inPlace: number }> = {};
    for (const mode of ['buffered', 'auto', 'auto-refused'] as const) {
      let inPlace = 0;
      // Counts writes whose memory is the slab; 'auto-refused' refuses those (a filesystem taking
      // aligned blocks but not this memory), which must fall back with the same bytes.
      const openFile: OpenFile = async (path, flags, m) => {
        const fh = await open(path, flags, m);
        const writev = fh.writev.bind(fh);
        fh.writev = (async (bufs: NodeJS.ArrayBufferView[], pos?: number) => {
          if (bufs.some((b) => b.buffer === slab) && flags & constants.O_DIRECT) {
            if (mode === 'auto-refused') throw einval();
            inPlace++;
          }
          return writev(bufs, pos);
        }) as typeof fh.writev;
        return fh;
      };
      const d = join(dir, `inplace-${mode}`);
      const w = await openShardWriter({ dir: d, split: 'train', shardBytes: 3 << 20, io: mode === 'buffered' ? 'buffered' : 'auto', openFile });
      for (let index = 0; index < 6; index++) {
        const r = syntheticRecord({ seed: 4, split: 'train', index, batch: 4, hw: [256, 256] });
        // Slices as the fast path hands them over: 4096-aligned slots of the slab, rotated.
        const flat = r.images as Uint8Array;
        const views = Array.from({ length: 4 }, (_, b) => {
          const v = new Uint8Array(slab, ((index * 4 + b) % 8) * SLOT, PER);
          v.set(flat.subarray(b * PER, (b + 1) * PER));
          return v;
        });
        await w.append({ ...r, images: views });
      }
      await w.close();
      results[mode] = { bytes: Object.fromEntries(readdirSync(d).sort().map((n) => [n, readFileSync(join(d, n)).toString('base64')])), inPlace };
    }
    expect(results.auto.bytes).toEqual(results.buffered.bytes);
    expect(results['auto-refused'].bytes).toEqual(results.buffered.bytes);
    expect(results.buffered.inPlace).toBe(0);
    // Where O_DIRECT works, every record's slices went in place (one writev per record).
    const probe = await openShardFile(join(dir, 'probe.bin'), 'auto');
    await probe.finish();
    if (probe.direct) expect(results.auto.inPlace).toBe(6);
  });

  it('worker threads drop the parent options a file-started worker refuses (node --input-type=module -e …)', () => {
    expect(workerExecArgv(['--input-type=module', '--enable-source-maps', '--max-old-space-size=512'])).toEqual(['--enable-source-maps', '--max-old-space-size=512']);
    expect(workerExecArgv([])).toBeUndefined();
    expect(workerExecArgv(['--trace-gc', '--perf-basic-prof'])).toBeUndefined(); // inherited: V8 options are refused in an explicit list
  });
});
