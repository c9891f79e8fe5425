/**
 * Windowing stage: HU [B,H,W] → [B,H,W,C] in [0,1], the seed's twelve strategies and custom
 * channel lists, as tfjs ops. See plan.ts for the plan semantics and docs/strategies.md.
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
export { applyWindowLut } from './lut.js';
export { metadataWindow, windowBounds } from './plan.js';
export { sliceMeta } from './meta.js';
export type { WindowPlan, SliceWindowMeta, ScalarPlan, WindowTerm, RawTerm, ClipTerm, SigmoidTerm, ChannelMap, OutputChannel, WindowNorm } from './plan.js';
export { clipWindow } from './ops/clip_window.js';
export { sigmoidWindow } from './ops/sigmoid_window.js';
export { gradientComponent } from './ops/gradient.js';
export { spreadChannel } from './ops/spread.js';
export { weightedSum } from './ops/ensemble.js';
export { minMaxPerSlice } from './ops/minmax.js';
