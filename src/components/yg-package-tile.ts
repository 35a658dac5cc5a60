import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { iconOf, packageHref } from '../data/catalog.js';
import type { PackageImages, PackageSummary } from '../data/catalog.js';

/** Tonal pairs that read well in both schemes; a package always gets the same one. */
const AVATAR_TONES = [
  ['--md-sys-color-primary-container', '--md-sys-color-on-primary-container'],
  ['--md-sys-color-secondary-container', '--md-sys-color-on-secondary-container'],
  ['--md-sys-color-tertiary-container', '--md-sys-color-on-tertiary-container'],
  ['--yg-tone-ok-container', '--yg-tone-ok-on-container'],
  ['--yg-tone-warn-container', '--yg-tone-warn-on-container'],
  ['--yg-tone-lost-container', '--yg-tone-lost-on-container'],
] as const;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** "hello-world" → "HW", "jenkins" → "JE". */
export function initialsOf(name: string): string {
  const words = name.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const letters = words.length > 1 ? words[0]!.charAt(0) + words[1]!.charAt(0) : (words[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/**
 * A package's icon: its image when that is a `data:` or same-origin URL, else (or when the
 * image fails) a generated avatar of its initials. Never loads from another origin.
 */
@customElement('yg-package-icon')
export class YgPackageIcon extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      flex: none;
      width: var(--yg-package-icon-size, 48px);
      height: var(--yg-package-icon-size, 48px);
    }
    img,
    .avatar {
      width: 100%;
      height: 100%;
      border-radius: 12px;
    }
    img {
      object-fit: contain;
    }
    .avatar {
      display: grid;
      place-items: center;
      font: 500 calc(var(--yg-package-icon-size, 48px) * 0.4) / 1 var(--yg-font, sans-serif);
      letter-spacing: 0.02em;
      user-select: none;
    }
  `;

  @property() name = '';
  @property({ attribute: false }) images?: PackageImages;
  @property() size: 'small' | 'medium' | 'large' = 'medium';
  @state() private failed = false;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('images')) this.failed = false;
  }

  override render() {
    const url = this.failed ? undefined : iconOf(this.images, this.size);
    // Decorative: the package's name is always next to it.
    if (url) return html`<img src=${url} alt="" decoding="async" @error=${() => (this.failed = true)} />`;
    const [bg, fg] = AVATAR_TONES[hash(this.name) % AVATAR_TONES.length]!;
    return html`<span class="avatar" aria-hidden="true" style=${`background: var(${bg}); color: var(${fg})`}>${initialsOf(this.name)}</span>`;
  }
}

/**
 * A package in the catalog: icon, name, version, description and tags. The name is the link
 * (its accessible name is just the package name); the whole tile is its click target. Slot
 * `actions` holds the page's controls for the package (they stay clickable over the link);
 * `compact` shows one line, for a strip.
 */
@customElement('yg-package-tile')
export class YgPackageTile extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    article {
      position: relative;
      box-sizing: border-box;
      height: 100%;
      display: grid;
      grid-template-columns: auto minmax(0, 1fr);
      grid-template-rows: auto 1fr auto;
      gap: 8px 16px;
      padding: 16px;
      border-radius: var(--yg-radius, 12px);
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      background: var(--yg-card-container, #f2f3fa);
      transition: background-color 120ms;
    }
    article:hover {
      background: var(--yg-table-row-hover, #e6e8ee);
    }
    article:focus-within {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: 2px;
    }
    yg-package-icon {
      grid-row: 1 / 3;
    }
    .head {
      min-width: 0;
    }
    h2 {
      margin: 0;
      font-size: 1rem;
      line-height: 1.5rem;
      font-weight: 500;
      overflow-wrap: anywhere;
    }
    a {
      color: inherit;
      text-decoration: none;
      outline: none;
    }
    /* The link covers the tile, so a click anywhere opens the package. */
    a::after {
      content: '';
      position: absolute;
      inset: 0;
      border-radius: inherit;
    }
    .meta {
      font-size: 0.75rem;
      line-height: 1rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .description {
      grid-column: 2;
      margin: 0;
      font-size: 0.875rem;
      line-height: 1.25rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      display: -webkit-box;
      -webkit-line-clamp: 3;
      -webkit-box-orient: vertical;
      overflow: hidden;
      overflow-wrap: anywhere;
    }
    ul {
      grid-column: 1 / -1;
      display: flex;
      flex-wrap: wrap;
      gap: 4px;
      margin: 0;
      padding: 0;
      list-style: none;
    }
    li {
      padding: 2px 8px;
      border-radius: 8px;
      font-size: 0.75rem;
      line-height: 1rem;
      background: var(--md-sys-color-surface-container-highest, #e0e2e8);
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    li.badge {
      background: var(--md-sys-color-tertiary-container, #ffdbd0);
      color: var(--md-sys-color-on-tertiary-container, #3b0900);
    }
    li.kind {
      background: var(--md-sys-color-secondary-container, #d7e3f7);
      color: var(--md-sys-color-on-secondary-container, #101c2b);
    }
    /* Controls of the page (a "Deploy to…" menu, a drag handle) sit above the tile's link. */
    .actions {
      position: relative;
      z-index: 1;
      grid-column: 1 / -1;
      display: flex;
      flex-wrap: wrap;
      justify-content: flex-end;
      align-items: center;
      gap: 4px;
    }
    .actions[hidden] {
      display: none;
    }
    :host([compact]) article {
      grid-template-columns: auto minmax(0, 1fr) auto;
      grid-template-rows: auto;
      align-items: center;
      gap: 0 12px;
      padding: 6px 4px 6px 12px;
    }
    :host([compact]) yg-package-icon {
      grid-row: auto;
      --yg-package-icon-size: 32px;
    }
    :host([compact]) h2 {
      font-size: 0.875rem;
      line-height: 1.25rem;
    }
    :host([compact]) .description,
    :host([compact]) ul {
      display: none;
    }
    :host([compact]) .actions {
      grid-column: 3;
      flex-wrap: nowrap;
      gap: 0;
    }
  `;

  @property({ attribute: false }) pkg?: PackageSummary;
  /** Where the tile leads; the package's page by default. */
  @property() href = '';
  /** One line: icon, name and version, and the actions (for a strip of tiles). */
  @property({ type: Boolean, reflect: true }) compact = false;
  /** Something is in slot `actions`. */
  @state() private hasActions = false;

  override render() {
    const pkg = this.pkg;
    if (!pkg) return nothing;
    return html`<article>
      <yg-package-icon .name=${pkg.name} .images=${pkg.images}></yg-package-icon>
      <div class="head">
        <h2><a href=${this.href || packageHref(pkg.name)}>${pkg.name}</a></h2>
        <div class="meta">${pkg.currentVersion}${pkg.repository ? ` · ${pkg.repository}` : ''}</div>
      </div>
      <p class="description">${pkg.description}</p>
      ${pkg.selected || pkg.kind === 'job' || pkg.tags.length
        ? html`<ul aria-label="Tags">
            ${pkg.selected ? html`<li class="badge">Selected</li>` : nothing}
            ${pkg.kind === 'job' ? html`<li class="kind">Job</li>` : nothing}
            ${pkg.tags.map((tag) => html`<li>${tag}</li>`)}
          </ul>`
        : nothing}
      <div class="actions" ?hidden=${!this.hasActions}>
        <slot name="actions" @slotchange=${(e: Event) => (this.hasActions = (e.target as HTMLSlotElement).assignedElements().length > 0)}></slot>
      </div>
    </article>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-package-tile': YgPackageTile;
    'yg-package-icon': YgPackageIcon;
  }
}
