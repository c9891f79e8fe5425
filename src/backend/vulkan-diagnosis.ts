/**
 * Why WebGPU found no adapter, in words a user can act on. Dawn only answers "no adapter";
 * on Linux the usual causes are a missing Vulkan loader, no driver manifest (ICD), or
 * VK_ICD_FILENAMES / VK_DRIVER_FILES pointing at files that do not exist.
 *
 * @example
 *   diagnoseVulkan()  // 'VK_ICD_FILENAMES=/nonexistent names no existing ICD manifest'
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const LOADER_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib'];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d'];

/** ICD manifest files a Vulkan loader would consider, and where they were looked for. */
export function icdManifests(env: NodeJS.ProcessEnv = process.env): { files: string[]; source: string; missing: string[] } {
  for (const name of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'] as const) {
    const v = env[name];
    if (v) {
      const listed = v.split(':').filter(Boolean);
      return { files: listed.filter((f) => existsSync(f)), source: `${name}=${v}`, missing: listed.filter((f) => !existsSync(f)) };
    }
  }
  const files: string[] = [];
  for (const d of ICD_DIRS) {
    try {
      for (const f of readdirSync(d)) if (f.endsWith('.json')) files.push(join(d, f));
    } catch {
      /* directory absent */
    }
  }
  return { files, source: ICD_DIRS.join(', '), missing: [] };
}

function hasLoader(env: NodeJS.ProcessEnv): boolean {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LOADER_DIRS];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/** One line naming what is missing for a Vulkan adapter (Linux), or a generic reason elsewhere. */
export function diagnoseVulkan(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'no Metal device (WebGPU on macOS needs a Metal-capable GPU)';
  if (platform === 'win32') return 'no D3D12 or Vulkan device';
  if (!hasLoader(env)) return 'no Vulkan loader: libvulkan.so.1 is not installed (Debian/Ubuntu: apt-get install libvulkan1)';
  const icd = icdManifests(env);
  if (icd.files.length === 0) {
    return icd.missing.length > 0
      ? `no Vulkan driver: ${icd.source} names no existing ICD manifest (missing: ${icd.missing.join(', ')})`
      : `no Vulkan driver: no ICD manifest in ${icd.source}`;
  }
  return `the Vulkan driver(s) ${icd.files.map((f) => f.split('/').pop()).join(', ')} offered no usable adapter (for lavapipe, Mesa >= 24 is needed)`;
}
