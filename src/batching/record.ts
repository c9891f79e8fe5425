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

export function assembleRecord(slices: SliceOk[], ctx: RecordContext): BatchRecord {
  const per = slices[0]?.bytes.length ?? 0;
  const images = new Uint8Array(per * slices.length);
  slices.forEach((s, i) => {
    if (s.bytes.length !== per) throw new Error(`assembleRecord: slice ${s.ref.sop} has ${s.bytes.length} bytes, expected ${per}`);
    images.set(s.bytes, i * per);
  });
  return {
    images,
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
