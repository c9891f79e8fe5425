/**
 * Bytes per element of each output dtype: one table for the encoder (quantize.ts), the fast
 * path (fast/window-lut.ts) and the shard format (shards/format.ts). A module of its own so that
 * none of them pulls in another's dependencies (quantize.ts loads tfjs).
 *
 * @example
 *   const bytes = h * w * C * BYTES_PER['float16'];
 */
import type { OutputDType } from '../types.js';

export const BYTES_PER: Record<OutputDType, number> = { uint8: 1, float16: 2, float32: 4 };
