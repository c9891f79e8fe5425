export { runPipeline, RunError, RunAborted, RUN_RECORD, type RunOptions, type RunSummary, type Progress } from './run.js';
export { groupQuarantine, reasonKind, type QuarantineGroup } from './quarantine.js';
