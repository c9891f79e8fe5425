/**
 * compileWindow: validated `window:` config → WindowPlan (see plan.ts). Applies defaults,
 * channel order, repetition of single-channel results, and shares identical scalars between
 * outputs so an executor computes each grey image once.
 *
 * @example
 *   const plan = compileWindow({ strategy: 'lung' });
 *   plan.channels; // ['lung', 'lung', 'lung']  (repeat defaults to true)
 */
import { windowSchema, type WindowConfig, type WindowConfigInput } from './config.js';
import type { OutputChannel, ScalarPlan, SliceWindowMeta, WindowPlan, WindowTerm } from './plan.js';
import { strategyParts } from './strategies.js';

/** Thrown for an invalid `window:` block; `issues` are `window.<path>: <message>` lines. */
export class WindowConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(issues.join('\n'));
  }
}

function customParts(channels: NonNullable<WindowConfig['channels']>): { scalars: ScalarPlan[]; outputs: OutputChannel[] } {
  const scalars: ScalarPlan[] = [];
  const outputs: OutputChannel[] = [];
  channels.forEach((ch, i) => {
    const terms: WindowTerm[] = ch.terms.map((t): WindowTerm => {
      const weight = t.weight ?? 1;
      switch (t.kind) {
        case 'raw':
          return { kind: 'raw', weight };
        case 'clip':
          return { kind: 'clip', center: t.center, width: t.width, source: 'fixed', above: t.above ?? 'clamp', norm: t.norm ?? 'image', weight };
        case 'metadata':
          return { kind: 'clip', center: 0, width: 0, source: 'metadata', truncate: t.truncate ?? true, above: t.above ?? 'clamp', norm: t.norm ?? 'window', weight };
        case 'sigmoid':
          return { kind: 'sigmoid', center: t.center, width: t.width, U: t.U ?? 1, eps: t.eps ?? 1 / 255, norm: t.norm ?? 'image', weight };
      }
    });
    scalars.push({ terms, norm: ch.norm ?? 'none' });
    const map = ch.map ? (ch.map.kind === 'gradient' ? { ...ch.map, floor: ch.map.floor ?? 0 } : ch.map) : { kind: 'identity' as const };
    outputs.push({ name: ch.name ?? `ch${i}`, scalar: i, map });
  });
  return { scalars, outputs };
}

/** Merge identical scalars (by value) so each is computed once. */
function dedupe(scalars: ScalarPlan[], outputs: OutputChannel[]): { scalars: ScalarPlan[]; outputs: OutputChannel[] } {
  const keys: string[] = [];
  const out: ScalarPlan[] = [];
  const remap = scalars.map((s) => {
    const k = JSON.stringify(s);
    let j = keys.indexOf(k);
    if (j < 0) {
      j = keys.push(k) - 1;
      out.push(s);
    }
    return j;
  });
  return { scalars: out, outputs: outputs.map((o) => ({ ...o, scalar: remap[o.scalar] })) };
}

/** Validate a `window:` block (parsed or as written) and compile it. Throws WindowConfigError. */
export function compileWindow(cfg: WindowConfig | WindowConfigInput): WindowPlan {
  const parsed = windowSchema.safeParse(cfg);
  if (!parsed.success) {
    throw new WindowConfigError(parsed.error.issues.map((i) => `window${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`));
  }
  const c = parsed.data;
  let { scalars, outputs } = c.strategy ? strategyParts(c.strategy, c.params ?? {}) : customParts(c.channels!);
  const order = c.params?.order;
  if (order && outputs.length === 3) outputs = order.map((i) => outputs[i]);
  if (outputs.length === 1 && c.repeat) outputs = [outputs[0], outputs[0], outputs[0]];
  ({ scalars, outputs } = dedupe(scalars, outputs));
  const needsMetadata = scalars.some((s) => s.terms.some((t) => t.kind === 'clip' && t.source === 'metadata'));
  const plan: WindowPlan = {
    version: 1,
    name: c.strategy ?? 'custom',
    channels: outputs.map((o) => o.name),
    scalars,
    outputs,
    needsMetadata,
  };
  if (c.fallback) plan.fallback = { center: c.fallback.center, width: c.fallback.width };
  return plan;
}

export { windowProblem } from './problem.js';
