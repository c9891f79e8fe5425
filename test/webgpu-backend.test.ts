/**
 * Backend selection around WebGPU: what a missing adapter is reported as (in-process on a
 * described environment, and end to end through the CLI with VK_ICD_FILENAMES pointing nowhere),
 * and `auto`'s one-line fallback. The CLI cases run without any GPU.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnoseVulkan, icdManifests } from '../src/backend/vulkan-diagnosis.js';
import { isSoftwareAdapter } from '../src/backend/webgpu.js';
import { phantomSlice } from '../src/fixtures/phantom.js';
import { writeCtSlice } from '../src/fixtures/write-dicom.js';
import { ctwindow } from './helpers/shared.js';

const NO_VULKAN = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

describe('webgpu: no-adapter diagnosis', () => {
  it('names a VK_ICD_FILENAMES / VK_DRIVER_FILES that points at nothing', () => {
    const why = diagnoseVulkan({ VK_ICD_FILENAMES: '/nowhere/a.json' }, 'linux');
    // the loader is present on every machine that runs these tests with WebGPU; where it is not,
    // the message names the loader instead, which is also what is missing
    expect(why).toMatch(/VK_ICD_FILENAMES=\/nowhere\/a\.json names no existing ICD manifest|no Vulkan loader: libvulkan\.so\.1/);
    expect(icdManifests({ VK_DRIVER_FILES: '/nowhere/b.json:/nowhere/c.json' })).toMatchObject({ files: [], missing: ['/nowhere/b.json', '/nowhere/c.json'] });
  });

  it('lists the manifests named in the environment that exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctw-icd-'));
    const f = join(dir, 'fake_icd.json');
    writeFileSync(f, '{"file_format_version":"1.0.0","ICD":{"library_path":"/nowhere/libfake.so","api_version":"1.3.0"}}');
    expect(icdManifests({ VK_ICD_FILENAMES: `${f}:/nowhere/x.json` })).toMatchObject({ files: [f], missing: ['/nowhere/x.json'] });
    rmSync(dir, { recursive: true, force: true });
  });

  it('says Metal on macOS', () => {
    expect(diagnoseVulkan({}, 'darwin')).toMatch(/Metal/);
  });

  it('tells software adapters from hardware ones', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA H100 80GB HBM3' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'amd', description: 'AMD Radeon Pro W7900' }, true)).toBe(true);
  });
});

describe('webgpu: CLI without a Vulkan driver (VK_ICD_FILENAMES pointing nowhere)', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctw-nogpu-'));
    file = join(dir, 'slice.dcm');
    const hu = phantomSlice({ rows: 32, cols: 32, z: 0.5, positive: false, seed: 3 });
    writeFileSync(file, writeCtSlice({ hu, rows: 32, cols: 32, study: '1.2.3', series: '1.2.3.4', sop: '1.2.3.4.5', instance: 1, z: 0 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--backend webgpu exits non-zero naming the missing driver and how to get it, writing nothing', () => {
    const out = join(dir, 'webgpu');
    const r = ctwindow(['window', file, '--strategy', 'lung', '--backend', 'webgpu', '--out', out], { env: NO_VULKAN, timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/backend|webgpu/);
    expect(r.stderr).toMatch(/no GPU adapter \((no Vulkan driver: VK_(ICD_FILENAMES|DRIVER_FILES)=\/nonexistent\/icd\.json|no Vulkan loader)/);
    expect(r.stderr).toMatch(/install-vulkan\.sh/);
    expect(r.stderr).toMatch(/docs\/gpu\.md/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('--backend auto falls back to cpu, says so in one line, and windows the file', () => {
    const out = join(dir, 'auto');
    const r = ctwindow(['window', file, '--strategy', 'lung', '--backend', 'auto', '--out', out], { env: NO_VULKAN, timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => /auto fell back to cpu/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no GPU adapter/);
    expect(readdirSync(out)).toEqual(['slice.npy']);
  });
});
