/**
 * Atomic file writes: write `.<name>.tmp`, fsync, rename over `<name>`. A reader never sees a
 * half-written file under its final name; a crash leaves only a `.tmp` that resume discards.
 *
 * @example
 *   await writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(m));
 */
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The temp name used for `path` while it is being written. */
export function tmpPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tmpPathFor(path);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Canonical JSON: object keys sorted, 2-space indent, trailing newline. Same value → same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
