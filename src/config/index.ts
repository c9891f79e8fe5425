export { pipelineSchema, type PipelineConfig } from './schema.js';
export { loadConfig, validateConfig, applyOverride, canonicalJson, type LoadedConfig } from './load.js';
export { ConfigError, describeIssue } from './errors.js';
