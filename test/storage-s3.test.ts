/**
 * Dataset folders in object storage (part of issue 20: reading). A real S3-compatible server
 * (s3rver) on 127.0.0.1, started here; a dataset uploaded to it. The Node readers, `verify`,
 * `inspect`, and the Python package's iter_batches and ShardLoader read `s3://bucket/prefix`
 * exactly as they read the local folder; a missing object is an error naming its URL; a flipped
 * byte is caught by verify.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { readRecords, verifyDataset, writeSyntheticDataset, type DecodedRecord } from '../src/shards/index.js';
import { generateDataset } from '../src/fixtures/index.js';
import { shardBytes, writePipeline } from './helpers/pipeline.js';
import { s3Client, s3Get, s3List } from '../src/storage/s3.js';
import { PY, PY_CWD, PY_ENV, REPO, runAsync } from './helpers/shared.js';

let server: S3rver;
let proxy: Server;
/** What the fault proxy in front of the server does: pass requests on, answer 503 to the next `fail503`, or 403 to all. */
const fault = { fail503: 0, deny: false, seen: 0 };
let proxied: NodeJS.ProcessEnv = {};
let local = '';
let env: NodeJS.ProcessEnv = {};
const BUCKET = 'ctw-test';

async function upload(dir: string, prefix: string, edit: (name: string, b: Buffer) => Buffer | undefined = (_, b) => b): Promise<void> {
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const body = edit(name, readFileSync(path));
    if (body) await s3Client().send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${name}`, Body: body }));
  }
}

/** A child process, awaited without blocking this process: the S3 server runs here. */
const run = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) => runAsync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: 120_000 });
const cli = (args: string[]) => run(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), ...args], { env });

async function all(dir: string): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  for await (const r of readRecords(dir)) out.push(r);
  return out;
}

beforeAll(async () => {
  const store = mkdtempSync(join(tmpdir(), 'ctw-s3rver-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: store, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = (await server.run()) as unknown as { port: number };
  env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  Object.assign(process.env, env); // this test file's own process: before the first client is made
  // A fault-injecting proxy in front of the server, for the children that read through it.
  proxy = createServer((req, res) => {
    fault.seen++;
    if (fault.deny) return void res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>');
    if (fault.fail503 > 0) {
      fault.fail503--;
      return void res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
    }
    const up = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  proxied = { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` };
  local = mkdtempSync(join(tmpdir(), 'ctw-s3-local-'));
  await writeSyntheticDataset(local, { seed: 17, records: { train: 6, val: 2 }, batch: 3, hw: [5, 4], shardBytes: 900, ragged: true });
  await upload(local, 'datasets/a');
}, 60_000);

afterAll(async () => {
  proxy?.close();
  await server?.close();
  rmSync(local, { recursive: true, force: true });
});

describe('s3://bucket/prefix datasets', () => {
  it('503s for a while are retried and the read completes; a 403 stops it with a clear error (Node CLI and Python)', async () => {
    fault.fail503 = 3;
    fault.seen = 0;
    const v = await run(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'verify', `s3://${BUCKET}/datasets/a`], { env: proxied });
    expect(v.status, v.stderr).toBe(0);
    expect(fault.fail503).toBe(0);
    expect(fault.seen).toBeGreaterThan(3);
    fault.deny = true;
    const denied = await run(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'inspect', `s3://${BUCKET}/datasets/a`], { env: proxied });
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/s3:\/\/ctw-test\/datasets\/a\/manifest\.json: access denied \((InvalidAccessKeyId|HTTP 403)\): check AWS_ACCESS_KEY_ID/);
    const py = await run(PY, ['-c', `import sys, ctwindow_shards as c
try:
    list(c.iter_batches(sys.argv[1]))
except c.ShardError as e:
    print("refused:", e)`, `s3://${BUCKET}/datasets/a`], { env: { ...PY_ENV, ...proxied }, cwd: PY_CWD });
    expect(py.stdout).toMatch(/^refused: s3:\/\/ctw-test\/datasets\/a\/manifest\.json: access denied/);
    fault.deny = false;
    fault.fail503 = 2;
    const again = await run(PY, ['-c', `import sys, ctwindow_shards as c
print(sum(len(l) for _, l, _ in c.iter_batches(sys.argv[1])))`, `s3://${BUCKET}/datasets/a`], { env: { ...PY_ENV, ...proxied }, cwd: PY_CWD });
    expect(again.status, again.stderr).toBe(0);
    expect(Number(again.stdout.trim())).toBeGreaterThan(10);
  }, 120_000);

  it('the Node reader reads every record as it reads the local folder; verify passes', async () => {
    const [a, b] = [await all(local), await all(`s3://${BUCKET}/datasets/a`)];
    expect(b.length).toBe(a.length);
    expect(a.length).toBeGreaterThan(2);
    b.forEach((r, i) => {
      expect(Buffer.from(r.images).equals(Buffer.from(a[i].images))).toBe(true);
      expect([r.sop, r.labels, r.shard, r.position]).toEqual([a[i].sop, a[i].labels, a[i].shard, a[i].position]);
    });
    expect(await verifyDataset(`s3://${BUCKET}/datasets/a`)).toEqual([]);
  });

  it('ctwindow verify and inspect take an s3:// folder (credentials and endpoint from the environment)', async () => {
    const v = await cli(['verify', `s3://${BUCKET}/datasets/a`]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toBe(''); // no SDK notices on the terminal
    const i = await cli(['inspect', `s3://${BUCKET}/datasets/a`, '--json']);
    expect(i.status, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toEqual(JSON.parse((await cli(['inspect', local, '--json'])).stdout));
  });

  it('a missing object is an error naming its URL; a flipped byte is caught by verify', async () => {
    await upload(local, 'datasets/missing', (name, b) => (name === 'train-00001.ctws' ? undefined : b));
    await expect(all(`s3://${BUCKET}/datasets/missing`)).rejects.toThrow(`s3://${BUCKET}/datasets/missing/train-00001.ctws: not found`);
    await upload(local, 'datasets/damaged', (name, b) => (name === 'train-00000.ctws' ? Buffer.from(b.map((x, k) => (k === 40 ? x ^ 1 : x))) : b));
    const problems = await verifyDataset(`s3://${BUCKET}/datasets/damaged`);
    expect(problems.map((p) => `${p.shard}: ${p.message}`).join('\n')).toMatch(/train-00000\.ctws: crc32c [0-9a-f]{8} does not match the manifest's/);
  });

  it('the Python package: iter_batches and ShardLoader (2 workers) read s3:// as they read the folder', async () => {
    const code = `
import json, sys, warnings
warnings.filterwarnings("ignore")
import ctwindow_shards as c
def batches(d):
    return [[m["sop"], l.tolist(), int(x.astype("int64").sum())] for x, l, m in c.iter_batches(d)]
def loader(d):
    return [[m["SOPInstanceUID"], int(x.sum())] for x, y, m in c.ShardLoader(d, batch_size=4, num_workers=2, seed=3)]
a, b = sys.argv[1], sys.argv[2]
print(json.dumps({"batches": batches(a) == batches(b), "n": len(batches(b)), "loader": loader(a) == loader(b), "verify": c.verify_dataset(b)}))
`;
    const r = await run(PY, ['-c', code, local, `s3://${BUCKET}/datasets/a`], { env: { ...PY_ENV, ...env }, cwd: PY_CWD });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ batches: true, n: 6, loader: true, verify: [] });
  }, 120_000);

  it('ctwindow run reads train.csv and the DICOM tree from s3:// (and writes there), probe/decode/window read it: the shards equal a local run; a missing object is quarantined by URL; 503s are retried; a 403 stops the run', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ctw-s3-run-'));
    const ds = await generateDataset(join(work, 'data'), { exams: 3, slicesPerExam: 6, rows: 32, cols: 32, seed: 7 });
    const gone = ds.slices[4];
    const rel = gone.path.slice(join(work, 'data').length + 1);
    await upload(join(work, 'data'), 'rsna', (name, b) => (name === rel ? undefined : b));
    // The local twin: the same data without that file.
    cpSync(join(work, 'data'), join(work, 'local'), { recursive: true });
    unlinkSync(join(work, 'local', rel));
    const cfg = (csv: string, root: string, out: string) => ({
      source: { csv, dicomRoot: root }, split: { val: 0.3 }, window: { strategy: 'sigmoid-ensemble' }, resize: [24, 24],
      balance: { mode: 'undersample', positiveFraction: 0.5 }, batch: { size: 4 }, output: { dir: out, shardBytes: 20_000 },
      seed: 2, backend: 'cpu', workers: 2, quarantine: { maxFraction: 0.5 },
    });
    const localYaml = await writePipeline(work, cfg('local/train.csv', 'local/train', 'out-local'), 'local.yaml');
    expect((await cli(['run', localYaml, '-q'])).status).toBe(0);
    const s3Yaml = await writePipeline(work, cfg(`s3://${BUCKET}/rsna/train.csv`, `s3://${BUCKET}/rsna/train`, 'out-s3'), 's3.yaml');
    fault.fail503 = 3; // fewer than the attempts one request is given (5)
    const r = await run(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'run', s3Yaml, '-q'], { env: proxied });
    expect(r.status, r.stderr).toBe(0);
    expect(fault.fail503).toBe(0); // the 503s were met, and retried
    const [a, b] = [await shardBytes(join(work, 'out-local')), await shardBytes(join(work, 'out-s3'))];
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [f, bytes] of a) if (f.endsWith('.ctws')) expect(bytes.equals(b.get(f)!), f).toBe(true);
    // Source and output both on the server: the objects are the local run's files.
    const bothYaml = await writePipeline(work, cfg(`s3://${BUCKET}/rsna/train.csv`, `s3://${BUCKET}/rsna/train`, `s3://${BUCKET}/out/both`), 'both.yaml');
    const both = await cli(['run', bothYaml, '-q']);
    expect(both.status, both.stderr).toBe(0);
    const loc = { bucket: BUCKET, prefix: 'out/both' };
    const stored = (await s3List(loc)).map((o) => o.name).filter((n) => n.endsWith('.ctws')).sort();
    expect(stored).toEqual([...a.keys()].filter((f) => f.endsWith('.ctws')));
    for (const f of stored) expect((await s3Get(loc, f)).equals(a.get(f)!), `out/both/${f}`).toBe(true);
    expect(await verifyDataset(`s3://${BUCKET}/out/both`)).toEqual([]);
    const q = readFileSync(join(work, 'out-s3', 'quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(q.map((x) => x.reason)).toEqual([`file not found: s3://${BUCKET}/rsna/${rel}`]);
    // probe, decode and window take s3:// objects and prefixes, and say the same as for the local files.
    const objUrl = `s3://${BUCKET}/rsna/${ds.slices[0].path.slice(join(work, 'data').length + 1)}`;
    const p = await cli(['probe', `s3://${BUCKET}/rsna/train`, '--json']);
    expect(p.status, p.stderr).toBe(0);
    const probed = JSON.parse(p.stdout);
    expect(probed.summary.total).toBe(ds.slices.length - 1);
    expect(probed.summary.decodable).toBe(ds.slices.length - 1);
    for (const cmd of ['decode', 'window']) {
      const extra = cmd === 'window' ? ['--strategy', 'lung'] : [];
      const remote = await cli([cmd, objUrl, `s3://${BUCKET}/rsna/${rel}`, ...extra, '--out', join(work, `${cmd}-s3`)]);
      const here = await cli([cmd, ds.slices[0].path, join(work, 'local', rel), ...extra, '--out', join(work, `${cmd}-local`)]);
      expect(remote.stderr).toContain(`FAIL s3://${BUCKET}/rsna/${rel}: file not found`);
      expect(remote.status).toBe(here.status);
      const [a1] = readdirSync(join(work, `${cmd}-local`));
      expect(readFileSync(join(work, `${cmd}-s3`, a1)).equals(readFileSync(join(work, `${cmd}-local`, a1))), `${cmd}: ${a1}`).toBe(true);
    }
    fault.deny = true;
    const deniedYaml = await writePipeline(work, cfg(`s3://${BUCKET}/rsna/train.csv`, `s3://${BUCKET}/rsna/train`, 'out-denied'), 'denied.yaml');
    const denied = await run(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'run', deniedYaml, '-q'], { env: proxied, cwd: work });
    fault.deny = false;
    expect(denied.status).toBe(2);
    expect(denied.stderr).toMatch(/access denied \((InvalidAccessKeyId|HTTP 403)\)/);
    rmSync(work, { recursive: true, force: true });
  }, 180_000);

  it('output.dir on s3://: the objects equal a local run\'s files; a run killed with SIGKILL resumes on S3 to the same bytes; a second run is refused', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ctw-s3-out-'));
    await generateDataset(join(work, 'data'), { exams: 5, slicesPerExam: 12, rows: 48, cols: 48, seed: 3 });
    const cfg = (out: string) => ({
      source: { csv: 'data/train.csv', dicomRoot: 'data/train' }, split: { val: 0.3 }, window: { strategy: 'sigmoid-ensemble' }, resize: [48, 48],
      balance: { mode: 'oversample', positiveFraction: 0.5 }, batch: { size: 4 }, output: { dir: out, shardBytes: 40_000 }, seed: 9, backend: 'cpu', workers: 0,
    });
    const localYaml = await writePipeline(work, cfg('out-local'), 'local.yaml');
    const t0 = Date.now();
    expect((await cli(['run', localYaml, '-q'])).status).toBe(0);
    const fullMs = Date.now() - t0;
    const want = await shardBytes(join(work, 'out-local'));
    const objects = async (prefix: string) => {
      const loc = { bucket: BUCKET, prefix };
      const m = new Map<string, Buffer>();
      for (const o of await s3List(loc)) if (o.name.endsWith('.ctws') || o.name.endsWith('.idx.json')) m.set(o.name, await s3Get(loc, o.name));
      return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
    };
    const same = async (prefix: string) => {
      const got = await objects(prefix);
      expect([...got.keys()], prefix).toEqual([...want.keys()]);
      for (const [f, b] of want) expect(got.get(f)!.equals(b), `${prefix}: ${f}`).toBe(true);
      expect(await verifyDataset(`s3://${BUCKET}/${prefix}`)).toEqual([]);
    };
    const s3Yaml = await writePipeline(work, cfg(`s3://${BUCKET}/out/full`), 's3.yaml');
    const r = await cli(['run', s3Yaml, '-q']);
    expect(r.status, r.stderr).toBe(0);
    await same('out/full');
    const again = await cli(['run', s3Yaml, '-q']);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`output s3://${BUCKET}/out/full already holds a complete dataset`);
    // Killed with SIGKILL part-way (twice), then --resume: the same objects.
    const killYaml = await writePipeline(work, cfg(`s3://${BUCKET}/out/killed`), 'killed.yaml');
    let midway = 0;
    for (const resume of [false, true]) {
      // SIGKILL as soon as the prefix holds a committed shard (and, on the resume, a new one) but no manifest.
      const before = (await s3List({ bucket: BUCKET, prefix: 'out/killed' })).filter((o) => o.name.endsWith('.ctws')).length;
      const child = spawn(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), 'run', killYaml, '-q', ...(resume ? ['--resume'] : [])], { cwd: REPO, env: { ...process.env, ...env }, stdio: 'ignore' });
      const exited = new Promise<string | null>((ok) => child.on('exit', (_, signal) => ok(signal)));
      let done = false;
      void exited.then(() => (done = true));
      while (!done) {
        const names = (await s3List({ bucket: BUCKET, prefix: 'out/killed' })).map((o) => o.name);
        if (names.filter((n) => n.endsWith('.ctws')).length > before && !names.includes('manifest.json')) {
          child.kill('SIGKILL');
          break;
        }
        await new Promise((ok) => setTimeout(ok, 5));
      }
      const signal = await exited;
      const names = (await s3List({ bucket: BUCKET, prefix: 'out/killed' })).map((o) => o.name);
      if (signal === 'SIGKILL' && !names.includes('manifest.json')) midway++;
    }
    expect(midway, 'no kill landed between a shard and the manifest').toBe(2);
    const resumed = await cli(['run', killYaml, '-q', '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    await same('out/killed');
    rmSync(work, { recursive: true, force: true });
  }, 180_000);

  it('an https:// (here http://) folder, as a public bucket or a static server serves it, reads like the local one (Node, verify, Python)', async () => {
    // A static server answering HEAD and single ranges with 206, as S3 website / GCS / nginx do.
    const web = createServer((req, res) => {
      const file = join(local, decodeURIComponent((req.url ?? '/').replace(/^\/ds\//, '')));
      let body: Buffer;
      try {
        body = readFileSync(file);
      } catch {
        return void res.writeHead(404).end();
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
      const part = m ? body.subarray(Number(m[1]), Number(m[2]) + 1) : body;
      res.writeHead(m ? 206 : 200, { 'content-length': String(req.method === 'HEAD' ? body.length : part.length), 'accept-ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : part);
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(web.address() as { port: number }).port}/ds`;
    try {
      const [a, b] = [await all(local), await all(url)];
      expect(b.map((r) => Buffer.from(r.images).toString('base64'))).toEqual(a.map((r) => Buffer.from(r.images).toString('base64')));
      expect(await verifyDataset(url)).toEqual([]);
      await expect(all(`${url}/nowhere`)).rejects.toThrow(`${url}/nowhere/manifest.json: no manifest.json (not a ctwindow dataset, or its run did not finish)`);
      const py = await run(PY, ['-c', `import json, sys, ctwindow_shards as c
a = [[m["sop"], int(x.astype("int64").sum())] for x, l, m in c.iter_batches(sys.argv[1])]
b = [[m["sop"], int(x.astype("int64").sum())] for x, l, m in c.iter_batches(sys.argv[2])]
print(json.dumps({"same": a == b, "n": len(b), "verify": c.verify_dataset(sys.argv[2])}))`, local, url], { env: PY_ENV, cwd: PY_CWD });
      expect(py.status, py.stderr).toBe(0);
      expect(JSON.parse(py.stdout.trim())).toEqual({ same: true, n: 6, verify: [] });
    } finally {
      web.close();
    }
  }, 60_000);
});
