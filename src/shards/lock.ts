/**
 * One run per output folder. A live `run` (or `--resume`) holds `<dir>/.ctwindow.lock`, created
 * exclusively (O_EXCL) and holding its process id, host and start time; a second run on the same
 * folder is refused, naming that process. A lock whose process is gone (killed, crashed) is
 * stale and taken over; the lock is removed when the run ends, so a finished folder holds the
 * same files as before. On another host the owner cannot be checked: refused, naming it.
 *
 * @example
 *   const lock = await lockOutputFolder('out/');   // throws OutputFolderError when in use
 *   try { … } finally { await lock.release(); }
 */
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OutputFolderError } from './writer.js';

export const LOCK_FILE = '.ctwindow.lock';

interface LockOwner {
  pid: number;
  host: string;
  /** The process's start (Linux: clock ticks since boot, /proc/<pid>/stat field 22), against pid reuse. */
  startTicks?: number;
  started: string;
}

function startTicksOf(pid: number): number | undefined {
  try {
    // Field 22 of /proc/<pid>/stat; fields after the parenthesised command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** Is the owner's process alive on this host (the same process, not a reused pid)? */
function alive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === undefined || ticks === undefined || ticks === owner.startTicks;
}

/** Throws when the lock at `path` belongs to a live run (or one on another host that cannot be checked). */
async function refuseLiveOwner(dir: string, path: string, me: LockOwner): Promise<void> {
  let owner: LockOwner | undefined;
  try {
    owner = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return; // unreadable (not ours: ours are written whole): stale
  }
  if (!owner || !Number.isInteger(owner.pid)) return;
  if (owner.host !== me.host) {
    throw new OutputFolderError(`output folder ${dir} is locked by process ${owner.pid} on host ${owner.host} (since ${owner.started}); if that run is gone, delete ${path}`);
  }
  if (alive(owner)) {
    throw new OutputFolderError(`output folder ${dir} is in use by another ctwindow run (process ${owner.pid}, since ${owner.started}); wait for it to end or stop it, then --resume`);
  }
}

export interface FolderLock {
  release(): Promise<void>;
}

/** Takes the folder's lock (creating the folder); OutputFolderError when another live run holds it. */
export async function lockOutputFolder(dir: string): Promise<FolderLock> {
  // The top-most folder this call creates (undefined: `dir` existed), removed again if left empty.
  const created = await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), startTicks: startTicksOf(process.pid), started: new Date().toISOString() };
  // The lock appears whole or not at all: written to a private name, then hard-linked into place
  // (link fails when the lock exists), so another run never reads a half-written one.
  const mine = join(dir, `${LOCK_FILE}.${process.pid}`);
  await writeFile(mine, JSON.stringify(me) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, path);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPERM' || code === 'ENOTSUP') {
          // A file system without hard links: exclusive create (a racing reader may see it empty).
          await writeFile(path, JSON.stringify(me) + '\n', { flag: 'wx' });
          break;
        }
        if (code !== 'EEXIST' || attempt > 3) throw e;
      }
      await refuseLiveOwner(dir, path, me);
      await rm(path, { force: true }); // stale: its process is gone
    }
  } finally {
    await rm(mine, { force: true });
  }
  return {
    async release() {
      await rm(path, { force: true });
      if (!created) return;
      // The folders this lock created, from `dir` up, while the run left them empty.
      for (let d = resolve(dir); ; d = dirname(d)) {
        if (!(await rmdir(d).then(() => true, () => false))) break;
        if (d === resolve(created)) break;
      }
    },
  };
}
