/**
 * Windowing stage: HU [B,H,W] → [B,H,W,C] in [0,1], the seed's twelve strategies and custom
 * channel lists. Each primitive is defined once (primitives/) with a tfjs, a table and a WGSL
 * form; the executors (reference.ts, table.ts, gpu/) evaluate plans from those forms. See plan.ts for the plan semantics and docs/strategies.md.
 *
 * @example
 *   const plan = compileWindow({ strategy: 'sigmoid-gradient-ensemble' });
 *   const reason = windowProblem(plan, meta); // quarantine when defined
 *   const out = tf.tidy(() => applyWindow(plan, hu, [meta]));
 */
export { STRATEGIES, STRATEGY_PARAMS, windowSchema, windowSpecSchema } from './config.js';
export type { StrategyName, WindowConfig, WindowConfigInput } from './config.js';
export { compileWindow, windowProblem, WindowConfigError } from './compile.js';
export { applyWindow, setWindowExecutor } from './apply.js';
export type { WindowExecutor } from './apply.js';
export { applyWindowReference, checkWindowInputs } from './reference.js';
export { applyWindowTable, compileTable, tableFor, indexHu, type TableFn } from './table.js';
export { metadataWindow, windowBounds } from './plan.js';
export { sliceMeta } from './meta.js';
export type { WindowPlan, SliceWindowMeta, ScalarPlan, WindowTerm, RawTerm, ClipTerm, SigmoidTerm, ChannelMap, OutputChannel, WindowNorm } from './plan.js';
export { TERMS, MAPS, termPrimitive, mapPrimitive, planProblem, minMax, ensemble } from './primitives/index.js';
export type { TermPrimitive, MapPrimitive } from './primitives/index.js';
