/**
 * Access to ../shared (reference corpus beside the checkout). Absent in a user's fresh
 * clone: tests that need it are skipped with a message saying so; the project's own tests
 * use generated fixtures instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const candidate = process.env.CTWINDOW_SHARED ?? resolve(REPO, '..', 'shared');
/** Absolute path of ../shared, or undefined when it is not there. */
export const SHARED: string | undefined = existsSync(join(candidate, 'corpus', 'reference.json')) ? candidate : undefined;
export const CORPUS = SHARED ? join(SHARED, 'corpus') : undefined;

if (!SHARED) {
  console.warn(`[ctwindow tests] ../shared not found at ${candidate}: corpus tests are skipped (set CTWINDOW_SHARED to its path).`);
}

export function loadJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Runs the built CLI (`npm run build` first; `npm test` does it). */
export function ctwindow(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(REPO, 'bin', 'ctwindow.js'), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeout ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Debian's python3 (numpy, pydicom, msgpack), not a pyenv shim. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * The Python that runs the `ctwindow_shards` package: CI's venv holding `pip install ./python`
 * (CTW_PYTHON; the tests then import the installed package, from outside the repository), else
 * Debian's python3 with `python/` on PYTHONPATH.
 */
export const PY = process.env.CTW_PYTHON || PYTHON;
export const PY_ENV: NodeJS.ProcessEnv = process.env.CTW_PYTHON ? { ...process.env } : { ...process.env, PYTHONPATH: join(REPO, 'python') };
/** A neutral working directory for Python children (not the repository: the package must come from its install). */
export const PY_CWD = tmpdir();

/**
 * A child process awaited without blocking this test worker (a long spawnSync starves vitest's
 * RPC and fails the run with "Timeout calling onTaskUpdate"; servers a test runs in-process
 * need the event loop too). Killed after `timeout` ms.
 */
export function runAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 300_000);
    p.on('close', (status, signal) => {
      clearTimeout(t);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
