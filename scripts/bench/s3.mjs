/**
 * Object storage rows of `npm run bench` (issue 20): the same `ctwindow run` (sigmoid-ensemble,
 * uint8, 512², workers auto) with its DICOM on local disk, with `source.csv` and
 * `source.dicomRoot` on a local S3-compatible server (s3rver on 127.0.0.1), and with the output
 * on it too. Whole process, slices/s. The server runs in this process and stores objects on the
 * same disk, so the rows measure the S3 path's overhead (HTTP, SDK, signing, staging), not a network.
 *
 *   import { benchS3 } from './scripts/bench/s3.mjs';
 *   const rows = await benchS3({ csv, root, work, slices });
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runCli(yaml, env) {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ctwindow.js'), 'run', yaml, '-q'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? ok((performance.now() - t0) / 1000) : fail(new Error(`ctwindow run exited ${code}: ${err.trim().split('\n').pop()}`))));
  });
}

export async function benchS3({ csv, root, work, slices }) {
  const { default: S3rver } = await import('s3rver');
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const dir = join(work, 's3');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'store'), { recursive: true });
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 'store'), configureBuckets: [{ name: 'bench', configs: [] }] });
  const { port } = await server.run();
  const env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  Object.assign(process.env, env);
  try {
    const { s3Client } = await import(pathToFileURL(join(ROOT, 'dist', 'storage', 's3.js')).href);
    const put = (key, body) => s3Client().send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: body }));
    await put('src/train.csv', readFileSync(csv));
    const walk = async (d) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) await walk(p);
        else await put(`src/train/${relative(root, p)}`, readFileSync(p));
      }
    };
    await walk(root);
    const yaml = (name, source, out) => {
      const y = join(dir, `${name}.yaml`);
      writeFileSync(y, [
        `source: {csv: ${JSON.stringify(source.csv)}, dicomRoot: ${JSON.stringify(source.root)}, label: pe_present_on_image}`,
        'split: {by: StudyInstanceUID, val: 0}', 'window: {strategy: sigmoid-ensemble}', 'resize: [512, 512]', 'balance: {mode: none}',
        'batch: {size: 32}', `output: {dir: ${JSON.stringify(out)}, dtype: uint8, shardBytes: 268435456}`, 'seed: 42', 'backend: cpu', 'workers: auto',
      ].join('\n') + '\n');
      return y;
    };
    const s3src = { csv: 's3://bench/src/train.csv', root: 's3://bench/src/train' };
    const rows = [];
    for (const [what, y] of [
      ['local disk → local disk', yaml('local', { csv, root }, join(dir, 'out-local'))],
      ['S3 (local server) → local disk', yaml('s3-in', s3src, join(dir, 'out-s3-in'))],
      ['S3 (local server) → S3 (local server)', yaml('s3-both', s3src, 's3://bench/out')],
    ]) {
      const seconds = await runCli(y, env);
      rows.push({ what, slices, seconds: +seconds.toFixed(2), slices_per_s: +(slices / seconds).toFixed(1) });
    }
    return rows;
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
