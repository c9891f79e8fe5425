/**
 * An output folder in object storage (`output.dir: s3://bucket/prefix`), written through a
 * local staging folder: the run writes there exactly as it writes a local folder (same bytes,
 * same crash safety), and each file is uploaded as an object once it is complete — run.json
 * first, then at every shard commit the quarantine log, the index and the shard (whose local
 * copy then goes: the staging folder holds about one shard), manifest.json last. An object
 * appears only when complete (S3 PUT / multipart completion), so a reader never sees a partial
 * shard; a killed run leaves its committed shards. `--resume` downloads what the prefix holds
 * into a fresh staging folder and continues there, so it ends byte-identical to an
 * uninterrupted run. Two runs on one prefix from one machine share the staging folder's lock;
 * from different machines nothing stops them (object stores have no lock).
 *
 * @example
 *   const s = await stageOutput('s3://bucket/out', resume);   // { stage, mirror, cleanup }
 *   await s.mirror.put('run.json');
 */
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseS3Url, s3Download, s3List, s3Put } from './s3.js';

export interface OutputMirror {
  /** Where the output really goes (for messages). */
  url: string;
  /** Uploads `<stage>/<name>` as `<url>/<name>`. */
  put(name: string): Promise<void>;
  /** Uploads a committed shard and drops its local copy. */
  putAndDrop(name: string): Promise<void>;
}

/** What the prefix already holds, in the words of a local folder's refusal; undefined when empty. */
function describe(url: string, names: string[]): string | undefined {
  const shards = names.filter((n) => n.endsWith('.ctws')).length;
  if (names.includes('manifest.json')) return `output ${url} already holds a complete dataset (manifest.json, ${shards} shard(s))`;
  if (shards || names.includes('run.json')) return `output ${url} already holds an unfinished run (${shards} shard(s), no manifest.json)`;
  return undefined;
}

export async function stageOutput(url: string, resume: boolean): Promise<{ stage: string; mirror: OutputMirror; cleanup: () => Promise<void> }> {
  const loc = parseS3Url(url);
  const stage = join(tmpdir(), 'ctwindow-stage', createHash('sha1').update(url).digest('hex').slice(0, 16));
  const names = (await s3List(loc)).map((o) => o.name).filter((n) => !n.includes('/'));
  const existing = describe(url, names);
  if (existing && !resume) {
    const err = new Error(`${existing}; choose an empty prefix, delete it, or pass --resume to continue an unfinished run`);
    throw Object.assign(err, { code: 'EEXIST' });
  }
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  if (existing) {
    // A finished dataset: its manifest and run record say so; an unfinished one: everything it committed.
    const finished = names.includes('manifest.json');
    for (const n of names) {
      const wanted = finished ? n === 'manifest.json' || n === 'run.json' : n === 'run.json' || n === 'quarantine.jsonl' || n.endsWith('.idx.json') || n.endsWith('.ctws');
      if (wanted) await s3Download(loc, n, join(stage, n));
    }
  }
  const put = (name: string) => s3Put(loc, name, join(stage, name));
  return {
    stage,
    mirror: {
      url,
      put,
      async putAndDrop(name) {
        await put(name);
        await rm(join(stage, name), { force: true });
      },
    },
    cleanup: () => rm(stage, { recursive: true, force: true }),
  };
}
