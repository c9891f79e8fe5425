/**
 * `ctwindow` command-line entry. Each sub-command lives in its own module under
 * `src/cli/commands/` and exports `register(program)`.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { COMMANDS } from './commands/index.js';

const require = createRequire(import.meta.url);
export const VERSION: string = require('../../package.json').version;

/** The sub-command `argv` names (the first argument that is not an option), if it is one. */
function commandIn(argv: string[]): string | undefined {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}

/**
 * The program with every sub-command, or with `only` alone (a call that names its command
 * loads just that module; help, version and unknown commands load them all).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('ctwindow')
    .description('Streaming CT (DICOM) → windowed tensors → balanced msgpack shards')
    .version(VERSION)
    .option('--verbose', 'also show what native libraries print (e.g. Dawn\'s WebGPU adapter warnings)')
    .showHelpAfterError()
    .exitOverride();
  program.hook('preAction', (cmd) => {
    if (cmd.opts().verbose) process.env.CTWINDOW_VERBOSE = '1';
  });
  const names = only ? [only] : Object.keys(COMMANDS);
  for (const m of await Promise.all(names.map((n) => COMMANDS[n]()))) m.register(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(commandIn(argv));
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    console.error(`ctwindow: ${(e as Error).message}`);
    return 1;
  }
}
