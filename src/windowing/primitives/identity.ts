/**
 * Identity channel map: out = g.
 * @example { name: 'lung', scalar: 0, map: { kind: 'identity' } }
 */
import type { MapPrimitive, MapOf } from './types.js';

export const identity: MapPrimitive<MapOf<'identity'>> = {
  kind: 'identity',
  problem: () => undefined,
  tfjs: (_tf, _m, g) => g,
  table: () => (g) => g,
  wgsl: (_m, g) => g,
};
