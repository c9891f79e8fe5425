export { pipelineSchema, type PipelineConfig } from './schema.js';
export { loadConfig, validateConfig, applyOverride, canonicalJson, changedKeys, outputAffecting, BYTE_NEUTRAL_KEYS, type LoadedConfig } from './load.js';
export { ConfigError, describeIssue } from './errors.js';
