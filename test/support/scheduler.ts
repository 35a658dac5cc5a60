// An in-process scheduler on the master's offer interface (what built-in frameworks use).

import type { Offer, SchedulerConnection, TaskStatus } from '../../server/master/types.js';
import type { Master } from '../../server/master/master.js';
import type { CommandSpec } from '../../protocol/types.js';

export class RecordingScheduler implements SchedulerConnection {
  frameworkId = '';
  offerList: Offer[] = [];
  rescinded: string[] = [];
  updates: TaskStatus[] = [];
  failures: string[] = [];
  errors: string[] = [];
  closedByMaster = false;

  subscribed(id: string) {
    this.frameworkId = id;
  }
  offers(o: Offer[]) {
    this.offerList.push(...o);
  }
  rescind(id: string) {
    this.rescinded.push(id);
    this.offerList = this.offerList.filter((o) => o.id !== id);
  }
  update(s: TaskStatus) {
    this.updates.push(s);
  }
  failure(agentId: string) {
    this.failures.push(agentId);
  }
  error(message: string) {
    this.errors.push(message);
  }
  close() {
    this.closedByMaster = true;
  }

  /** Offers not yet used, rescinded or declined. */
  takeOffer(pred: (o: Offer) => boolean = () => true): Offer | undefined {
    const i = this.offerList.findIndex(pred);
    if (i < 0) return undefined;
    return this.offerList.splice(i, 1)[0];
  }

  statesOf(taskId: string): string[] {
    return this.updates.filter((u) => u.taskId === taskId).map((u) => u.state);
  }
}

export async function subscribeScheduler(master: Master, name = 'test-framework', failoverTimeoutSeconds = 60): Promise<RecordingScheduler> {
  const s = new RecordingScheduler();
  await master.subscribe({ name, user: 'test', roles: ['*'], failoverTimeoutSeconds }, s, `stream-${name}`);
  return s;
}

export function shellCommand(value: string, env: Record<string, string> = {}): CommandSpec {
  return { value, shell: true, env, uris: [] };
}
