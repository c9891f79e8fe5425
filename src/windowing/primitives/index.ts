/**
 * The primitive registry: every term kind and channel-map kind a WindowPlan may use, each
 * defined once in its own file with its tfjs, table and WGSL forms (see types.ts). The
 * executors (tfjs reference, CPU table, fused WebGPU) look primitives up here and nowhere else.
 *
 * Adding a primitive: one file exporting a TermPrimitive or MapPrimitive, one line below, the
 * kind in plan.ts's union, and its test (test/windowing-primitives.test.ts checks every
 * registered primitive's table form against its tfjs form bit for bit).
 *
 * @example
 *   planProblem(plan)            // undefined, or why no executor can run the plan
 *   termPrimitive('sigmoid').table(term, { plan })(hu, meta)
 */
import type { ChannelMap, WindowPlan, WindowTerm } from '../plan.js';
import { clip } from './clip.js';
import { ensemble } from './ensemble.js';
import { gradient } from './gradient.js';
import { identity } from './identity.js';
import { raw } from './raw.js';
import { sigmoid } from './sigmoid.js';
import { spread } from './spread.js';
import type { MapPrimitive, TermPrimitive } from './types.js';

export { minMax } from './minmax.js';
export { ensemble } from './ensemble.js';
export { clipBounds } from './clip.js';
export { f32 } from './wgsl.js';
export type { MapPrimitive, TermPrimitive, TermContext, TermWgsl, Tf } from './types.js';

export const TERMS: { [K in WindowTerm['kind']]: TermPrimitive<Extract<WindowTerm, { kind: K }>> } = { raw, clip, sigmoid };
export const MAPS: { [K in ChannelMap['kind']]: MapPrimitive<Extract<ChannelMap, { kind: K }>> } = { identity, gradient, spread };

/** The term's primitive; throws naming an unknown kind. */
export function termPrimitive(kind: string): TermPrimitive {
  const p = (TERMS as Record<string, TermPrimitive | undefined>)[kind];
  if (!p) throw new Error(`window plan: unknown term kind '${kind}' (known: ${Object.keys(TERMS).join(', ')})`);
  return p;
}

/** The map's primitive; throws naming an unknown kind. */
export function mapPrimitive(kind: string): MapPrimitive {
  const p = (MAPS as Record<string, MapPrimitive | undefined>)[kind];
  if (!p) throw new Error(`window plan: unknown channel map '${kind}' (known: ${Object.keys(MAPS).join(', ')})`);
  return p;
}

/** Why the plan cannot be executed (unknown kind, bad argument, bad reference), or undefined. */
export function planProblem(plan: WindowPlan): string | undefined {
  if (!plan || plan.version !== 1 || !Array.isArray(plan.scalars) || !Array.isArray(plan.outputs)) return 'not a WindowPlan (compileWindow makes one)';
  if (!plan.outputs.length) return 'no output channels';
  for (const [si, s] of plan.scalars.entries()) {
    if (!Array.isArray(s?.terms) || !s.terms.length) return `scalar ${si}: no terms`;
    if (s.norm !== 'image' && s.norm !== 'none') return `scalar ${si}: norm must be 'image' or 'none', got ${String(s.norm)}`;
    for (const [ti, t] of s.terms.entries()) {
      const p = (TERMS as Record<string, TermPrimitive | undefined>)[t?.kind];
      if (!p) return `scalar ${si} term ${ti}: unknown term kind '${t?.kind}' (known: ${Object.keys(TERMS).join(', ')})`;
      const why = p.problem(t) ?? ensemble.problem([t.weight]);
      if (why) return `scalar ${si} term ${ti}: ${why}`;
    }
  }
  for (const [c, o] of plan.outputs.entries()) {
    if (!(Number.isInteger(o?.scalar) && o.scalar >= 0 && o.scalar < plan.scalars.length)) return `output ${c}: scalar ${o?.scalar} does not exist`;
    const p = (MAPS as Record<string, MapPrimitive | undefined>)[o.map?.kind];
    if (!p) return `output ${c}: unknown channel map '${o.map?.kind}' (known: ${Object.keys(MAPS).join(', ')})`;
    const why = p.problem(o.map);
    if (why) return `output ${c}: ${why}`;
  }
  return undefined;
}
