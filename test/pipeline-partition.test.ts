/** `--partition i/N` and `--partitions N` with the array index of Kubernetes, Slurm or AWS Batch. */
import { describe, expect, it } from 'vitest';
import { resolvePartition } from '../src/cli/commands/run.js';
import { partitionOf } from '../src/source/index.js';

describe('cluster partitions', () => {
  it('reads i/N, or the job array index from the environment with --partitions', () => {
    expect(resolvePartition('2/8', undefined, {})).toEqual({ index: 2, count: 8 });
    expect(resolvePartition(undefined, '4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(resolvePartition(undefined, '4', { SLURM_ARRAY_TASK_ID: '1' })).toEqual({ index: 1, count: 4 });
    expect(resolvePartition(undefined, '4', { AWS_BATCH_JOB_ARRAY_INDEX: '0' })).toEqual({ index: 0, count: 4 });
    expect(resolvePartition(undefined, undefined, { SLURM_ARRAY_TASK_ID: '1' })).toBeUndefined();
  });

  it('explains what is wrong', () => {
    expect(() => resolvePartition('2-8', undefined, {})).toThrow(/expected i\/N/);
    expect(() => resolvePartition(undefined, 'x', { JOB_COMPLETION_INDEX: '0' })).toThrow(/--partitions: expected a positive integer/);
    expect(() => resolvePartition(undefined, '4', {})).toThrow(/JOB_COMPLETION_INDEX/);
  });

  it('assigns every exam to exactly one partition, spread over all of them', () => {
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 5000; i++) {
      const p = partitionOf(`1.2.826.0.1.${i}`, 5);
      expect(Number.isInteger(p) && p >= 0 && p < 5).toBe(true);
      expect(partitionOf(`1.2.826.0.1.${i}`, 5)).toBe(p);
      counts[p]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
});
