import type { Command } from 'commander';

// Placeholder: replaced by the real command module.
export function register(program: Command): void {
  program.command('verify').description('(not implemented yet)').action(() => {
    throw new Error('ctwindow verify: not implemented yet');
  });
}
