/**
 * Stable 32-bit FNV-1a hash of a string, mapped to [0, 1). Used for exam-level splits and
 * cluster partitions: a pure function of (salt, UID), so it needs no memory and gives the
 * same answer on every machine, in every partition, in Node and in Python.
 *
 * @example
 *   unitHash('split:42', '1.2.3') < 0.2 // → this exam is in validation
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function unitHash(salt: string, key: string): number {
  return fnv1a32(`${salt}\u0000${key}`) / 0x100000000;
}

/** 'val' when the study's hash falls under the validation fraction. */
export function splitOf(study: string, seed: number, valFraction: number): 'train' | 'val' {
  return unitHash(`split:${seed}`, study) < valFraction ? 'val' : 'train';
}

/** Cluster partition (0-based) of a study among `count` partitions. Independent of the seed. */
export function partitionOf(study: string, count: number): number {
  return fnv1a32(`partition\u0000${study}`) % count;
}
