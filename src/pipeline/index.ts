export { runPipeline, RunError, type RunOptions, type RunSummary, type Progress } from './run.js';
