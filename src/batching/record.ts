/** Assembles the slices of one batch into the record written to a shard. */
import type { BatchRecord, OutputDType, Split } from '../types.js';
import type { SliceOk } from './processor.js';

export interface RecordContext {
  size: [number, number];
  channels: string[];
  dtype: OutputDType;
  strategy: string;
  split: Split;
  index: number;
}

/** The record references the slices' buffers (no copy); the writer frames them as they are. */
export function assembleRecord(slices: SliceOk[], ctx: RecordContext): BatchRecord {
  const per = slices[0]?.bytes.length ?? 0;
  for (const s of slices) {
    if (s.bytes.length !== per) throw new Error(`assembleRecord: slice ${s.ref.sop} has ${s.bytes.length} bytes, expected ${per}`);
  }
  return {
    images: slices.map((s) => s.bytes),
    shape: [slices.length, ctx.size[0], ctx.size[1], ctx.channels.length],
    dtype: ctx.dtype,
    labels: slices.map((s) => s.ref.label),
    study: slices.map((s) => s.ref.study),
    series: slices.map((s) => s.ref.series),
    sop: slices.map((s) => s.ref.sop),
    strategy: ctx.strategy,
    channels: ctx.channels,
    split: ctx.split,
    index: ctx.index,
  };
}
