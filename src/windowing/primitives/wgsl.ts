/**
 * WGSL literals for the primitives' WGSL forms.
 * @example f32(3) // '3.0'
 */
export function f32(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`fused window: non-finite constant ${n} in the plan`);
  const s = String(n);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
