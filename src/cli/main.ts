/**
 * `ctwindow` command-line entry. Each sub-command lives in its own module under
 * `src/cli/commands/` and exports `register(program)`.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import * as commands from './commands/index.js';

const require = createRequire(import.meta.url);
export const VERSION: string = require('../../package.json').version;

export function buildProgram(): Command {
  const program = new Command('ctwindow')
    .description('Streaming CT (DICOM) → windowed tensors → balanced msgpack shards')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const c of Object.values(commands)) c.register(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    console.error(`ctwindow: ${(e as Error).message}`);
    return 1;
  }
}
