/**
 * windowProblem: the per-slice check before windowing, in a module of its own without tfjs or
 * zod (the fast path's worker threads load it).
 */
import type { ClipTerm, SliceWindowMeta, WindowPlan } from './plan.js';
import { metadataWindow } from './plan.js';

/**
 * Why a slice cannot be windowed with this plan (→ quarantine at stage 'window'), or undefined.
 * @example windowProblem(compileWindow({ strategy: 'metadata' }), { windowCenter: [], windowWidth: [], slope: 1, intercept: 0 })
 *   // 'metadata window: no WindowCenter/WindowWidth tags (0028,1050/1051) and no window.fallback configured'
 */
export function windowProblem(plan: WindowPlan, meta: SliceWindowMeta): string | undefined {
  if (!Number.isFinite(meta.slope) || meta.slope === 0) return `rescale slope ${meta.slope} is not usable (expected a finite non-zero number)`;
  if (!Number.isFinite(meta.intercept)) return `rescale intercept ${meta.intercept} is not finite`;
  if (!plan.needsMetadata) return undefined;
  for (const s of plan.scalars) {
    for (const t of s.terms) {
      if (t.kind === 'clip' && t.source === 'metadata') {
        const w = metadataWindow(t as ClipTerm, meta, plan.fallback);
        if (typeof w === 'string') return w;
      }
    }
  }
  return undefined;
}
