// The shape every benchmark returns, and the one table `npm run bench` prints (bench/run.ts):
// per row the median value over the runs, the median baseline (measured in the same runs),
// the ratio of the two medians, the target, whether the medians meet it, and the spread.

/** One condition of a target: the row's value, or its ratio to the baseline, against a limit. */
export interface Check {
  of: 'value' | 'ratio';
  op: '≤' | '≥';
  limit: number;
  /** How to write the limit, when not as a plain number in the row's unit (e.g. `1 GiB`). */
  label?: string;
}

export interface BenchResult {
  /** Stable across runs: the runs' figures are matched by suite and name. */
  name: string;
  value: number;
  unit: string;
  /** Measured in the same run; absent when the row has only a target. */
  baseline?: number;
  /** value / baseline for this run (the table recomputes it from the medians). */
  ratio?: number;
  /** Every check must hold; absent or empty: no stated target ("—", holds "n/a"). */
  target?: Check[];
}

/** Target shorthands for the suites. */
export const atMost = (limit: number, label?: string): Check => ({ of: 'value', op: '≤', limit, ...(label ? { label } : {}) });
export const atLeast = (limit: number, label?: string): Check => ({ of: 'value', op: '≥', limit, ...(label ? { label } : {}) });
export const ratioAtMost = (limit: number): Check => ({ of: 'ratio', op: '≤', limit });
export const ratioAtLeast = (limit: number): Check => ({ of: 'ratio', op: '≥', limit });

/** value / baseline, when the baseline is a positive figure. */
export function ratioOf(value: number, baseline: number | undefined): number | undefined {
  return baseline !== undefined && baseline > 0 && Number.isFinite(value) ? value / baseline : undefined;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** undefined when a check cannot be judged (no ratio without a baseline, or no figure). */
export function holds(target: readonly Check[] | undefined, value: number, ratio: number | undefined): boolean | undefined {
  if (!target?.length) return undefined;
  let all = true;
  for (const c of target) {
    const x = c.of === 'value' ? value : ratio;
    if (x === undefined || !Number.isFinite(x)) return undefined;
    if (!(c.op === '≤' ? x <= c.limit : x >= c.limit)) all = false;
  }
  return all;
}

/** 3 significant figures or whole numbers, with thousands separators. */
export function num(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString('en', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

export function targetText(target: readonly Check[] | undefined, unit: string): string {
  if (!target?.length) return '—';
  return target.map((c) => `${c.op} ${c.label ?? (c.of === 'ratio' ? `${num(c.limit)}×` : `${num(c.limit)} ${unit}`)}`).join(' and ');
}

/** One row's figures from every run that produced it. */
export interface RowRuns {
  suite: string;
  name: string;
  unit: string;
  target?: Check[];
  values: number[];
  /** Per run; undefined where a run had no baseline. */
  baselines: Array<number | undefined>;
}

export interface TableRow {
  name: string;
  value: number;
  baseline: number | undefined;
  ratio: number | undefined;
  unit: string;
  target: string;
  holds: boolean | undefined;
  /** How many single runs met the target (undefined without one). */
  runsHeld: number | undefined;
  runs: number;
  spread: string;
}

export function summarize(r: RowRuns): TableRow {
  const value = median(r.values);
  const bs = r.baselines.filter((b): b is number => b !== undefined);
  const baseline = bs.length ? median(bs) : undefined;
  const ratio = ratioOf(value, baseline);
  const perRun = r.values.map((v, i) => ratioOf(v, r.baselines[i]));
  const judged = r.values.map((v, i) => holds(r.target, v, perRun[i]));
  const ratios = perRun.filter((x): x is number => x !== undefined);
  let spread = r.values.length > 1 ? `${num(Math.min(...r.values))}–${num(Math.max(...r.values))} ${r.unit}` : `${num(r.values[0])} ${r.unit}`;
  if (ratios.length > 1) spread += `; ${num(Math.min(...ratios))}–${num(Math.max(...ratios))}×`;
  return {
    name: r.name,
    value,
    baseline,
    ratio,
    unit: r.unit,
    target: targetText(r.target, r.unit),
    holds: holds(r.target, value, ratio),
    runsHeld: r.target?.length ? judged.filter((h) => h === true).length : undefined,
    runs: r.values.length,
    spread: `${spread} (${r.values.length})`,
  };
}

/** The markdown table: benchmark | yagura | baseline | ratio | target | holds | spread (n runs). */
export function markdown(rows: readonly TableRow[]): string {
  const holdsText = (r: TableRow) => {
    if (r.holds === undefined) return 'n/a';
    const word = r.holds ? 'yes' : '**no**';
    // say so when the single runs disagree with the medians' verdict
    const agree = r.runsHeld === (r.holds ? r.runs : 0);
    return agree || r.runs < 2 ? word : `${word} (${r.runsHeld}/${r.runs} runs held)`;
  };
  const cells = [
    ['benchmark', 'yagura', 'baseline', 'ratio', 'target', 'holds', 'spread (n runs)'],
    ...rows.map((r) => [
      r.name,
      `${num(r.value)} ${r.unit}`,
      r.baseline === undefined ? '—' : `${num(r.baseline)} ${r.unit}`,
      r.ratio === undefined ? '—' : `${num(r.ratio)}×`,
      r.target,
      holdsText(r),
      r.spread,
    ]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const lines: string[] = [];
  for (const [i, row] of cells.entries()) {
    lines.push(`| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) lines.push(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
  return lines.join('\n');
}
