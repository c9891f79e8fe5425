/**
 * Reader rows of `npm run bench` (issue 19): the Python ShardLoader and iter_batches, and Node's
 * ShardDataset, at 256² and 512², beside a baseline of one `np.load` per slice of the same
 * slices. From the page cache: every reader gets an untimed pass first.
 *
 *   node scripts/bench/loader.mjs [--mb 300]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = process.env.CTW_PYTHON || '/usr/bin/python3';

function npyHeader(shape) {
  let h = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const total = 10 + h.length + 1;
  h += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const b = Buffer.alloc(10 + h.length);
  b.write('\x93NUMPY', 0, 'latin1');
  b[6] = 1;
  b[7] = 0;
  b.writeUInt16LE(h.length, 8);
  b.write(h, 10, 'latin1');
  return b;
}

export async function benchLoader({ mb = 300 } = {}) {
  const { writeSyntheticDataset, readRecords, ShardDataset } = await import(pathToFileURL(join(REPO, 'dist', 'shards', 'index.js')).href);
  const rows = [];
  for (const size of [256, 512]) {
    const root = mkdtempSync(join(tmpdir(), `ctw-bench-loader-${size}-`));
    try {
      const per = 32 * size * size * 3;
      const records = Math.max(2, Math.round((mb * 1e6) / per));
      const ds = join(root, 'ds');
      await writeSyntheticDataset(ds, { seed: 1, records: { train: records }, batch: 32, hw: [size, size], shardBytes: 256 << 20 });
      // The baseline's input: the same slices, one .npy file each.
      const npy = join(root, 'npy');
      mkdirSync(npy);
      let k = 0;
      for await (const r of readRecords(ds)) {
        const one = size * size * 3;
        for (let i = 0; i < r.shape[0]; i++) writeFileSync(join(npy, `${String(k++).padStart(6, '0')}.npy`), Buffer.concat([npyHeader([size, size, 3]), r.images.subarray(i * one, (i + 1) * one)]));
      }
      // Node: ShardDataset, records granularity (slices), shuffled.
      const nodeOnce = async () => {
        const t0 = performance.now();
        let n = 0, bytes = 0;
        const sd = await ShardDataset.open(ds, { seed: 1, granularity: 'records' });
        for await (const s of sd.samples()) {
          n++;
          bytes += s.image.byteLength;
        }
        return { n, bytes, s: (performance.now() - t0) / 1000 };
      };
      await nodeOnce();
      const nd = await nodeOnce();
      const p = spawnSync(PYTHON, [join(REPO, 'scripts', 'bench', 'loader_bench.py'), ds, npy], {
        encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(REPO, 'python') }, maxBuffer: 16 << 20, timeout: 600_000,
      });
      if (p.status !== 0) {
        rows.push({ size, error: (p.stderr || p.error?.message || 'python failed').trim().split('\n').pop() });
        continue;
      }
      const py = JSON.parse(p.stdout.trim().split('\n').pop());
      rows.push({ size, slices: k, mb: +((k * size * size * 3) / 1e6).toFixed(0), ...py, node_ShardDataset: { slices_per_s: +(nd.n / nd.s).toFixed(1), mb_per_s: +(nd.bytes / 1e6 / nd.s).toFixed(1) } });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return rows;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mb = process.argv.includes('--mb') ? Number(process.argv[process.argv.indexOf('--mb') + 1]) : 300;
  console.log(JSON.stringify(await benchLoader({ mb }), null, 2));
}
