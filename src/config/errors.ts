/** Formats schema issues as `<file>: <dotted.path>: expected …, got …`. */
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(public readonly file: string, public readonly problems: string[]) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s && s.length > 60 ? s.slice(0, 57) + '...' : String(s);
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(top level)';
}

/** One readable line per zod issue. */
export function describeIssue(issue: z.core.$ZodIssue & { input?: unknown }): string {
  const where = pathOf(issue.path);
  switch (issue.code) {
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(issue.input)}`;
    case 'invalid_type':
      return `${where}: expected ${issue.expected}, got ${issue.input === undefined ? 'nothing (required)' : `${typeof issue.input === 'object' ? (Array.isArray(issue.input) ? 'array' : 'object') : typeof issue.input} ${show(issue.input)}`}`;
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${where === '(top level)' ? k : `${where}.${k}`}: unknown key (not in the schema)`).join('\n');
    case 'too_small':
    case 'too_big':
      return `${where}: ${issue.message.replace(/^Too (small|big): /, '')}, got ${show(issue.input)}`;
    default:
      return `${where}: ${issue.message}${issue.input !== undefined ? `, got ${show(issue.input)}` : ''}`;
  }
}
