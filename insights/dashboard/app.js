// The dashboard: picks a project, a range and filters, asks the API, draws the answers.
// Over 300 lines: the controller of one page, whose loaders share the one `state` (project, range,
// filters, goals, the URL hash) and one abort per refresh; drawing is in panels.js and chart.js.
import { ApiError, getJson } from './api.js';
import { chartMessage, drawTimeseries, followWidth } from './chart.js';
import { downloadCsv } from './csv.js';
import { DIMENSION_LABELS, displayValue, filterParam, goalParam, parseFilter, parseGoal } from './filters.js';
import { currentProjectId, forgetProject, savedProjects, saveProject, setCurrentProject } from './keys.js';
import {
  renderChips,
  renderFunnel,
  renderGoals,
  renderRetention,
  renderRows,
  renderSummary,
} from './panels.js';
import { autoInterval, datesRange, presetRange, rangeDays, readHash, spanDays, writeHash } from './range.js';

const $ = (id) => document.getElementById(id);
const RETENTION_MAX_DAYS = 92;
/** The API's limit for an hourly series (31 days of hours). */
const HOURLY_MAX_DAYS = 31;
const SHOWN = 8;
/** Calls that are not things visitors do: left out of the Events panel. */
const HIDDEN_EVENTS = new Set(['$identify', '$group', '$alias']);

const TOP = '/v1/insights/top';
const VISITS = '/v1/insights/visits';
/** Each ranked panel: where it asks, what it shows, and which column a click on a row filters. */
const PANELS = [
  {
    id: 'top-pages',
    label: 'Page',
    path: TOP,
    params: { dimension: 'page_path', event: '$pageview' },
    on: 'page_path',
  },
  { id: 'top-sources', label: 'Source', path: VISITS, params: { dimension: 'source' }, on: 'referrer_host' },
  {
    id: 'top-entry',
    label: 'Entry page',
    path: VISITS,
    params: { dimension: 'entry_page' },
    on: 'page_path',
  },
  { id: 'top-exit', label: 'Exit page', path: VISITS, params: { dimension: 'exit_page' }, on: 'page_path' },
  { id: 'top-countries', label: 'Country', path: TOP, params: { dimension: 'country' }, on: 'country' },
  { id: 'top-browsers', label: 'Browser', path: TOP, params: { dimension: 'browser' }, on: 'browser' },
  { id: 'top-os', label: 'OS', path: TOP, params: { dimension: 'os' }, on: 'os' },
  { id: 'top-devices', label: 'Device', path: TOP, params: { dimension: 'device' }, on: 'device' },
  {
    id: 'top-utm-source',
    label: 'UTM source',
    path: TOP,
    params: { dimension: 'utm_source' },
    on: 'utm_source',
  },
  {
    id: 'top-utm-medium',
    label: 'UTM medium',
    path: TOP,
    params: { dimension: 'utm_medium' },
    on: 'utm_medium',
  },
  {
    id: 'top-utm-campaign',
    label: 'UTM campaign',
    path: TOP,
    params: { dimension: 'utm_campaign' },
    on: 'utm_campaign',
  },
  { id: 'top-events', label: 'Event', path: TOP, params: { dimension: 'event' }, on: 'event' },
];

const state = {
  project: null,
  range: null,
  interval: 'auto',
  filters: [],
  goals: [],
  bots: false,
  chart: null,
  load: null,
  /** Per panel id: what its CSV button exports ({header, rows}). */
  exports: {},
};

function projectEntry() {
  return savedProjects().find((p) => p.id === state.project) ?? null;
}

function showBanner(message) {
  const banner = $('banner');
  banner.textContent = message ?? '';
  banner.hidden = !message;
}

function fillProjects() {
  const select = $('project-select');
  const projects = savedProjects();
  select.replaceChildren(
    ...projects.map((p) => {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id;
      return option;
    }),
  );
  select.hidden = projects.length === 0;
  $('forget-project').hidden = projects.length === 0;
  if (state.project) select.value = state.project;
  $('empty').hidden = projects.length > 0;
  $('content').hidden = projects.length === 0;
}

function syncInputs() {
  const days = rangeDays(state.range);
  $('from').value = days.from;
  $('to').value = days.to;
  $('interval').value = state.interval;
  $('bots').checked = state.bots;
  renderChips($('filters'), state.filters, DIMENSION_LABELS, displayValue);
  writeHash({
    project: state.project,
    from: days.from,
    to: days.to,
    interval: state.interval === 'auto' ? '' : state.interval,
    bots: state.bots ? 'include' : '',
    filter: state.filters.map(filterParam),
    goal: state.goals.map(goalParam),
  });
}

/** The filters and the bots switch, as every request carries them. */
function audience() {
  return { filter: state.filters.map(filterParam), bots: state.bots ? 'include' : undefined };
}

function defaultSteps(events) {
  const custom = events.rows.map((r) => r.value).filter((v) => !v.startsWith('$'));
  return ['$pageview', ...custom.slice(0, 2)];
}

function funnelSteps() {
  return $('funnel-steps')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function loadFunnel(key, range, signal) {
  const steps = funnelSteps();
  if (steps.length < 2) {
    $('funnel').replaceChildren(
      Object.assign(document.createElement('p'), {
        className: 'none',
        textContent: 'Give at least two steps, separated by commas.',
      }),
    );
    return;
  }
  const answer = await getJson(
    '/v1/insights/funnel',
    { ...range, step: steps, window: $('funnel-window').value, ...audience() },
    key,
    signal,
  );
  renderFunnel($('funnel'), answer);
  state.exports.funnel = {
    header: ['Step', 'Event', 'Visitors', 'Conversion from start', 'Conversion from previous'],
    rows: answer.steps.map((s, i) => [i + 1, s.event, s.visitors, s.conversionFromStart, s.conversion]),
  };
}

/** Rows of a ranked panel from a top or visits answer. */
function panelRows(panel, answer) {
  let rows = answer.rows;
  if (panel.id === 'top-events') rows = rows.filter((r) => !HIDDEN_EVENTS.has(r.value));
  return rows.slice(0, SHOWN).map((r) => ({
    value: r.value,
    display: r.value === null ? 'Direct / None' : displayValue(panel.on, r.value),
    visitors: r.visitors,
    count: r.visits ?? r.events,
    filter: r.value === null ? null : { dimension: panel.on, value: r.value },
  }));
}

async function loadPanel(panel, key, range, signal) {
  // Hidden events are asked for too, so the panel still shows eight when they are among the top.
  const limit = panel.id === 'top-events' ? SHOWN + HIDDEN_EVENTS.size : SHOWN;
  const answer = await getJson(panel.path, { ...range, ...panel.params, limit, ...audience() }, key, signal);
  const rows = panelRows(panel, answer);
  const countLabel = panel.path === VISITS ? 'Visits' : 'Events';
  renderRows($(panel.id), { label: panel.label, countLabel, rows });
  state.exports[panel.id] = {
    header: [panel.label, 'Visitors', countLabel],
    rows: rows.map((r) => [r.display, r.visitors, r.count]),
  };
  if (panel.id === 'top-events' && funnelSteps().length === 0) {
    $('funnel-steps').value = defaultSteps({
      rows: answer.rows.filter((r) => !HIDDEN_EVENTS.has(r.value)),
    }).join(', ');
    return loadFunnel(key, range, signal);
  }
  return undefined;
}

async function loadChart(key, range, interval, signal) {
  if (interval === 'hour' && spanDays(state.range) > HOURLY_MAX_DAYS) {
    state.chart = chartMessage(
      $('chart'),
      state.chart,
      `Per hour shows at most ${HOURLY_MAX_DAYS} days. Pick a shorter range, or per day.`,
    );
    state.exports.chart = null;
    return;
  }
  const length = state.range.to.getTime() - state.range.from.getTime();
  const previous = {
    from: new Date(state.range.from.getTime() - length).toISOString(),
    to: state.range.from.toISOString(),
  };
  const [current, before] = await Promise.all([
    getJson('/v1/insights/timeseries', { ...range, interval, ...audience() }, key, signal),
    getJson('/v1/insights/timeseries', { ...previous, interval, ...audience() }, key, signal),
  ]);
  state.chart = drawTimeseries($('chart'), current, state.chart, before);
  state.exports.chart = {
    header: ['Time (UTC)', 'Visitors', 'Events', 'Visitors, previous period'],
    rows: current.points.map((p, i) => [p.time, p.visitors, p.events, before.points[i]?.visitors ?? '']),
  };
}

async function loadGoals(key, range, signal) {
  const answers = await Promise.all(
    state.goals.map((goal) =>
      getJson('/v1/insights/goal', { ...range, ...goal, ...audience() }, key, signal),
    ),
  );
  const goals = state.goals.map((goal, i) => ({ goal, answer: answers[i] }));
  renderGoals($('goals'), goals);
  state.exports.goals = {
    header: ['Goal', 'Visitors', 'Converted', 'Completions', 'Conversion rate'],
    rows: goals.map(({ goal, answer }) => [
      goalParam(goal),
      answer.visitors,
      answer.converted,
      answer.completions,
      answer.conversionRate,
    ]),
  };
}

async function loadRetention(key, range, signal) {
  if (spanDays(state.range) > RETENTION_MAX_DAYS) {
    $('retention').replaceChildren(
      Object.assign(document.createElement('caption'), {
        textContent: `Pick at most ${RETENTION_MAX_DAYS} days to see retention.`,
      }),
    );
    state.exports.retention = null;
    return;
  }
  const answer = await getJson('/v1/insights/retention', { ...range, ...audience() }, key, signal);
  renderRetention($('retention'), answer);
  const width = answer.cohorts.reduce((n, c) => Math.max(n, c.returning.length), 0);
  state.exports.retention = {
    header: ['First seen', 'Visitors', ...Array.from({ length: width }, (_, n) => `Day ${n}`)],
    rows: answer.cohorts.map((c) => [c.day, c.visitors, ...c.returning]),
  };
}

async function loadAll() {
  const entry = projectEntry();
  if (!entry || !state.range) return;
  state.load?.abort();
  const load = new AbortController();
  state.load = load;
  const { signal } = load;
  const key = entry.key;
  const range = { from: state.range.from.toISOString(), to: state.range.to.toISOString() };
  const interval = state.interval === 'auto' ? autoInterval(state.range) : state.interval;
  showBanner(null);
  document.body.dataset.state = 'loading';
  // Never a stale chart: the old one goes before the new one is asked for.
  state.chart = chartMessage($('chart'), state.chart, 'Loading…');
  $('content').classList.add('loading');
  const started = performance.now();

  const tasks = [
    getJson('/v1/insights/summary', { ...range, ...audience() }, key, signal).then((a) =>
      renderSummary($('summary'), a),
    ),
    loadChart(key, range, interval, signal).catch((err) => {
      if (!signal.aborted)
        state.chart = chartMessage($('chart'), state.chart, `The chart could not load: ${err.message}`);
      throw err;
    }),
    ...PANELS.map((panel) => loadPanel(panel, key, range, signal)),
    funnelSteps().length > 0 ? loadFunnel(key, range, signal) : Promise.resolve(),
    loadGoals(key, range, signal),
    loadRetention(key, range, signal),
  ];
  // Progress: how many panels have answered.
  let done = 0;
  const progress = $('progress');
  progress.max = tasks.length;
  progress.value = 0;
  progress.hidden = false;
  const tick = () => {
    if (signal.aborted) return;
    done += 1;
    progress.value = done;
    $('status').textContent = `Loading… ${done} of ${tasks.length}`;
  };
  $('status').textContent = `Loading… 0 of ${tasks.length}`;
  const results = await Promise.allSettled(tasks.map((t) => t.finally(tick)));
  if (signal.aborted) return;
  progress.hidden = true;
  $('content').classList.remove('loading');
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (failed.some((e) => e instanceof ApiError && e.status === 401)) {
    showBanner('This read key is no longer valid. Add a new one.');
  } else if (failed.length > 0) {
    const first = failed[0];
    showBanner(`Some panels could not load: ${first instanceof Error ? first.message : String(first)}`);
  }
  $('status').textContent =
    failed.length > 0 ? '' : `Updated in ${Math.round(performance.now() - started)} ms`;
  // Tests and scripts wait for this: every panel has answered (or failed) for the current view.
  document.body.dataset.state = failed.length > 0 ? 'error' : 'ready';
}

/** Reloads every panel; loadAll settles each request itself, so only a bug can land here. */
function refresh() {
  loadAll().catch((err) => showBanner(`The dashboard failed: ${err.message}`));
}

function setRange(range, preset) {
  state.range = range;
  $('preset').value = preset;
  syncInputs();
  refresh();
}

/** A click on a row: filter every panel by its value (one filter per column: a new value replaces it). */
function addFilter(filter) {
  state.filters = [...state.filters.filter((f) => f.dimension !== filter.dimension), filter];
  syncInputs();
  refresh();
}

async function addKey(event) {
  event.preventDefault();
  const key = $('key-input').value.trim();
  const error = $('key-error');
  error.hidden = true;
  try {
    const { project } = await getJson('/v1/insights/project', {}, key);
    saveProject({ id: project.id, name: project.name, key });
    state.project = project.id;
    $('key-dialog').close();
    $('key-input').value = '';
    $('funnel-steps').value = '';
    fillProjects();
    syncInputs();
    await loadAll();
  } catch (err) {
    error.textContent =
      err instanceof ApiError && err.status === 401
        ? 'That key opens no project.'
        : `Could not check the key: ${err.message}`;
    error.hidden = false;
  }
}

function openKeyDialog() {
  $('key-error').hidden = true;
  $('key-dialog').showModal();
  $('key-input').focus();
}

function start() {
  const hash = readHash();
  const projects = savedProjects();
  state.project =
    [hash.project, currentProjectId(), projects[0]?.id].find(
      (id) => id && projects.some((p) => p.id === id),
    ) ?? null;
  state.interval = ['hour', 'day'].includes(hash.interval) ? hash.interval : 'auto';
  state.filters = hash.filter.map(parseFilter).filter(Boolean);
  state.goals = hash.goal.map(parseGoal).filter(Boolean);
  state.bots = hash.bots === 'include';
  const fromHash = hash.from && hash.to ? datesRange(hash.from, hash.to) : null;
  state.range = fromHash ?? presetRange('7');
  $('preset').value = fromHash ? 'custom' : '7';
  fillProjects();
  syncInputs();

  $('preset').addEventListener('change', (e) => {
    if (e.target.value !== 'custom') setRange(presetRange(e.target.value), e.target.value);
  });
  for (const id of ['from', 'to']) {
    $(id).addEventListener('change', () => {
      const range = datesRange($('from').value, $('to').value);
      if (range) setRange(range, 'custom');
      else showBanner('The end date must not be before the start date.');
    });
  }
  $('interval').addEventListener('change', (e) => {
    state.interval = e.target.value;
    syncInputs();
    refresh();
  });
  $('bots').addEventListener('change', (e) => {
    state.bots = e.target.checked;
    syncInputs();
    refresh();
  });
  $('project-select').addEventListener('change', (e) => {
    state.project = e.target.value;
    setCurrentProject(state.project);
    $('funnel-steps').value = '';
    syncInputs();
    refresh();
  });
  $('forget-project').addEventListener('click', () => {
    if (!state.project) return;
    forgetProject(state.project);
    state.project = savedProjects()[0]?.id ?? null;
    fillProjects();
    syncInputs();
    refresh();
  });
  $('add-project').addEventListener('click', openKeyDialog);
  $('empty-add').addEventListener('click', openKeyDialog);
  $('key-cancel').addEventListener('click', () => $('key-dialog').close());
  $('key-form').addEventListener('submit', addKey);
  $('funnel-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const entry = projectEntry();
    if (!entry) return;
    const range = { from: state.range.from.toISOString(), to: state.range.to.toISOString() };
    loadFunnel(entry.key, range, undefined).catch((err) =>
      showBanner(`The funnel could not load: ${err.message}`),
    );
  });
  $('goal-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const goal = parseGoal($('goal-input').value);
    if (!goal) return;
    $('goal-input').value = '';
    state.goals = [...state.goals.filter((g) => goalParam(g) !== goalParam(goal)), goal];
    syncInputs();
    refresh();
  });
  // Rows, chips, goal and CSV buttons are redrawn on every load: one listener for them all.
  $('content').addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const chip = target?.closest('.chip-remove');
    const goal = target?.closest('.goal-remove');
    const csv = target?.closest('[data-csv]');
    const row = target?.closest('tr.filterable');
    if (chip) {
      state.filters = state.filters.filter((_, i) => i !== Number(chip.dataset.index));
      syncInputs();
      refresh();
    } else if (goal) {
      state.goals = state.goals.filter((_, i) => i !== Number(goal.dataset.index));
      syncInputs();
      refresh();
    } else if (csv) {
      const data = state.exports[csv.dataset.csv];
      if (data)
        downloadCsv(
          `${state.project}-${csv.dataset.csv}-${rangeDays(state.range).from}.csv`,
          data.header,
          data.rows,
        );
    } else if (row) {
      addFilter({ dimension: row.dataset.dimension, value: row.dataset.value });
    }
  });
  $('content').addEventListener('keydown', (e) => {
    const row = e.target instanceof Element ? e.target.closest('tr.filterable') : null;
    if (row && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      addFilter({ dimension: row.dataset.dimension, value: row.dataset.value });
    }
  });
  followWidth($('chart'), () => state.chart);

  if (state.project) refresh();
  else document.body.dataset.state = 'empty';
}

start();
