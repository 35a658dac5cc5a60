import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/tabs/primary-tab.js';
import '@material/web/tabs/tabs.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { JobView } from '../../protocol/types.js';
import { icons } from '../components/icons.js';
import { JOB_OUTCOMES, JOB_STATES, jobHref, jobOutcome, jobState, runHref } from '../components/job-format.js';
import type { JobOutcome, JobState } from '../components/job-format.js';
import '../components/yg-filter-chips.js';
import type { FilterChangeDetail } from '../components/yg-filter-chips.js';
import '../components/yg-job-graph.js';
import type { JobOpenDetail } from '../components/yg-job-graph.js';
import '../components/yg-job-table.js';
import type { JobRunRequestDetail } from '../components/yg-job-table.js';
import { runJobNow } from '../data/jobs.js';
import type { Api } from '../state/api.js';
import { apiContext, clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { countBy } from './cluster-selectors.js';
import { commandsUnavailable, errorText, unavailableNote } from './command-state.js';
import { navigateEvent } from './routes.js';
import { viewStyles } from './view-styles.js';

const NO_JOBS: ReadonlyMap<string, JobView> = new Map();
const VIEWS = ['list', 'graph'] as const;
type ListView = (typeof VIEWS)[number];

const parseList = <T extends string>(raw: string, allowed: readonly T[]): T[] => raw.split(',').filter((s): s is T => (allowed as readonly string[]).includes(s));

/**
 * Jobs as a table (filtered by what they do, how their last run ended and a search:
 * `?status=Running&outcome=Failed&q=backup`) or as their dependency graph (`?view=graph`).
 */
@customElement('yg-jobs-view')
export class YgJobsView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .filters {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px 16px;
        margin-bottom: 16px;
      }
      .filters md-outlined-text-field {
        flex: 0 1 20rem;
        min-width: 12rem;
      }
      .filters yg-filter-chips {
        flex: 0 1 auto;
      }
      svg {
        width: 20px;
        height: 20px;
      }
      .started {
        margin: 0 0 16px;
        padding: 12px 16px;
        border-radius: 12px;
        background: var(--md-sys-color-secondary-container, #d7e3f7);
        color: var(--md-sys-color-on-secondary-container, #101c2b);
        font-size: 0.875rem;
      }
      .started a {
        color: inherit;
        font-weight: 500;
      }
      @media (max-width: 599px) {
        .filters md-outlined-text-field {
          flex: 1 1 100%;
        }
      }
    `,
  ];

  @property() path = '';
  @property({ attribute: false }) params = new URLSearchParams();

  @consume({ context: apiContext }) api?: Api;

  /** Jobs whose "Run now" is in flight. */
  @state() private starting: ReadonlySet<string> = new Set();
  /** The outcome of the last "Run now" from this page. */
  @state() private started: { jobId: string; runId?: string; error?: string } | null = null;

  readonly #jobs = new StoreController(this, clusterContext, (s) => s.jobs);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #unavailable = new StoreController(this, commandsUnavailable);
  readonly #sorted = memoize((jobs: ReadonlyMap<string, JobView>) => [...jobs.values()].sort((a, b) => a.id.localeCompare(b.id)));
  readonly #stateCounts = memoize((jobs: readonly JobView[]) => countBy(jobs, jobState));
  readonly #outcomeCounts = memoize((jobs: readonly JobView[]) => countBy(jobs, jobOutcome));
  readonly #states = memoize((raw: string) => parseList<JobState>(raw, JOB_STATES));
  readonly #outcomes = memoize((raw: string) => parseList<JobOutcome>(raw, JOB_OUTCOMES));
  readonly #filter = memoize((jobs: readonly JobView[], states: readonly JobState[], outcomes: readonly JobOutcome[], q: string) => {
    const query = q.trim().toLowerCase();
    if (states.length === 0 && outcomes.length === 0 && !query) return jobs;
    return jobs.filter(
      (j) =>
        (states.length === 0 || states.includes(jobState(j))) &&
        (outcomes.length === 0 || outcomes.includes(jobOutcome(j))) &&
        (!query || j.id.toLowerCase().includes(query) || (j.description ?? '').toLowerCase().includes(query)),
    );
  });

  get #view(): ListView {
    return this.params.get('view') === 'graph' ? 'graph' : 'list';
  }

  override render() {
    const all = this.#sorted(this.#jobs.value ?? NO_JOBS);
    const loaded = this.#loaded.value ?? false;
    const view = this.#view;
    const states = this.#states(this.params.get('status') ?? '');
    const outcomes = this.#outcomes(this.params.get('outcome') ?? '');
    const q = this.params.get('q') ?? '';
    const shown = this.#filter(all, states, outcomes, q);
    const filtered = shown !== all;
    return html`
      <header>
        <h1>Jobs</h1>
        ${loaded
          ? html`<span class="count" role="status"
              >${filtered && view === 'list' ? `${shown.length} of ${all.length}` : all.length} ${all.length === 1 ? 'job' : 'jobs'}</span
            >`
          : nothing}
        ${unavailableNote(this.#unavailable.value ?? '')}
      </header>
      ${this.#startedNotice()}
      <div class="tabbar">
        <md-tabs aria-label="Show jobs as" .activeTabIndex=${VIEWS.indexOf(view)} @change=${this.#onTab}>
          <md-primary-tab id="tab-list" aria-controls="panel">List</md-primary-tab>
          <md-primary-tab id="tab-graph" aria-controls="panel">Dependency graph</md-primary-tab>
        </md-tabs>
      </div>
      <div id="panel" role="tabpanel" aria-labelledby=${`tab-${view}`}>
        ${view === 'list' ? this.#list(all, shown, states, outcomes, q, loaded) : this.#graph(all, loaded)}
      </div>
    `;
  }

  #list(all: readonly JobView[], shown: readonly JobView[], states: readonly JobState[], outcomes: readonly JobOutcome[], q: string, loaded: boolean) {
    const filtered = shown !== all;
    const stateCounts = this.#stateCounts(all);
    const outcomeCounts = this.#outcomeCounts(all);
    return html`<div class="filters" role="search" aria-label="Filter jobs">
        <md-outlined-text-field type="search" label="Search jobs" .value=${q} @input=${this.#onSearch}>
          <span slot="leading-icon">${icons.search}</span>
        </md-outlined-text-field>
        <yg-filter-chips
          label="Status"
          .options=${JOB_STATES.map((s) => ({ value: s, label: s, count: stateCounts.get(s) ?? 0 }))}
          .selected=${states}
          @yg-filter-change=${(e: CustomEvent<FilterChangeDetail>) => this.#go({ status: e.detail.selected.join(',') })}
        ></yg-filter-chips>
        <yg-filter-chips
          label="Last run"
          .options=${JOB_OUTCOMES.map((o) => ({ value: o, label: o, count: outcomeCounts.get(o) ?? 0 }))}
          .selected=${outcomes}
          @yg-filter-change=${(e: CustomEvent<FilterChangeDetail>) => this.#go({ outcome: e.detail.selected.join(',') })}
        ></yg-filter-chips>
      </div>
      <yg-job-table
        .jobs=${shown}
        ?loading=${!loaded}
        .starting=${this.starting}
        ?unavailable=${!!this.#unavailable.value}
        emptyTitle=${filtered ? 'No jobs match' : 'No jobs yet'}
        emptyText=${filtered ? 'Change or clear the filters to see more. ' : 'Add one with yagura job add FILE, or POST it to /v1/jobs. '}
        @yg-job-run=${this.#onRun}
      >
        ${filtered ? html`<a slot="empty" href="/jobs">Clear filters</a>` : nothing}
      </yg-job-table>`;
  }

  #graph(all: readonly JobView[], loaded: boolean) {
    if (!loaded) {
      return html`<div class="state-page" role="status"><md-linear-progress indeterminate aria-label="Loading jobs"></md-linear-progress>Waiting for the master…</div>`;
    }
    return html`<yg-job-graph .jobs=${all} label="Job dependencies" @yg-job-open=${this.#onOpen}></yg-job-graph>`;
  }

  #startedNotice() {
    const s = this.started;
    if (!s) return nothing;
    if (s.error) return html`<p class="alert" role="alert">${s.jobId} could not be started: ${s.error}</p>`;
    return html`<p class="started" role="status">
      Started a run of ${s.jobId}.${s.runId ? html` <a href=${runHref(s.jobId, s.runId)}>Follow run ${s.runId}</a>` : nothing}
    </p>`;
  }

  async #onRun(event: CustomEvent<JobRunRequestDetail>) {
    const id = event.detail.id;
    const api = this.api;
    if (!api || this.starting.has(id)) return;
    if (commandsUnavailable.value) {
      this.started = { jobId: id, error: commandsUnavailable.value };
      return;
    }
    this.starting = new Set([...this.starting, id]);
    try {
      const run = await runJobNow(api, id);
      this.started = { jobId: id, runId: run.id };
    } catch (error) {
      this.started = { jobId: id, error: errorText(error) };
    } finally {
      const next = new Set(this.starting);
      next.delete(id);
      this.starting = next;
    }
  }

  #onOpen(event: CustomEvent<JobOpenDetail>) {
    event.preventDefault();
    this.dispatchEvent(navigateEvent(jobHref(event.detail.id)));
  }

  #onTab(event: Event) {
    const view = VIEWS[(event.target as MdTabs).activeTabIndex] ?? 'list';
    if (view === this.#view) return;
    this.#go({ view: view === 'list' ? '' : view });
  }

  #onSearch(event: Event) {
    this.#go({ q: (event.target as MdOutlinedTextField).value }, true);
  }

  /** The address holds the view and the filters; a change is a navigation. */
  #go(change: Partial<Record<'view' | 'status' | 'outcome' | 'q', string>>, replace = false) {
    const query = new URLSearchParams();
    for (const key of ['view', 'status', 'outcome', 'q'] as const) {
      const value = key in change ? change[key] : (this.params.get(key) ?? '');
      if (value) query.set(key, value);
    }
    const search = query.toString();
    this.dispatchEvent(navigateEvent(`/jobs${search ? `?${search}` : ''}`, { replace }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-jobs-view': YgJobsView;
  }
}
