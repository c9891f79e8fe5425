/**
 * Worker-thread entry of the shard hasher (hasher.ts): sha256 of staged shard blocks, off the
 * main thread. Streams are independent hash states (one per open shard file). Messages are
 * handled in order, so a digest follows every block sent before it.
 *
 *   in : { stream, reset: true }                      start a new hash state
 *   in : { id, stream, sab, off, len }                hash sab[off, off + len) → { id }
 *   in : { id, stream, digest: true }                 → { id, hex }
 *
 * @example
 *   new Worker(hasherScript());
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export type HashRequest =
  | { stream: number; reset: true }
  | { id: number; stream: number; sab: SharedArrayBuffer; off: number; len: number }
  | { id: number; stream: number; digest: true };
export interface HashReply { id: number; hex?: string; error?: string }

const port = parentPort;
if (!port) throw new Error('src/shards/hash-worker.ts is a worker-thread entry; start it with new Worker(…)');
const states = new Map<number, Hash>();

port.on('message', (m: HashRequest) => {
  if ('reset' in m) {
    states.set(m.stream, createHash('sha256'));
    return;
  }
  const h = states.get(m.stream);
  if (!h) return port.postMessage({ id: m.id, error: `hash stream ${m.stream} was not reset` } satisfies HashReply);
  if ('digest' in m) {
    states.delete(m.stream);
    return port.postMessage({ id: m.id, hex: h.digest('hex') } satisfies HashReply);
  }
  h.update(new Uint8Array(m.sab, m.off, m.len));
  port.postMessage({ id: m.id } satisfies HashReply);
});
