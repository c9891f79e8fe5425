/**
 * Load a pipeline YAML: parse, apply `--set dotted.key=value` overrides (values parsed as
 * YAML, so `--set resize=[512,512]` works), validate, resolve paths.
 *
 * @example
 *   const { config, hash } = await loadConfig('pipelines/demo.yaml', ['batch.size=16']);
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isS3Url } from '../storage/s3.js';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { pipelineSchema, type PipelineConfig } from './schema.js';
import { ConfigError, describeIssue } from './errors.js';

export interface LoadedConfig {
  /** Validated config; source.csv, source.dicomRoot and output.dir are absolute paths. */
  config: PipelineConfig;
  /** sha256 (hex) of `outputKeys` in canonical JSON. */
  hash: string;
  /** The config as it determines the output's bytes (outputAffecting). */
  outputKeys: Record<string, unknown>;
  /** The YAML file, as given. */
  file: string;
}

/** The config's paths (resolved relative to the YAML file, or to the current directory when given with --set). */
const PATH_KEYS = [['source', 'csv'], ['source', 'dicomRoot'], ['output', 'dir']] as const;

/** Apply one `dotted.key=value` override to a plain object (in place). */
export function applyOverride(target: Record<string, unknown>, spec: string, file = '--set'): void {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new ConfigError(file, [`--set ${spec}: expected dotted.key=value`]);
  const keys = spec.slice(0, eq).trim().split('.');
  let value: unknown;
  try {
    value = parseYaml(spec.slice(eq + 1));
  } catch (e) {
    throw new ConfigError(file, [`--set ${spec}: value is not valid YAML (${(e as Error).message.split('\n')[0]})`]);
  }
  let node: Record<string, unknown> = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (next === undefined || next === null) node[k] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigError(file, [`--set ${spec}: ${k} is not a mapping`]);
    }
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** Canonical JSON: keys sorted, so equal configs hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Keys that change no byte of the output: where it goes, how it is written, how many threads,
 * when a run counts as failed. Two configs that differ only in these produce the same shards.
 */
export const BYTE_NEUTRAL_KEYS = ['output.dir', 'output.io', 'workers', 'quarantine.maxFraction'] as const;

/**
 * The config as it determines the output's bytes: the byte-neutral keys removed, and paths taken
 * relative to the YAML's folder (so a moved checkout is the same config). Hashed into
 * `configHash`; kept in the output folder so that `--resume` can name what changed.
 */
export function outputAffecting(config: PipelineConfig, base: string): Record<string, unknown> {
  const out = structuredClone(config) as Record<string, any>;
  const rel = (p: string) => (isS3Url(p) ? p : relative(base, p));
  out.source.csv = rel(config.source.csv);
  out.source.dicomRoot = rel(config.source.dicomRoot);
  for (const k of BYTE_NEUTRAL_KEYS) {
    const path = k.split('.');
    let node = out;
    for (const p of path.slice(0, -1)) node = node?.[p];
    if (node) delete node[path[path.length - 1]];
  }
  return out;
}

/** Dotted keys whose values differ between two configs (as outputAffecting gives them). */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(the whole config)'];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((k) => changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

/** Validate a raw (already parsed) config object. `base` resolves relative paths. */
export function validateConfig(raw: unknown, file: string, base: string): LoadedConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, ['expected a YAML mapping at the top level']);
  }
  const r = pipelineSchema.safeParse(raw, { reportInput: true });
  if (!r.success) throw new ConfigError(file, r.error.issues.map((i) => describeIssue(i)));
  const config = r.data;
  const abs = (p: string) => (isAbsolute(p) || isS3Url(p) ? p : resolve(base, p));
  config.source.csv = abs(config.source.csv);
  config.source.dicomRoot = abs(config.source.dicomRoot);
  config.output.dir = abs(config.output.dir);
  const outputKeys = outputAffecting(config, base);
  const hash = createHash('sha256').update(canonicalJson(outputKeys)).digest('hex');
  return { config, hash, outputKeys, file };
}

/**
 * Read, override and validate a pipeline YAML. Overrides' paths resolve like the file's.
 * Throws ConfigError whose message names the file and field.
 */
export async function loadConfig(file: string, overrides: string[] = []): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot read the pipeline file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? `${e.message.split('\n')[0]}` : (e as Error).message;
    throw new ConfigError(file, [`not valid YAML: ${msg}`]);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(file, ['expected a YAML mapping at the top level']);
  for (const o of overrides) applyOverride(raw as Record<string, unknown>, o, file);
  // A path given with --set is the user's, typed where they stand: relative to the current
  // directory (the YAML's own paths are relative to the YAML).
  for (const o of overrides) {
    const key = o.slice(0, o.indexOf('=')).trim();
    const [group, name] = key.split('.');
    if (!PATH_KEYS.some(([g, n]) => g === group && n === name)) continue;
    const node = (raw as Record<string, Record<string, unknown>>)[group];
    if (typeof node?.[name] === 'string' && !isAbsolute(node[name] as string) && !isS3Url(node[name] as string)) node[name] = resolve(node[name] as string);
  }
  return validateConfig(raw, file, dirname(resolve(file)));
}
