/**
 * One module per sub-command; each exports register(program: Command). They are loaded on
 * demand: `ctwindow run` loads the pipeline, not the A/B trainer or the preview renderer
 * (loading every command cost ~0.4 s of each call's start-up).
 */
import type { Command } from 'commander';

type CommandModule = { register(program: Command): void };

export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  run: () => import('./run.js'),
  inspect: () => import('./inspect.js'),
  verify: () => import('./verify.js'),
  merge: () => import('./merge.js'),
  window: () => import('./window.js'),
  preview: () => import('./preview.js'),
  decode: () => import('./decode.js'),
  probe: () => import('./probe.js'),
  ab: () => import('./ab.js'),
};
