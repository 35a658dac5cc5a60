import { svg } from 'lit';
import type { SVGTemplateResult } from 'lit';

// Material Icons paths (Apache 2.0), inlined: the dashboard loads nothing from other origins.
function icon(path: string): SVGTemplateResult {
  return svg`<svg viewBox="0 0 24 24" width="24" height="24" fill="currentColor" aria-hidden="true" focusable="false"><path d=${path}></path></svg>`;
}

export const icons = {
  overview: icon('M3 13h8V3H3v10zm0 8h8v-6H3v6zm10 0h8V11h-8v10zm0-18v6h8V3h-8z'),
  nodes: icon(
    'M20 13H4c-.55 0-1 .45-1 1v6c0 .55.45 1 1 1h16c.55 0 1-.45 1-1v-6c0-.55-.45-1-1-1zM7 19c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2zM20 3H4c-.55 0-1 .45-1 1v6c0 .55.45 1 1 1h16c.55 0 1-.45 1-1V4c0-.55-.45-1-1-1zM7 9c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2z',
  ),
  tasks: icon('M3 13h2v-2H3v2zm0 4h2v-2H3v2zm0-8h2V7H3v2zm4 4h14v-2H7v2zm0 4h14v-2H7v2zM7 7v2h14V7H7z'),
  logout: icon(
    'M17 7l-1.41 1.41L18.17 11H8v2h10.17l-2.58 2.58L17 17l5-5zM4 5h8V3H4c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h8v-2H4V5z',
  ),
};

/** The Yagura tower from public/icons/icon.svg, inline so the app bar needs no request. */
export const brandMark = svg`<svg viewBox="0 0 512 512" width="32" height="32" aria-hidden="true" focusable="false">
  <rect x="16" y="16" width="480" height="480" rx="108" fill="#16324f"></rect>
  <g transform="translate(256 262) scale(0.92) translate(-256 -262)">
    <path d="M96 206 Q176 190 256 112 Q336 190 416 206 L392 226 L120 226 Z" fill="#e4572e"></path>
    <rect x="166" y="226" width="180" height="74" fill="#f6efe1"></rect>
    <rect x="218" y="246" width="76" height="34" rx="4" fill="#16324f"></rect>
    <rect x="140" y="300" width="232" height="20" rx="4" fill="#f6efe1"></rect>
    <g stroke="#f6efe1" stroke-linecap="round" fill="none">
      <path d="M186 320 L150 428 M326 320 L362 428" stroke-width="22"></path>
      <path d="M178 346 L350 414 M334 346 L162 414" stroke-width="13"></path>
    </g>
  </g>
</svg>`;
