import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/button/outlined-button.js';
import '@material/web/button/text-button.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/select/outlined-select.js';
import '@material/web/select/select-option.js';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { DeploymentView, ErrorDetail, JobView, ServiceView } from '../../protocol/types.js';
import { icons } from '../components/icons.js';
import { serviceStatusChip } from '../components/states.js';
import '../components/yg-confirm-dialog.js';
import '../components/yg-install-dialog.js';
import { notesText } from '../components/yg-install-dialog.js';
import type { InstallDetail } from '../components/yg-install-dialog.js';
import '../components/yg-package-tile.js';
import '../components/yg-state-chip.js';
import {
  describePackage,
  installPackage,
  jobHref,
  listInstalled,
  listPackageVersions,
  packageHref,
  renderPackage,
  safeImageUrl,
  uninstallPackage,
} from '../data/catalog.js';
import type { InstalledPackage, InstallResult, PackageDefinition, RenderResult, UninstallResult } from '../data/catalog.js';
import { serviceHref } from '../state/activity.js';
import { ApiError } from '../state/api.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { CommandController, errorText, unavailableNote } from './command-state.js';
import { navigateEvent, pathParam } from './routes.js';
import { viewStyles } from './view-styles.js';

interface Loaded<T> {
  key: string;
  value?: T;
  error?: string;
  status?: number;
  loading: boolean;
}

const idle = <T>(): Loaded<T> => ({ key: '', loading: false });
const NO_SERVICES: ReadonlyMap<string, ServiceView> = new Map();
const NO_JOBS: ReadonlyMap<string, JobView> = new Map();
const NO_DEPLOYMENTS: ReadonlyMap<string, DeploymentView> = new Map();

/**
 * One package (`/catalog/<name>`, `?version=` for another version): what it is, its versions,
 * where it is installed (with Uninstall), and Install, whose dialog is part of the address
 * (`?install=1`) so that Back closes it.
 */
@customElement('yg-package-view')
export class YgPackageView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      header yg-package-icon {
        --yg-package-icon-size: 64px;
      }
      .title {
        display: grid;
        gap: 4px;
        min-width: 0;
      }
      .title .muted {
        font-size: 0.875rem;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 2fr) minmax(16rem, 1fr);
        gap: 16px;
        align-items: start;
      }
      @media (max-width: 899px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      .main {
        display: grid;
        gap: 16px;
        min-width: 0;
      }
      .description {
        margin: 0;
        font-size: 1rem;
        line-height: 1.5rem;
        white-space: pre-line;
        overflow-wrap: anywhere;
      }
      .notes {
        margin: 0;
        font-size: 0.875rem;
        line-height: 1.25rem;
        white-space: pre-line;
        overflow-wrap: anywhere;
      }
      .version {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px;
      }
      .version md-outlined-select {
        min-width: 10rem;
      }
      .tags {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        margin: 0;
        padding: 0;
        list-style: none;
      }
      .tags li {
        padding: 2px 8px;
        border-radius: 8px;
        font-size: 0.75rem;
        background: var(--md-sys-color-surface-container-highest, #e0e2e8);
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .tags a {
        color: inherit;
        text-decoration: none;
      }
      .tags a:hover {
        text-decoration: underline;
      }
      ul.installed {
        margin: 0;
        padding: 0;
        list-style: none;
      }
      ul.installed li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px 12px;
        padding: 8px 0;
        border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
        font-size: 0.875rem;
      }
      ul.installed li:last-child {
        border-bottom: 0;
        padding-bottom: 0;
      }
      ul.installed li:first-child {
        padding-top: 0;
      }
      ul.installed .id {
        font-weight: 500;
        overflow-wrap: anywhere;
      }
      ul.installed .grow {
        flex: 1;
      }
      .screens {
        display: flex;
        gap: 8px;
        overflow-x: auto;
      }
      .screens img {
        max-height: 12rem;
        border-radius: 8px;
        border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      }
      .card h2 {
        font-size: 1rem;
        margin-bottom: 12px;
      }
      .install-actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) params = new URLSearchParams();

  @consume({ context: apiContext }) api?: Api;

  @state() private pkg: Loaded<PackageDefinition> = idle();
  @state() private versions: Loaded<Array<{ version: string; release: string }>> = idle();
  @state() private installed: Loaded<InstalledPackage[]> = idle();
  @state() private installBusy = false;
  @state() private installErrors: readonly ErrorDetail[] = [];
  @state() private installMessage = '';
  @state() private result: InstallResult | undefined;
  @state() private preview: Loaded<RenderResult> = idle();
  @state() private uninstalling: InstalledPackage | null = null;
  @state() private uninstalled: UninstallResult[] = [];

  readonly #services = new StoreController(this, clusterContext, (s) => s.services);
  readonly #jobs = new StoreController(this, clusterContext, (s) => s.jobs);
  readonly #deployments = new StoreController(this, clusterContext, (s) => s.deployments);
  readonly #command = new CommandController(this);
  /** Which apps and jobs exist: the installed list is read again when that changes. */
  readonly #idsKey = memoize((services: ReadonlyMap<string, ServiceView>, jobs: ReadonlyMap<string, JobView>) => `${[...services.keys()].join(',')}|${[...jobs.keys()].join(',')}`);
  readonly #deploymentsOf = memoize((deployments: ReadonlyMap<string, DeploymentView>, id: string) =>
    [...deployments.values()].filter((d) => d.affectedApps.includes(id) && d.status === 'running'),
  );
  #lastName = '';

  get #name(): string {
    return pathParam(this.path);
  }

  get #version(): string {
    return this.params.get('version') ?? '';
  }

  get #installOpen(): boolean {
    return this.params.has('install');
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const name = this.#name;
    if (!name) return;
    if (name !== this.#lastName) {
      this.#lastName = name;
      this.pkg = idle();
      this.versions = idle();
      this.installed = idle();
      this.uninstalled = [];
      this.#resetInstall();
    }
    if (changed.has('params') && !this.#installOpen && (this.result || this.installErrors.length || this.installMessage)) this.#resetInstall();
    if (!this.api) return;
    const api = this.api;
    const pkgKey = `${name}\n${this.#version}`;
    if (this.pkg.key !== pkgKey) this.#fetch('pkg', pkgKey, () => describePackage(api, name, this.#version || undefined));
    if (this.versions.key !== name) this.#fetch('versions', name, () => listPackageVersions(api, name));
    const installedKey = `${name}\n${this.#idsKey(this.#services.value ?? NO_SERVICES, this.#jobs.value ?? NO_JOBS)}`;
    if (this.installed.key !== installedKey) this.#fetch('installed', installedKey, () => listInstalled(api, { packageName: name }));
  }

  /** Loads into one of the `Loaded` fields; an answer for an older key is dropped, the last value stays meanwhile. */
  #fetch(field: 'pkg' | 'versions' | 'installed' | 'preview', key: string, load: () => Promise<unknown>) {
    const slots = this as unknown as Record<typeof field, Loaded<unknown>>;
    slots[field] = { key, loading: true, value: field === 'pkg' ? undefined : slots[field].value };
    load().then(
      (value) => {
        if (slots[field].key === key) slots[field] = { key, loading: false, value };
      },
      (error: unknown) => {
        if (slots[field].key === key) slots[field] = { key, loading: false, error: errorText(error), status: error instanceof ApiError ? error.status : undefined };
      },
    );
  }

  #resetInstall() {
    this.installBusy = false;
    this.installErrors = [];
    this.installMessage = '';
    this.result = undefined;
    this.preview = idle();
  }

  override render() {
    const name = this.#name;
    const crumbs = html`<nav class="crumbs" aria-label="Breadcrumb">
      <a href="/catalog">Catalog</a><span class="sep">/</span><span>${name}</span>
    </nav>`;
    const pkg = this.pkg.value;
    if (!pkg) {
      if (this.pkg.error) {
        const missing = this.pkg.status === 404;
        return html`${crumbs}
          <div class="state-page">
            <strong>${missing ? (this.#version ? `No version ${this.#version} of ${name}` : `No package ${name}`) : `${name} could not be read`}</strong>
            ${missing ? 'No repository offers it (any more). ' : html`${this.pkg.error} `}
            ${missing && this.#version ? html`<a href=${packageHref(name)}>The newest version</a> · ` : nothing}
            ${missing
              ? html`<a href="/catalog">All packages</a>`
              : html`<md-outlined-button @click=${() => (this.pkg = idle())}>Try again</md-outlined-button>`}
          </div>`;
      }
      return html`${crumbs}<div class="state-page" role="status">
          <md-linear-progress indeterminate aria-label=${`Loading ${name}`}></md-linear-progress>Loading ${name}…
        </div>`;
    }
    const images = pkg.resource?.images;
    const screenshots = (images?.screenshots ?? []).map((u) => safeImageUrl(u)).filter((u): u is string => !!u);
    return html`
      ${crumbs}
      <header>
        <yg-package-icon .name=${pkg.name} .images=${images} size="large"></yg-package-icon>
        <div class="title">
          <h1>${pkg.name}</h1>
          <span class="muted">${pkg.version}${pkg.kind === 'job' ? ' · job' : ''}${pkg.repository ? ` · from ${pkg.repository}` : ''}</span>
        </div>
        <span class="grow"></span>
        <div class="install-actions">
          <md-filled-button ?disabled=${!!this.#command.unavailable} @click=${this.#openInstall}>Install…<span slot="icon">${icons.add}</span></md-filled-button>
          ${unavailableNote(this.#command.unavailable)}
        </div>
      </header>
      ${this.uninstalled.map(
        (u) => html`<div class="notice" role="status">
          Uninstalled ${u.appId}.${u.postUninstallNotes ? html` ${notesText(u.postUninstallNotes)}` : nothing}
        </div>`,
      )}
      ${this.#command.error && !this.uninstalling ? html`<p class="alert" role="alert">${this.#command.error}</p>` : nothing}
      <div class="layout">
        <div class="main">
          <section class="card" aria-labelledby="about-title">
            <h2 id="about-title">About</h2>
            <p class="description">${pkg.description}</p>
          </section>
          ${pkg.preInstallNotes
            ? html`<section class="card" aria-labelledby="pre-title">
                <h2 id="pre-title">Before installing</h2>
                <p class="notes">${notesText(pkg.preInstallNotes)}</p>
              </section>`
            : nothing}
          ${this.#installedSection()}
          ${screenshots.length
            ? html`<section class="card" aria-labelledby="shots-title">
                <h2 id="shots-title">Screenshots</h2>
                <div class="screens">${screenshots.map((src, i) => html`<img src=${src} alt=${`Screenshot ${i + 1} of ${pkg.name}`} />`)}</div>
              </section>`
            : nothing}
        </div>
        ${this.#details(pkg)}
      </div>
      ${this.#dialogs(pkg)}
    `;
  }

  #details(pkg: PackageDefinition) {
    const versions = this.versions.value ?? [];
    const known = versions.some((v) => v.version === pkg.version);
    const list = known ? versions : [{ version: pkg.version, release: String(pkg.releaseVersion) }, ...versions];
    return html`<section class="card" aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <dl class="fields">
        <dt>Version</dt>
        <dd class="version">
          ${list.length > 1
            ? html`<md-outlined-select aria-label="Version" .value=${pkg.version} @change=${this.#onVersion}>
                ${list.map(
                  (v) => html`<md-select-option value=${v.version} ?selected=${v.version === pkg.version}><div slot="headline">${v.version}</div></md-select-option>`,
                )}
              </md-outlined-select>`
            : html`<span>${pkg.version}</span>`}
          ${this.versions.error ? html`<span class="muted">(other versions could not be listed)</span>` : nothing}
        </dd>
        <dt>Kind</dt>
        <dd>${pkg.kind === 'job' ? 'Job (Metronome)' : 'Service (Marathon)'}</dd>
        ${pkg.maintainer ? html`<dt>Maintainer</dt><dd>${maintainer(pkg.maintainer)}</dd>` : nothing}
        ${pkg.licenses?.length
          ? html`<dt>${pkg.licenses.length === 1 ? 'License' : 'Licenses'}</dt>
              <dd>
                ${pkg.licenses.map(
                  (l, i) => html`${i ? ', ' : ''}${l.url ? html`<a href=${l.url} target="_blank" rel="noopener noreferrer">${l.name}</a>` : l.name}`,
                )}
              </dd>`
          : nothing}
        ${pkg.website ? html`<dt>Website</dt><dd><a href=${pkg.website} target="_blank" rel="noopener noreferrer">${pkg.website}</a></dd>` : nothing}
        ${pkg.repository ? html`<dt>Repository</dt><dd>${pkg.repository}</dd>` : nothing}
        ${pkg.tags.length
          ? html`<dt>Tags</dt>
              <dd>
                <ul class="tags">
                  ${pkg.tags.map((t) => html`<li><a href=${`/catalog?tags=${encodeURIComponent(t.toLowerCase())}`}>${t}</a></li>`)}
                </ul>
              </dd>`
          : nothing}
      </dl>
    </section>`;
  }

  #installedSection() {
    const list = this.installed.value;
    const services = this.#services.value ?? NO_SERVICES;
    const jobs = this.#jobs.value ?? NO_JOBS;
    return html`<section class="card" aria-labelledby="installed-title">
      <h2 id="installed-title">Installed${list ? ` (${list.length})` : ''}</h2>
      ${this.installed.error
        ? html`<p class="alert" role="alert">The installed instances could not be listed: ${this.installed.error}</p>`
        : !list
          ? html`<md-linear-progress indeterminate aria-label="Loading the installed instances"></md-linear-progress>`
          : list.length === 0
            ? html`<p class="muted notes">Not installed on this cluster yet.</p>`
            : html`<ul class="installed">
                ${list.map((item) => {
                  const version = item.packageInformation.packageDefinition.version;
                  const service = item.kind === 'service' ? services.get(item.appId) : undefined;
                  const job = item.kind === 'job' ? jobs.get(item.appId) : undefined;
                  const chip = service ? serviceStatusChip(service.status) : undefined;
                  return html`<li>
                    <a class="id" href=${item.kind === 'job' ? jobHref(item.appId) : serviceHref(item.appId)}>${item.appId}</a>
                    <span class="muted">${version}</span>
                    ${chip ? html`<yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>` : nothing}
                    ${service ? html`<span class="muted">${service.tasksRunning} of ${service.instances} running</span>` : nothing}
                    ${job ? html`<span class="muted">${job.status}</span>` : nothing}
                    <span class="grow"></span>
                    <md-text-button aria-label=${`Uninstall ${item.appId}`} ?disabled=${!!this.#command.unavailable} @click=${() => this.#askUninstall(item)}>
                      Uninstall<span slot="icon">${icons.delete}</span>
                    </md-text-button>
                  </li>`;
                })}
              </ul>`}
    </section>`;
  }

  #dialogs(pkg: PackageDefinition) {
    const result = this.result;
    const appId = result?.appId ?? '';
    const u = this.uninstalling;
    return html`<yg-install-dialog
        .open=${this.#installOpen}
        .pkg=${pkg}
        ?busy=${this.installBusy}
        ?unavailable=${!!this.#command.unavailable}
        .errors=${this.installErrors}
        .message=${this.installMessage}
        .preview=${this.preview.value as RenderResult | undefined}
        .previewError=${this.preview.error ?? ''}
        ?previewBusy=${this.preview.loading}
        .result=${result}
        .service=${result?.kind === 'service' ? (this.#services.value ?? NO_SERVICES).get(appId) : undefined}
        .deployments=${result?.kind === 'service' ? this.#deploymentsOf(this.#deployments.value ?? NO_DEPLOYMENTS, appId) : []}
        .job=${result?.kind === 'job' ? (this.#jobs.value ?? NO_JOBS).get(appId) : undefined}
        @yg-install=${this.#install}
        @yg-preview=${this.#preview}
        @yg-dialog-close=${this.#closeInstall}
        >${unavailableNote(this.#command.unavailable, 'unavailable')}</yg-install-dialog
      >
      <yg-confirm-dialog
        .open=${u !== null}
        heading=${u ? `Uninstall ${u.appId}?` : ''}
        confirmLabel="Uninstall"
        destructive
        ?busy=${this.#command.busy}
        .error=${this.#command.error}
        @yg-confirm=${this.#uninstall}
        @yg-dialog-close=${() => {
          this.uninstalling = null;
          this.#command.clear();
        }}
        >${u
          ? html`<p>
              ${u.kind === 'job'
                ? `The job ${u.appId} and its schedules are removed; a run in progress is stopped.`
                : `The service ${u.appId} is removed: its instances stop and their sandboxes go. This cannot be undone.`}
            </p>`
          : nothing}</yg-confirm-dialog
      >`;
  }

  #withParams(change: (p: URLSearchParams) => void): string {
    const params = new URLSearchParams(this.params);
    change(params);
    const search = params.toString();
    return `/catalog/${encodeURIComponent(this.#name)}${search ? `?${search}` : ''}`;
  }

  #openInstall = () => {
    this.#resetInstall();
    this.dispatchEvent(navigateEvent(this.#withParams((p) => p.set('install', '1'))));
  };

  #closeInstall = () => {
    if (!this.#installOpen) return;
    // Back to the page as it was; what the dialog did shows in the installed list.
    this.dispatchEvent(navigateEvent(this.#withParams((p) => p.delete('install')), { replace: true }));
    this.#resetInstall();
  };

  #onVersion(event: Event) {
    const version = (event.target as MdOutlinedSelect).value;
    const newest = this.versions.value?.[0]?.version;
    if (!version || version === (this.pkg.value?.version ?? '')) return;
    this.dispatchEvent(navigateEvent(this.#withParams((p) => (version === newest ? p.delete('version') : p.set('version', version)))));
  }

  async #install(event: CustomEvent<InstallDetail>) {
    const api = this.api;
    const pkg = this.pkg.value;
    if (!api || !pkg || this.installBusy) return;
    if (this.#command.unavailable) {
      this.installMessage = this.#command.unavailable;
      return;
    }
    this.installBusy = true;
    this.installErrors = [];
    this.installMessage = '';
    try {
      const options = event.detail.options;
      this.result = await installPackage(api, { packageName: pkg.name, packageVersion: pkg.version, ...(Object.keys(options).length ? { options } : {}) });
      // The new app or job shows up in the store; the installed list follows its key.
      this.installed = { ...this.installed, key: '' };
    } catch (error) {
      if (error instanceof ApiError && error.body) {
        this.installErrors = error.body.details ?? [];
        this.installMessage = error.body.message;
      } else {
        this.installMessage = errorText(error);
      }
    } finally {
      this.installBusy = false;
    }
  }

  #preview(event: CustomEvent<InstallDetail>) {
    const api = this.api;
    const pkg = this.pkg.value;
    if (!api || !pkg) return;
    const options = event.detail.options;
    this.#fetch('preview', JSON.stringify(options), () => renderPackage(api, { packageName: pkg.name, packageVersion: pkg.version, options }));
  }

  #askUninstall(item: InstalledPackage) {
    this.#command.clear();
    this.uninstalling = item;
  }

  #uninstall = async () => {
    const api = this.api;
    const item = this.uninstalling;
    if (!api || !item) return;
    let results: UninstallResult[] = [];
    const ok = await this.#command.run(async () => {
      results = await uninstallPackage(api, { packageName: this.#name, appId: item.appId });
    });
    if (ok) {
      this.uninstalling = null;
      this.uninstalled = results.length ? results : [{ packageName: this.#name, packageVersion: '', appId: item.appId, kind: item.kind }];
      this.installed = { ...this.installed, key: '' };
    }
  };
}

/** "Jane <jane@example.com>" or an address: a mail link, which opens nothing by itself. */
function maintainer(text: string) {
  const mail = /^(?:(.*)<)?\s*([^\s<>@]+@[^\s<>@]+)\s*>?$/.exec(text.trim());
  if (!mail) return text;
  const [, who, address] = mail;
  return html`${who?.trim() ? `${who.trim()} ` : ''}<a href=${`mailto:${address}`}>${address}</a>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-package-view': YgPackageView;
  }
}
