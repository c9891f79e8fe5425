import type { Command } from 'commander';

// Placeholder: replaced by the real command module.
export function register(program: Command): void {
  program.command('probe').description('(not implemented yet)').action(() => {
    throw new Error('ctwindow probe: not implemented yet');
  });
}
