import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';

export interface SparkSeries {
  label: string;
  /** 0–100, oldest first. */
  values: readonly number[];
  /** A CSS colour, usually a token: `var(--yg-chart-cpu)`. */
  color: string;
}

const HEIGHT = 40;

/**
 * A small line chart of percentages over time. The accessible name says what the lines show
 * (now, lowest, highest), since a picture of a line says nothing to a screen reader.
 */
@customElement('yg-sparkline')
export class YgSparkline extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .chart {
      position: relative;
      padding-inline-start: 2.75rem;
    }
    .axis {
      position: absolute;
      inset-inline-start: 0;
      font-size: 0.6875rem;
      line-height: 1;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-variant-numeric: tabular-nums;
    }
    .axis.top {
      top: 0;
    }
    .axis.bottom {
      bottom: 0;
    }
    svg {
      display: block;
      width: 100%;
      height: var(--yg-sparkline-height, 64px);
      overflow: visible;
    }
    .grid {
      stroke: var(--md-sys-color-outline-variant, #c3c7cf);
      stroke-width: 1;
      stroke-dasharray: 2 3;
    }
    polyline {
      fill: none;
      stroke-width: 2;
      stroke-linejoin: round;
      stroke-linecap: round;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 16px;
      margin: 8px 0 0;
      padding: 0;
      list-style: none;
      font-size: 0.8125rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-variant-numeric: tabular-nums;
    }
    .legend li {
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
    .swatch {
      width: 12px;
      height: 3px;
      border-radius: 2px;
    }
    .empty {
      display: grid;
      place-items: center;
      height: var(--yg-sparkline-height, 64px);
      border: 1px dashed var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: 8px;
      font-size: 0.8125rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
  `;

  @property({ attribute: false }) series: readonly SparkSeries[] = [];
  /** What the chart is about, e.g. "Allocation over the last 10 min". */
  @property() label = '';

  override render() {
    const samples = Math.max(0, ...this.series.map((s) => s.values.length));
    if (samples < 2) {
      return html`<div class="empty" role="status">Collecting samples…</div>`;
    }
    const summary = this.series.map((s) => describe(s)).join('; ');
    const top = ceiling(Math.max(0, ...this.series.flatMap((s) => s.values)));
    return html`
      <div class="chart">
        <span class="axis top" aria-hidden="true">${top} %</span>
        <span class="axis bottom" aria-hidden="true">0 %</span>
        <svg viewBox="0 0 100 ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label=${`${this.label}: ${summary}`}>
          ${[0, 0.5, 1].map((f) => svg`<line class="grid" x1="0" x2="100" y1=${f * HEIGHT} y2=${f * HEIGHT} vector-effect="non-scaling-stroke"></line>`)}
          ${this.series.map(
            (s) => svg`<polyline points=${points(s.values, samples, top)} style="stroke:${s.color}" vector-effect="non-scaling-stroke"></polyline>`,
          )}
        </svg>
      </div>
      <ul class="legend" aria-hidden="true">
        ${this.series.map(
          (s) => html`<li><span class="swatch" style="background:${s.color}"></span>${s.label} ${last(s.values)} %</li>`,
        )}
      </ul>
    `;
  }
}

function last(values: readonly number[]): number {
  return Math.round(values[values.length - 1] ?? 0);
}

function describe(s: SparkSeries): string {
  if (s.values.length === 0) return `${s.label}: no data`;
  const min = Math.round(Math.min(...s.values));
  const max = Math.round(Math.max(...s.values));
  return `${s.label} ${last(s.values)} % now, between ${min} % and ${max} %`;
}

/** The top of the scale: small allocations still show a shape instead of a line on the floor. */
export function ceiling(max: number): number {
  return [5, 10, 25, 50, 100].find((c) => max <= c) ?? 100;
}

/** Right-aligned: the newest sample sits at the right edge whatever the count. */
function points(values: readonly number[], samples: number, top: number): string {
  const step = 100 / (samples - 1);
  const offset = samples - values.length;
  return values
    .map((v, i) => {
      const y = HEIGHT - (Math.min(top, Math.max(0, v)) / top) * HEIGHT;
      return `${((offset + i) * step).toFixed(2)},${y.toFixed(2)}`;
    })
    .join(' ');
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-sparkline': YgSparkline;
  }
}
