/**
 * Output file names for commands that write one file per input (`decode`, `window`): the
 * input's base name, unless two inputs share it (LIDC/TCIA series all have a `000001.dcm`):
 * then each of those is named by its path below the inputs' common folder, `/` → `__`, so
 * no input's output overwrites another's.
 *
 * @example
 *   outputStems(['a/1.dcm', 'b/1.dcm', 'b/2.dcm']) // ['a__1', 'b__1', '2']
 */
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';

const stemOf = (f: string) => basename(f, extname(f)) || basename(f);

export function outputStems(files: string[]): string[] {
  const stems = files.map(stemOf);
  const seen = new Map<string, number>();
  for (const s of stems) seen.set(s, (seen.get(s) ?? 0) + 1);
  if ([...seen.values()].every((n) => n === 1)) return stems;
  const abs = files.map((f) => resolve(f));
  let common = dirname(abs[0]);
  while (!abs.every((f) => f.startsWith(common + sep)) && dirname(common) !== common) common = dirname(common);
  const out = stems.map((s, i) => {
    if (seen.get(s) === 1) return s;
    const rel = relative(common, abs[i]);
    return rel.slice(0, rel.length - extname(rel).length).split(sep).join('__');
  });
  // The same file given twice still names one output: say so rather than write it twice.
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`two inputs would write ${dup}.npy: ${files.filter((_, i) => out[i] === dup).join(', ')} (the same file given twice?)`);
  return out;
}
