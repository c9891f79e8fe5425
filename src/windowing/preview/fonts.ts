/**
 * Registers DejaVu Sans with @napi-rs/canvas once (Debian's fonts-dejavu paths), so titles
 * render the same on every machine that has it; otherwise canvas falls back to a system font.
 *
 * @example const family = ensureFont(); ctx.font = `12px ${family}`;
 */
import { GlobalFonts } from '@napi-rs/canvas';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/local/share/fonts/DejaVuSans.ttf'];
let family: string | undefined;

export function ensureFont(): string {
  if (family) return family;
  const path = CANDIDATES.find((p) => existsSync(p));
  family = path && GlobalFonts.registerFromPath(path, 'DejaVu Sans') ? '"DejaVu Sans"' : 'sans-serif';
  return family;
}
