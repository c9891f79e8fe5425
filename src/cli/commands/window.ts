import type { Command } from 'commander';

// Placeholder: replaced by the real command module.
export function register(program: Command): void {
  program.command('window').description('(not implemented yet)').action(() => {
    throw new Error('ctwindow window: not implemented yet');
  });
}
