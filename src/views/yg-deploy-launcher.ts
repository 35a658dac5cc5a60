import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/iconbutton/icon-button.js';
import type { AgentView, DeploymentView, ErrorDetail, ServiceView } from '../../protocol/types.js';
import { icons } from '../components/icons.js';
import '../components/yg-catalog-tray.js';
import type { DeployDragDetail } from '../components/yg-catalog-tray.js';
import type { DeployMenuOpenDetail, DeploySelectDetail } from '../components/yg-deploy-menu.js';
import '../components/yg-install-dialog.js';
import type { InstallDetail } from '../components/yg-install-dialog.js';
import { catalogCache, describePackage, searchPackages } from '../data/catalog.js';
import type { InstallResult, JsonSchema, PackageDefinition, PackageSummary, RenderResult } from '../data/catalog.js';
import { installPlaced, renderPlaced } from '../data/deploy.js';
import { serviceHref } from '../state/activity.js';
import { ApiError } from '../state/api.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import {
  beginDrag,
  constraintsFor,
  deployOptions,
  deployRequirements,
  dragSession,
  freeAppName,
  judgeTarget,
  refreshDrag,
  requirementsKey,
  requirementsOf,
  targetText,
} from '../state/drag.js';
import type { DeployTarget, Requirements, Verdict } from '../state/drag.js';
import { memoize } from '../state/memo.js';
import { browserStorage } from '../state/settings.js';
import { StoreController } from '../state/store-controller.js';
import { commandsUnavailable, errorText, unavailableNote } from './command-state.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_SERVICES: ReadonlyMap<string, ServiceView> = new Map();
const NO_DEPLOYMENTS: ReadonlyMap<string, DeploymentView> = new Map();
const TRAY_KEY = 'yagura.catalogTray';

interface Placement {
  summary: PackageSummary;
  /** The package as the dialog shows it: a free app name as the default, the placement in its notes. */
  pkg: PackageDefinition;
  target: DeployTarget;
  constraints: string[][];
}

/**
 * A package with its placement, ready for the install dialog: the default `service.name` is
 * made free (a second hello-world dropped on node-1 becomes hello-world-node-1), and the
 * notes before installing say where it will run.
 */
export function placedPackage(def: PackageDefinition, target: DeployTarget, taken: ReadonlySet<string>): PackageDefinition {
  const config = def.config ? (structuredClone(def.config) as JsonSchema) : undefined;
  const name = config?.properties?.service?.properties?.name;
  if (name && typeof name.default === 'string') name.default = freeAppName(name.default, taken, target);
  const constraint = constraintsFor(target)[0];
  const placement = constraint ? `Placement: runs only ${targetText(target)} (constraint ${constraint.join(':')}).` : '';
  const notes = [placement, def.preInstallNotes ?? ''].filter(Boolean).join('\n\n');
  return { ...def, ...(config ? { config } : {}), ...(notes ? { preInstallNotes: notes } : {}) };
}

/**
 * Deploys catalog packages where the operator drops or points them. Put one in a page that has
 * drop targets (`dropTarget()` elements, the nodes map's regions) or "Deploy to…" menus:
 * it listens on the page's root for the menus' and the tray's events, shows the catalog tray
 * (`tray`), judges every target (state, and room for the package's default resources, which
 * it learns from a render), refuses an impossible drop with the reason, opens the install
 * dialog pre-filled for a possible one, installs with the placement's constraint, and shows
 * the progress to healthy.
 */
@customElement('yg-deploy-launcher')
export class YgDeployLauncher extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    yg-catalog-tray {
      margin-bottom: 16px;
    }
    .notice {
      display: flex;
      align-items: center;
      gap: 8px;
      margin: 0 0 16px;
      padding: 4px 4px 4px 16px;
      min-height: 40px;
      border-radius: 12px;
      font-size: 0.875rem;
      line-height: 1.25rem;
      background: var(--md-sys-color-secondary-container, #d7e3f7);
      color: var(--md-sys-color-on-secondary-container, #101c2b);
    }
    .notice.blocked {
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
    }
    .notice span {
      flex: 1;
      overflow-wrap: anywhere;
    }
    .notice a {
      color: inherit;
      font-weight: 500;
    }
    .notice md-icon-button {
      --md-icon-button-icon-color: currentColor;
      flex: none;
    }
    .notice svg {
      width: 20px;
      height: 20px;
    }
  `;

  /** Show the catalog tray (the drag sources) on this page. */
  @property({ type: Boolean }) tray = false;
  /** Where drops go on this page, for the tray's hint: "onto the list or a node". */
  @property() hint = '';

  @consume({ context: apiContext }) api?: Api;

  @state() private packages: readonly PackageSummary[] | undefined;
  @state() private packagesLoading = false;
  @state() private packagesError = '';
  @state() private collapsed = readCollapsed();
  @state() private checking: ReadonlySet<string> = new Set();
  @state() private placement: Placement | null = null;
  @state() private open = false;
  @state() private installBusy = false;
  @state() private installErrors: readonly ErrorDetail[] = [];
  @state() private installMessage = '';
  @state() private result: InstallResult | undefined;
  @state() private preview: { key: string; value?: RenderResult; error?: string; loading: boolean } = { key: '', loading: false };
  @state() private notice: { kind: 'blocked' | 'done' | 'info'; text: string; appId?: string } | null = null;

  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #services = new StoreController(this, clusterContext, (s) => s.services);
  readonly #deployments = new StoreController(this, clusterContext, (s) => s.deployments);
  readonly #requirements = new StoreController(this, deployRequirements);
  readonly #unavailable = new StoreController(this, commandsUnavailable);
  readonly #servicePackages = memoize((packages: readonly PackageSummary[] | undefined) => (packages ?? []).filter((p) => p.kind === 'service'));
  readonly #deploymentsOf = memoize((deployments: ReadonlyMap<string, DeploymentView>, id: string) =>
    [...deployments.values()].filter((d) => d.affectedApps.includes(id) && d.status === 'running'),
  );
  readonly #loads = new Map<string, Promise<Requirements | undefined>>();
  readonly #definitions = new Map<string, Promise<PackageDefinition>>();
  #root: Node | undefined;
  #generation = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    const root = this.getRootNode();
    this.#root = root;
    root.addEventListener('yg-deploy-select', this.#onSelect as EventListener);
    root.addEventListener('yg-deploy-menu-open', this.#onMenuOpen as EventListener);
    root.addEventListener('yg-deploy-drag', this.#onDrag as EventListener);
  }

  protected override willUpdate(): void {
    if (this.tray && this.api && !this.packages && !this.packagesLoading && !this.packagesError) this.#loadPackages();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    const root = this.#root;
    root?.removeEventListener('yg-deploy-select', this.#onSelect as EventListener);
    root?.removeEventListener('yg-deploy-menu-open', this.#onMenuOpen as EventListener);
    root?.removeEventListener('yg-deploy-drag', this.#onDrag as EventListener);
    this.#root = undefined;
  }

  protected override updated(): void {
    // Agents changed state or requirements arrived while a drag runs: targets are judged again.
    if (dragSession.value) refreshDrag();
  }

  /** The verdict for `pkg` at `target`, with what is known now. */
  judge(pkg: PackageSummary, target: DeployTarget): Verdict {
    return judgeTarget(target, (this.#agents.value ?? NO_AGENTS).values(), pkg.name, this.#requirements.value?.get(requirementsKey(pkg)));
  }

  override render() {
    const agents = this.#agents.value ?? NO_AGENTS;
    const reqs = this.#requirements.value;
    return html`
      ${this.tray
        ? html`<yg-catalog-tray
            .packages=${this.#servicePackages(this.packages)}
            ?loading=${this.packagesLoading}
            .error=${this.packagesError}
            .optionsFor=${(p: PackageSummary) => deployOptions(agents.values(), p.name, reqs?.get(requirementsKey(p)))}
            .checking=${this.checking}
            ?collapsed=${this.collapsed}
            hint=${this.hint || 'onto this page'}
            @yg-tray-toggle=${(e: CustomEvent<{ collapsed: boolean }>) => this.#setCollapsed(e.detail.collapsed)}
            @yg-tray-retry=${() => this.#loadPackages()}
          ></yg-catalog-tray>`
        : nothing}
      ${this.#notice()}
      ${this.placement ? this.#dialog(this.placement) : nothing}
    `;
  }

  #notice() {
    const n = this.notice;
    if (!n) return nothing;
    return html`<div class=${`notice ${n.kind}`} role=${n.kind === 'blocked' ? 'alert' : 'status'}>
      <span
        >${n.text}${n.appId ? html` <a href=${serviceHref(n.appId)}>Open ${n.appId}</a>` : nothing}</span
      >
      <md-icon-button aria-label="Dismiss" @click=${() => (this.notice = null)}>${icons.close}</md-icon-button>
    </div>`;
  }

  #dialog(p: Placement) {
    const result = this.result;
    const appId = result?.appId ?? '';
    const unavailable = this.#unavailable.value ?? '';
    return html`<yg-install-dialog
      .open=${this.open}
      .pkg=${p.pkg}
      ?busy=${this.installBusy}
      ?unavailable=${!!unavailable}
      .errors=${this.installErrors}
      .message=${this.installMessage}
      .preview=${this.preview.value}
      .previewError=${this.preview.error ?? ''}
      ?previewBusy=${this.preview.loading}
      .result=${result}
      .service=${result?.kind === 'service' ? (this.#services.value ?? NO_SERVICES).get(appId) : undefined}
      .deployments=${result?.kind === 'service' ? this.#deploymentsOf(this.#deployments.value ?? NO_DEPLOYMENTS, appId) : []}
      @yg-install=${this.#install}
      @yg-preview=${this.#preview}
      @yg-dialog-close=${this.#close}
      >${unavailableNote(unavailable, 'unavailable')}</yg-install-dialog
    >`;
  }

  // --- the catalog --------------------------------------------------------------------------

  #loadPackages() {
    const api = this.api;
    if (!api) return;
    const cached = catalogCache.get('');
    if (cached) this.packages = cached.packages;
    this.packagesLoading = true;
    this.packagesError = '';
    searchPackages(api, '').then(
      (packages) => {
        this.packages = packages;
        this.packagesLoading = false;
      },
      (error: unknown) => {
        this.packagesError = errorText(error);
        this.packagesLoading = false;
      },
    );
  }

  #setCollapsed(collapsed: boolean) {
    this.collapsed = collapsed;
    try {
      if (collapsed) browserStorage()?.setItem(TRAY_KEY, 'collapsed');
      else browserStorage()?.removeItem(TRAY_KEY);
    } catch {
      // kept for this visit only
    }
  }

  // --- what a package needs -----------------------------------------------------------------

  /** Renders the package with its defaults once, for its per-instance resources. */
  #need(pkg: PackageSummary): Promise<Requirements | undefined> {
    const key = requirementsKey(pkg);
    const known = deployRequirements.value.get(key);
    if (known) return Promise.resolve(known);
    const api = this.api;
    if (!api || pkg.kind !== 'service') return Promise.resolve(undefined);
    let load = this.#loads.get(key);
    if (!load) {
      this.checking = new Set([...this.checking, pkg.name]);
      load = renderPlaced(api, { packageName: pkg.name, packageVersion: pkg.currentVersion })
        .then((r) => {
          const req = requirementsOf(r.marathonJson);
          if (req) deployRequirements.set(new Map([...deployRequirements.value, [key, req]]));
          return req;
        })
        .catch(() => {
          // Judged on the nodes' states alone; the master still refuses what does not fit.
          this.#loads.delete(key);
          return undefined;
        })
        .finally(() => {
          const next = new Set(this.checking);
          next.delete(pkg.name);
          this.checking = next;
        });
      this.#loads.set(key, load);
    }
    return load;
  }

  #definition(pkg: PackageSummary): Promise<PackageDefinition> {
    const key = requirementsKey(pkg);
    let d = this.#definitions.get(key);
    if (!d) {
      d = describePackage(this.api!, pkg.name, pkg.currentVersion);
      d.catch(() => this.#definitions.delete(key));
      this.#definitions.set(key, d);
    }
    return d;
  }

  // --- requests: a drop, a menu choice ------------------------------------------------------

  #onMenuOpen = (event: CustomEvent<DeployMenuOpenDetail>) => {
    void this.#need(event.detail.pkg);
  };

  #onSelect = (event: CustomEvent<DeploySelectDetail>) => {
    void this.request(event.detail.pkg, event.detail.target);
  };

  #onDrag = (event: CustomEvent<DeployDragDetail>) => {
    const { pkg, x, y } = event.detail;
    if (pkg.kind !== 'service') return;
    void this.#need(pkg);
    this.notice = null;
    beginDrag(pkg, x, y, {
      judge: (target) => this.judge(pkg, target),
      onDrop: (target) => void this.request(pkg, target),
    });
  };

  /**
   * Deploy `pkg` at `target`: refused with the reason when the target cannot take it (judged
   * again once the package's resources are known), else the install dialog opens pre-filled.
   */
  async request(pkg: PackageSummary, target: DeployTarget): Promise<void> {
    const api = this.api;
    if (!api) return;
    const generation = ++this.#generation;
    if (pkg.kind !== 'service') {
      this.notice = { kind: 'blocked', text: `${pkg.name} is a job package: only services can be placed.` };
      return;
    }
    this.notice = { kind: 'info', text: `Preparing ${pkg.name} ${targetText(target)}…` };
    await this.#need(pkg);
    if (generation !== this.#generation) return;
    const verdict = this.judge(pkg, target);
    if (!verdict.ok) {
      this.notice = { kind: 'blocked', text: `${pkg.name} cannot be deployed ${targetText(target)}: ${verdict.text}.` };
      return;
    }
    let def: PackageDefinition;
    try {
      def = await this.#definition(pkg);
    } catch (error) {
      if (generation === this.#generation) this.notice = { kind: 'blocked', text: `${pkg.name} could not be read: ${errorText(error)}` };
      return;
    }
    if (generation !== this.#generation) return;
    this.notice = null;
    const taken = new Set((this.#services.value ?? NO_SERVICES).keys());
    this.#resetInstall();
    this.placement = { summary: pkg, pkg: placedPackage(def, target, taken), target, constraints: constraintsFor(target) };
    this.open = true;
  }

  #resetInstall() {
    this.installBusy = false;
    this.installErrors = [];
    this.installMessage = '';
    this.result = undefined;
    this.preview = { key: '', loading: false };
  }

  #install = async (event: CustomEvent<InstallDetail>) => {
    const api = this.api;
    const p = this.placement;
    if (!api || !p || this.installBusy) return;
    this.installBusy = true;
    this.installErrors = [];
    this.installMessage = '';
    try {
      const options = event.detail.options;
      this.result = await installPlaced(api, {
        packageName: p.pkg.name,
        packageVersion: p.pkg.version,
        ...(Object.keys(options).length ? { options } : {}),
        constraints: p.constraints,
      });
      this.notice = { kind: 'done', text: `Deploying ${this.result.appId} ${targetText(p.target)}.`, appId: this.result.appId };
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
  };

  #preview = (event: CustomEvent<InstallDetail>) => {
    const api = this.api;
    const p = this.placement;
    if (!api || !p) return;
    const options = event.detail.options;
    const key = JSON.stringify(options);
    this.preview = { key, loading: true, value: this.preview.value };
    renderPlaced(api, { packageName: p.pkg.name, packageVersion: p.pkg.version, options, constraints: p.constraints }).then(
      (value) => {
        if (this.preview.key === key) this.preview = { key, value, loading: false };
      },
      (error: unknown) => {
        if (this.preview.key === key) this.preview = { key, error: errorText(error), loading: false };
      },
    );
  };

  #close = () => {
    this.open = false;
    this.placement = null;
    this.#resetInstall();
  };
}

function readCollapsed(): boolean {
  try {
    return browserStorage()?.getItem(TRAY_KEY) === 'collapsed';
  } catch {
    return false;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-deploy-launcher': YgDeployLauncher;
  }
}
