/**
 * Progress for long runs: a bar on a TTY (cli-progress), periodic lines otherwise (logs, CI).
 * The fraction is slices written of slices expected (the counting pass knows them), so the
 * bar and its ETA follow the work done, not the CSV read.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../pipeline/run.js';

export interface ProgressReporter {
  update(p: Progress): void;
  /** A message line that does not tear the bar. */
  log(line: string): void;
  /** Ends the bar and shows the cursor again; safe to call more than once. */
  stop(): void;
}

function eta(p: Progress): string {
  if (p.fraction <= 0 || p.fraction >= 1) return '-';
  const s = Math.round(((p.elapsedMs / 1000) * (1 - p.fraction)) / p.fraction);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const rate = (p: Progress) => (p.elapsedMs > 0 ? (p.slices / (p.elapsedMs / 1000)).toFixed(1) : '0');

export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream; intervalMs?: number } = {}): ProgressReporter {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { update() {}, log() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: '{bar} {percentage}% | {slices}/{expected} slices | {rate} slices/s | {quarantined} quarantined | ETA {etaText}', stream, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let running = false;
    return {
      update: (p) => {
        if (!running) {
          bar.start(1000, 0, { slices: 0, expected: p.expected, rate: '0', quarantined: 0, etaText: '-' });
          running = true;
        }
        bar.update(Math.round(p.fraction * 1000), { slices: p.slices, expected: p.expected, rate: rate(p), quarantined: p.quarantined, etaText: eta(p) });
      },
      log: (line) => stream.write(`${running ? '\r\x1b[K' : ''}${line}\n`),
      stop: () => {
        if (running) bar.stop();
        running = false;
        stream.write('\x1b[?25h'); // the cursor, whatever happened
      },
    };
  }
  const every = opts.intervalMs ?? 5000;
  let last = 0;
  return {
    update(p) {
      if (p.elapsedMs - last < every) return;
      last = p.elapsedMs;
      stream.write(`progress: ${(p.fraction * 100).toFixed(1)}% (${p.slices} of ${p.expected} slices), ${rate(p)} slices/s, ${p.quarantined} quarantined, ETA ${eta(p)}\n`);
    },
    log: (line) => stream.write(`${line}\n`),
    stop() {},
  };
}
