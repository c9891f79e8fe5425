// One module per sub-command; each exports register(program: Command).
export * as run from './run.js';
export * as inspect from './inspect.js';
export * as verify from './verify.js';
export * as merge from './merge.js';
export * as window from './window.js';
export * as preview from './preview.js';
export * as decode from './decode.js';
export * as probe from './probe.js';
export * as ab from './ab.js';
