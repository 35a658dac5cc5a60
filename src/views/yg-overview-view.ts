import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { AgentState, AgentView, ServiceView, TaskSummary } from '../../protocol/types.js';
import { TASK_STATES } from '../../protocol/types.js';
import { agentStateChip, SERVICE_STATUSES, serviceStatusChip, taskStateChip } from '../components/states.js';
import '../components/yg-activity-feed.js';
import type { BreakdownItem } from '../components/yg-breakdown.js';
import '../components/yg-breakdown.js';
import '../components/yg-job-digest.js';
import '../components/yg-resource-bar.js';
import '../components/yg-sparkline.js';
import type { SparkSeries } from '../components/yg-sparkline.js';
import type { ActivityItem } from '../state/activity.js';
import type { AllocationSample } from '../state/allocation-history.js';
import type { ClusterState } from '../state/cluster-state.js';
import { capacity } from '../state/allocation-history.js';
import { activityContext, allocationContext, clusterContext } from '../state/context.js';
import { memoize } from '../state/memo.js';
import { StoreController } from '../state/store-controller.js';
import { agentStateCounts, serviceStatusCounts, taskStateCounts } from './cluster-selectors.js';
import { viewStyles } from './view-styles.js';

const NO_AGENTS: ReadonlyMap<string, AgentView> = new Map();
const NO_TASKS: ReadonlyMap<string, TaskSummary> = new Map();
const NO_SERVICES: ReadonlyMap<string, ServiceView> = new Map();
const AGENT_STATES: readonly AgentState[] = ['ACTIVE', 'DRAINING', 'DRAINED', 'UNREACHABLE', 'GONE'];

/** The feed keeps more; the overview shows the latest. */
const FEED_ITEMS = 12;
const share = (used: number, total: number) => (total > 0 ? (used / total) * 100 : 0);

@customElement('yg-overview-view')
export class YgOverviewView extends LitElement {
  static override styles = [
    viewStyles,
    css`
      .capacity {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr)) minmax(12rem, 1.2fr);
        gap: 24px;
        align-items: start;
      }
      .trend h3 {
        margin: 0 0 8px;
        font-size: 0.875rem;
        font-weight: 500;
      }
      .breakdowns {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 16px;
        margin-top: 16px;
      }
      .breakdowns h2 {
        font-size: 1rem;
      }
      .feed,
      .jobs {
        margin-top: 16px;
      }
      @media (max-width: 1099px) {
        .capacity {
          grid-template-columns: repeat(3, minmax(0, 1fr));
        }
        .trend {
          grid-column: 1 / -1;
        }
      }
      @media (max-width: 799px) {
        .capacity,
        .breakdowns {
          grid-template-columns: minmax(0, 1fr);
        }
      }
    `,
  ];

  readonly #agents = new StoreController(this, clusterContext, (s) => s.agents);
  readonly #tasks = new StoreController(this, clusterContext, (s) => s.tasks);
  readonly #services = new StoreController(this, clusterContext, (s) => s.services);
  readonly #jobs = new StoreController(this, clusterContext, (s) => s.jobs);
  readonly #jobList = memoize((jobs: ClusterState['jobs'] | undefined) => [...(jobs?.values() ?? [])]);
  readonly #loaded = new StoreController(this, clusterContext, (s) => s.loaded);
  readonly #activity = new StoreController(this, activityContext);
  readonly #samples = new StoreController(this, allocationContext);
  readonly #capacity = memoize(capacity);
  readonly #recent = memoize((items: readonly ActivityItem[]) => items.slice(0, FEED_ITEMS));
  readonly #agentCounts = agentStateCounts();
  readonly #taskCounts = taskStateCounts();
  readonly #serviceCounts = serviceStatusCounts();
  readonly #series = memoize((samples: readonly AllocationSample[]): SparkSeries[] => [
    { label: 'CPU', values: samples.map((s) => share(s.cpus, s.cpusTotal)), color: 'var(--yg-chart-cpu)' },
    { label: 'Memory', values: samples.map((s) => share(s.mem, s.memTotal)), color: 'var(--yg-chart-mem)' },
  ]);

  override render() {
    const loaded = this.#loaded.value ?? false;
    const c = this.#capacity(this.#agents.value ?? NO_AGENTS);
    const agents = this.#agentCounts(this.#agents.value ?? NO_AGENTS);
    const tasks = this.#taskCounts(this.#tasks.value ?? NO_TASKS);
    const services = this.#serviceCounts(this.#services.value ?? NO_SERVICES);
    const samples = this.#samples.value ?? [];
    const minutes = samples.length > 1 ? Math.max(1, Math.round((samples[samples.length - 1]!.at - samples[0]!.at) / 60_000)) : 0;
    return html`
      <header><h1>Overview</h1></header>
      <section class="card" aria-labelledby="capacity-title">
        <h2 id="capacity-title">Allocated on active agents</h2>
        <div class="capacity">
          <yg-resource-bar label="CPU" unit="cpus" .used=${c.cpus.used} .total=${c.cpus.total}></yg-resource-bar>
          <yg-resource-bar label="Memory" unit="mib" .used=${c.mem.used} .total=${c.mem.total}></yg-resource-bar>
          <yg-resource-bar label="Disk" unit="mib" .used=${c.disk.used} .total=${c.disk.total}></yg-resource-bar>
          <div class="trend">
            <h3>Since this page opened${minutes ? ` (${minutes} min)` : ''}</h3>
            <yg-sparkline label="Allocated CPU and memory since this page opened" .series=${this.#series(samples)}></yg-sparkline>
          </div>
        </div>
      </section>
      <div class="breakdowns">
        <section class="card" aria-labelledby="agents-title">
          <h2 id="agents-title">Agents</h2>
          <yg-breakdown
            noun="agents"
            ?loading=${!loaded}
            .items=${AGENT_STATES.map((state): BreakdownItem => {
              const chip = agentStateChip(state);
              return { label: chip.label.toLowerCase(), count: agents.get(state) ?? 0, tone: chip.tone, token: chip.token, href: '/nodes' };
            })}
          ></yg-breakdown>
        </section>
        <section class="card" aria-labelledby="services-title">
          <h2 id="services-title">Services</h2>
          <yg-breakdown
            noun="services"
            ?loading=${!loaded}
            .items=${SERVICE_STATUSES.map((status): BreakdownItem => {
              const chip = serviceStatusChip(status);
              return { label: chip.label, count: services.get(status) ?? 0, tone: chip.tone, token: chip.token, href: `/services?status=${status}` };
            })}
          ></yg-breakdown>
        </section>
        <section class="card" aria-labelledby="tasks-title">
          <h2 id="tasks-title">Tasks</h2>
          <yg-breakdown
            noun="tasks"
            ?loading=${!loaded}
            .items=${TASK_STATES.map((state): BreakdownItem => {
              const chip = taskStateChip(state);
              return { label: chip.label.toLowerCase(), count: tasks.get(state) ?? 0, tone: chip.tone, token: chip.token, href: `/tasks?state=${state}` };
            })}
          ></yg-breakdown>
        </section>
      </div>
      <section class="card jobs" aria-labelledby="jobs-title">
        <h2 id="jobs-title">Jobs</h2>
        <yg-job-digest ?loading=${!loaded} .jobs=${this.#jobList(this.#jobs.value)}></yg-job-digest>
      </section>
      <section class="card feed" aria-labelledby="feed-title">
        <h2 id="feed-title">Live activity</h2>
        <yg-activity-feed label="Live activity" .items=${this.#recent(this.#activity.value ?? [])}></yg-activity-feed>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-overview-view': YgOverviewView;
  }
}
