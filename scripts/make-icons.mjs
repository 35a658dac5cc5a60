#!/usr/bin/env node
// Draws the Yagura mark (a watchtower, 櫓) as SVG and renders the PNG icons the manifest needs
// with the same headless Chromium the tests use, so the icons need no image library.
// Run: node scripts/make-icons.mjs   (writes public/icons/*; the PNGs are committed)
import { mkdir, writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROME_FLAGS, chromePath } from '../test/support/chrome.mjs';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

const NIGHT = '#16324f';
const PAPER = '#f6efe1';
const VERMILION = '#e4572e';

/**
 * The tower drawn on a 512 grid. `scale` shrinks it about the centre: maskable icons must keep
 * the mark inside the central circle of radius 40 % that every launcher mask preserves.
 */
function mark(scale) {
  const t = `translate(256 262) scale(${scale}) translate(-256 -262)`;
  return `
  <g transform="${t}">
    <path d="M96 206 Q176 190 256 112 Q336 190 416 206 L392 226 L120 226 Z" fill="${VERMILION}"/>
    <rect x="166" y="226" width="180" height="74" fill="${PAPER}"/>
    <rect x="218" y="246" width="76" height="34" rx="4" fill="${NIGHT}"/>
    <rect x="140" y="300" width="232" height="20" rx="4" fill="${PAPER}"/>
    <g stroke="${PAPER}" stroke-linecap="round" fill="none">
      <path d="M186 320 L150 428 M326 320 L362 428" stroke-width="22"/>
      <path d="M178 346 L350 414 M334 346 L162 414" stroke-width="13"/>
    </g>
  </g>`;
}

/** Rounded tile with transparency around it: for browsers and desktop installs. */
function anyIcon() {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect x="16" y="16" width="480" height="480" rx="108" fill="${NIGHT}"/>${mark(0.92)}
</svg>`;
}

/** Full-bleed square: the launcher cuts its own shape out of it. */
function maskableIcon() {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" fill="${NIGHT}"/>${mark(0.68)}
</svg>`;
}

const outputs = [
  { file: 'icon-192.png', size: 192, svg: anyIcon() },
  { file: 'icon-512.png', size: 512, svg: anyIcon() },
  { file: 'maskable-192.png', size: 192, svg: maskableIcon() },
  { file: 'maskable-512.png', size: 512, svg: maskableIcon() },
  // iOS ignores transparency and rounds corners itself, so it gets the full-bleed variant.
  { file: 'apple-touch-icon.png', size: 180, svg: maskableIcon() },
];

await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'icon.svg'), anyIcon() + '\n');

const profile = await mkdtemp(join(tmpdir(), 'yagura-icons-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromePath(),
  headless: true,
  args: CHROME_FLAGS,
});
try {
  const page = await context.newPage();
  for (const { file, size, svg } of outputs) {
    await page.setViewportSize({ width: size, height: size });
    const sized = svg.replace('<svg ', `<svg width="${size}" height="${size}" `);
    await page.setContent(
      `<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`,
    );
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    await writeFile(join(outDir, file), png);
    console.log(`wrote public/icons/${file} (${size}x${size}, ${png.length} bytes)`);
  }
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
