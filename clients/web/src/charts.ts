// Chart.js, bundled (nothing is fetched at run time). Charts are drawn on canvases that carry an
// aria-label; every chart has a table with the same figures next to it for keyboard and
// screen-reader users.
import { Chart, registerables, type ChartConfiguration, type ChartType } from 'chart.js';
import { h } from './dom';

Chart.register(...registerables);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
Chart.defaults.font.size = 13;
Chart.defaults.color = '#1f2933';
Chart.defaults.animation = false; // live updates should not wobble

export const MODEL_COLOURS: Record<string, string> = {
  AS_PLANNED: '#1d4ed8',
  CALIBRATED: '#c2410c',
  BASELINE: '#6b7280',
  ADJUSTED: '#047857',
};

/** Forecast categories, from safe (dark) to possible (light): one hue, so the order reads as
 *  certainty without relying on telling colours apart. */
export const CATEGORY_COLOURS: Record<string, string> = {
  SAFE: '#7c2d12',
  LIKELY: '#ea580c',
  POSSIBLE: '#fdba74',
};

// Distinguishable for the usual colour-vision differences as far as ten colours allow.
const PALETTE = ['#1d4ed8', '#0f766e', '#ea580c', '#7c3aed', '#84cc16', '#be123c', '#0891b2', '#64748b', '#a16207', '#db2777'];

export function colour(index: number): string {
  return PALETTE[index % PALETTE.length];
}

export function transparent(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** A chart in a figure with a caption; call .destroy() when the view goes away. */
export function chartFigure<T extends ChartType>(
  caption: string,
  config: ChartConfiguration<T>,
  testId: string,
  height = 320,
): { element: HTMLElement; chart: Chart<T> } {
  const canvas = h('canvas', { role: 'img', 'aria-label': caption });
  const element = h(
    'figure',
    { class: 'chart', 'data-testid': testId },
    h('figcaption', null, caption),
    h('div', { class: 'chart-box', style: `height:${window.matchMedia('(max-width: 640px)').matches ? Math.max(height, 300) : height}px` }, canvas),
  );
  // On a phone the legend goes below the chart in small type, so that it does not crowd it out.
  const narrow = window.matchMedia('(max-width: 640px)').matches;
  const options = (config.options ?? {}) as Record<string, unknown> & { plugins?: Record<string, unknown> };
  const plugins = { ...(options.plugins ?? {}) };
  if (narrow) {
    plugins.legend = {
      position: 'bottom',
      labels: { boxWidth: 10, boxHeight: 10, padding: 6, font: { size: 11 } },
      ...((plugins.legend as object | undefined) ?? {}),
    };
  }
  config.options = {
    responsive: true,
    maintainAspectRatio: false,
    locale: document.documentElement.lang === 'en' ? 'en-GB' : 'da-DK',
    ...options,
    plugins,
  } as typeof config.options;
  const chart = new Chart(canvas, config);
  return { element, chart };
}
