// The visitors/events time series, drawn with uPlot in UTC.
import uPlot from '/vendor/uplot.esm.js';

const number = new Intl.NumberFormat('en-US', { notation: 'compact' });

function height(el) {
  return el.clientWidth < 600 ? 200 : 260;
}

/** A note in the chart's place (loading, a range it cannot draw); no chart stays behind it. */
export function chartMessage(el, chart, text) {
  chart?.destroy();
  el.replaceChildren(
    Object.assign(document.createElement('p'), { className: 'chart-note', textContent: text }),
  );
  el.dataset.points = '0';
  return null;
}

/**
 * Draws (or redraws) the series into `el`; returns the uPlot instance. `comparison`, the same
 * series for the period just before, is drawn point by point under the current one.
 */
export function drawTimeseries(el, answer, previous, comparison) {
  previous?.destroy();
  el.replaceChildren();
  const xs = answer.points.map((p) => Date.parse(p.time) / 1000);
  const visitors = answer.points.map((p) => p.visitors);
  const events = answer.points.map((p) => p.events);
  el.dataset.points = String(xs.length);
  el.dataset.from = answer.from;
  el.dataset.to = answer.to;
  el.dataset.interval = answer.interval;
  const before = comparison ? xs.map((_, i) => comparison.points[i]?.visitors ?? null) : null;
  el.dataset.comparison = before ? String(before.reduce((n, v) => n + (v ?? 0), 0)) : '';
  const opts = {
    width: el.clientWidth,
    height: height(el),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    series: [
      {},
      {
        label: 'Visitors',
        stroke: '#4f6bed',
        fill: 'rgba(79, 107, 237, 0.12)',
        width: 2,
        points: { show: xs.length < 60 },
        value: (_u, v) => (v == null ? '–' : v.toLocaleString('en-US')),
      },
      {
        label: 'Events',
        stroke: '#9aa3b5',
        width: 1.5,
        dash: [5, 4],
        scale: 'y',
        points: { show: false },
        value: (_u, v) => (v == null ? '–' : v.toLocaleString('en-US')),
      },
      ...(before
        ? [
            {
              label: 'Visitors, previous period',
              stroke: '#e0a040',
              width: 1.5,
              dash: [2, 3],
              points: { show: false },
              value: (_u, v) => (v == null ? '–' : v.toLocaleString('en-US')),
            },
          ]
        : []),
    ],
    axes: [
      { stroke: '#6b7385', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e6ec' } },
      {
        stroke: '#6b7385',
        grid: { stroke: '#eef0f4' },
        ticks: { stroke: '#e3e6ec' },
        values: (_u, splits) => splits.map((v) => number.format(v)),
        size: 48,
      },
    ],
  };
  return new uPlot(opts, before ? [xs, visitors, events, before] : [xs, visitors, events], el);
}

/** Keeps the chart as wide as its container. */
export function followWidth(el, getChart) {
  const observer = new ResizeObserver(() => {
    const chart = getChart();
    if (chart && el.clientWidth > 0) chart.setSize({ width: el.clientWidth, height: height(el) });
  });
  observer.observe(el);
}
