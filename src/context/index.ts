/**
 * Slice context (2.5D input): neighbouring slices as channels, in anatomical order, with
 * bounded memory. `pipelineContext(config)` gives the run everything it needs: the
 * per-neighbour window plan, the channel layout, the source transform, the processor and the
 * per-record metadata.
 *
 * @example
 *   const ctx = pipelineContext(config, log);   // undefined without `context:`
 *   for await (const item of ctx.wrap(readSource(opts))) …
 *   const opts = { plan: ctx.plan, size, dtype, padding };
 *   const processor = ctx.processor(opts, new InProcessProcessor(opts));
 */
import type { PipelineConfig } from '../config/schema.js';
import type { SourceItem } from '../source/index.js';
import type { BatchProcessor, ProcessorOptions, SliceOk } from '../batching/index.js';
import { compileWindow, type WindowPlan } from '../windowing/index.js';
import { contextChannels, type ContextConfig } from './config.js';
import { ContextProcessor, contextRecordExtra } from './processor.js';
import { ContextStats, withContext } from './source.js';

export { contextSchema, contextChannels, offsetLabel, parseOffsets, type ContextConfig, type ContextConfigInput } from './config.js';
export { orderSeries, neighbourIndex, type SliceGeometry, type OrderedSeries, type OrderedSlice, type OrderMethod, type NeighbourRule } from './order.js';
export { readSliceGeometry, readGeometries, listSeriesFolder, type GeometryResult } from './headers.js';
export { ContextStats, withContext, contextForSeries, neighboursOf, orderFiles, type ContextRule } from './source.js';
export { ContextProcessor, contextRecordExtra, type ContextProcessorOptions, type ContextSliceOk } from './processor.js';

export interface PipelineContext {
  config: ContextConfig;
  /** The window applied to each neighbour (single-channel results not repeated). */
  plan: WindowPlan;
  /** Offset-major channel names, e.g. `pe@-1, pe@0, pe@+1`. */
  channels: string[];
  stats: ContextStats;
  wrap(items: AsyncIterable<SourceItem>): AsyncIterable<SourceItem>;
  /** Wraps the run's single-slice processor (built with `plan`) into the context processor. */
  processor(opts: ProcessorOptions, inner: BatchProcessor): BatchProcessor;
  recordExtra(slices: SliceOk[]): Record<string, unknown>;
  /** For the manifest: the layout and the counts (series, gaps, edge-filled, missing…). */
  summary(): Record<string, unknown>;
}

/** The run's slice context, or undefined when the config has no `context:`. */
export function pipelineContext(config: Pick<PipelineConfig, 'window' | 'context' | 'batch'>, log?: (line: string) => void): PipelineContext | undefined {
  const cfg = config.context;
  if (!cfg) return undefined;
  const plan = compileWindow({ ...config.window, repeat: false });
  const channels = contextChannels(plan.channels, cfg);
  const stats = new ContextStats();
  return {
    config: cfg,
    plan,
    channels,
    stats,
    wrap: (items) => withContext(items, cfg, stats, log),
    processor: (opts, inner) => new ContextProcessor({ ...opts, plan }, inner, { offsets: cfg.offsets, edge: cfg.edge, capacity: cfg.cache, chunk: config.batch.size }, stats),
    recordExtra: (slices) => contextRecordExtra(slices, cfg.offsets),
    summary: () => ({ offsets: cfg.offsets, unit: cfg.unit, edge: cfg.edge, gap: cfg.gap, neighbours: cfg.neighbours, windowChannels: plan.channels, channels, ...stats.toJSON() }),
  };
}
export { windowSeriesWithContext, type WindowSeriesOptions, type WindowOne } from './window-series.js';
