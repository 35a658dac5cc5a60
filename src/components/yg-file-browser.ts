import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/iconbutton/icon-button.js';
import '@material/web/progress/linear-progress.js';
import type { FileEntry } from '../../protocol/types.js';
import { ClockController } from './clock-controller.js';
import { formatBytes } from './format.js';
import { icons } from './icons.js';
import { tableStyles } from './table-styles.js';
import { timeAgo } from './time.js';

export interface FilePathDetail {
  /** Relative to the sandbox root; "" is the root. */
  path: string;
}

const baseName = (path: string) => path.split('/').filter(Boolean).pop() ?? path;

/**
 * One directory of a task's sandbox. Out: `yg-file-navigate` to open a directory (or go up),
 * `yg-file-download` for a file. The page fetches; this only shows.
 */
@customElement('yg-file-browser')
export class YgFileBrowser extends LitElement {
  static override styles = [
    tableStyles,
    css`
      nav {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 2px;
        padding: 12px 16px;
        border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        font-size: 0.875rem;
      }
      nav ol {
        display: contents;
        list-style: none;
      }
      nav li {
        display: inline-flex;
        align-items: center;
      }
      nav li + li::before {
        content: '/';
        padding: 0 4px;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .crumb {
        all: unset;
        cursor: pointer;
        padding: 2px 4px;
        border-radius: 4px;
        color: var(--md-sys-color-primary, #36618e);
        font-weight: 500;
      }
      .crumb:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
      }
      .crumb[aria-current='location'] {
        color: var(--md-sys-color-on-surface, #191c20);
        cursor: default;
      }
      .entry {
        display: inline-flex;
        align-items: center;
        gap: 8px;
      }
      .entry svg {
        flex: none;
        width: 20px;
        height: 20px;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      button.link {
        all: unset;
        cursor: pointer;
        font-weight: 500;
        color: var(--md-sys-color-primary, #36618e);
        border-radius: 4px;
      }
      button.link:hover {
        text-decoration: underline;
      }
      button.link:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
        outline-offset: 2px;
      }
      td.actions {
        width: 1%;
        padding-block: 0;
      }
      .error {
        color: var(--md-sys-color-error, #ba1a1a);
      }
      @container (max-width: 639px) {
        td.actions {
          justify-content: flex-end;
        }
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) entries: readonly FileEntry[] = [];
  @property({ type: Boolean }) loading = false;
  /** Why the directory could not be read. */
  @property() error = '';
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this, 10_000);

  override render() {
    const parts = this.path.split('/').filter(Boolean);
    const dirs = [...this.entries].sort((a, b) => Number(b.isDir) - Number(a.isDir) || baseName(a.path).localeCompare(baseName(b.path)));
    return html`<div class="frame">
      <nav aria-label="Sandbox path">
        <ol>
          <li>${this.#crumb('sandbox', '', parts.length === 0)}</li>
          ${parts.map((part, i) => html`<li>${this.#crumb(part, parts.slice(0, i + 1).join('/'), i === parts.length - 1)}</li>`)}
        </ol>
      </nav>
      ${this.loading
        ? html`<div class="message" role="status"><md-linear-progress indeterminate aria-label="Loading files"></md-linear-progress></div>`
        : this.error
          ? html`<div class="message error" role="alert"><strong>This directory could not be read</strong> ${this.error}</div>`
          : html`<table aria-label=${`Files in ${this.path ? `/${this.path}` : 'the sandbox'}`}>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">Size</th>
                  <th scope="col">Mode</th>
                  <th scope="col" class="num">Modified</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${parts.length > 0
                  ? html`<tr class="row">
                      <td class="title" colspan="5">
                        <span class="entry">${icons.back}<button class="link" @click=${() => this.#navigate(parts.slice(0, -1).join('/'))}>Parent directory</button></span>
                      </td>
                    </tr>`
                  : nothing}
                ${dirs.length === 0
                  ? html`<tr><td colspan="5"><div class="message">This directory is empty.</div></td></tr>`
                  : dirs.map((entry) => this.#row(entry))}
              </tbody>
            </table>`}
    </div>`;
  }

  #crumb(label: string, path: string, current: boolean) {
    return html`<button class="crumb" aria-current=${current ? 'location' : 'false'} @click=${() => !current && this.#navigate(path)}>${label}</button>`;
  }

  #row(entry: FileEntry) {
    const name = baseName(entry.path);
    const now = this.now ?? this.#clock.now;
    return html`<tr class="row">
      <td class="title">
        <span class="entry">
          ${entry.isDir ? icons.folder : icons.file}
          ${entry.isDir ? html`<button class="link" @click=${() => this.#navigate(entry.path)}>${name}/</button>` : html`<span>${name}</span>`}
        </span>
      </td>
      <td data-label="Size" class="num">${entry.isDir ? html`<span class="muted">—</span>` : formatBytes(entry.size)}</td>
      <td data-label="Mode" class="mono muted">${entry.mode}</td>
      <td data-label="Modified" class="num">${timeAgo(entry.mtime, now)}</td>
      <td class="actions">
        ${entry.isDir
          ? nothing
          : html`<md-icon-button aria-label=${`Download ${name}`} @click=${() => this.#emit('yg-file-download', entry.path)}>${icons.download}</md-icon-button>`}
      </td>
    </tr>`;
  }

  #navigate(path: string) {
    this.#emit('yg-file-navigate', path);
  }

  #emit(type: 'yg-file-navigate' | 'yg-file-download', path: string) {
    this.dispatchEvent(new CustomEvent<FilePathDetail>(type, { detail: { path }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-file-browser': YgFileBrowser;
  }
  interface GlobalEventHandlersEventMap {
    'yg-file-navigate': CustomEvent<FilePathDetail>;
    'yg-file-download': CustomEvent<FilePathDetail>;
  }
}
