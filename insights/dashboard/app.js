// The dashboard: picks a project and a range, asks the API, draws the answers.
import { ApiError, getJson } from './api.js';
import { drawTimeseries, followWidth } from './chart.js';
import { currentProjectId, forgetProject, savedProjects, saveProject, setCurrentProject } from './keys.js';
import { renderFunnel, renderRetention, renderSummary, renderTop } from './panels.js';
import { autoInterval, datesRange, presetRange, rangeDays, readHash, spanDays, writeHash } from './range.js';

const $ = (id) => document.getElementById(id);
const RETENTION_MAX_DAYS = 92;
const TOP_TABLES = [
  ['top-pages', { dimension: 'page_path', event: '$pageview' }, 'Page'],
  ['top-referrers', { dimension: 'referrer_host' }, 'Source'],
  ['top-countries', { dimension: 'country' }, 'Country'],
  ['top-browsers', { dimension: 'browser' }, 'Browser'],
  ['top-devices', { dimension: 'device' }, 'Device'],
  ['top-events', { dimension: 'event' }, 'Event'],
];

const state = { project: null, range: null, interval: 'auto', chart: null, load: null };

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
  writeHash({
    project: state.project,
    from: days.from,
    to: days.to,
    interval: state.interval === 'auto' ? '' : state.interval,
  });
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
    { ...range, step: steps, window: $('funnel-window').value },
    key,
    signal,
  );
  renderFunnel($('funnel'), answer);
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
  $('status').textContent = 'Loading…';
  const started = performance.now();

  const tasks = [
    getJson('/v1/insights/summary', range, key, signal).then((a) => renderSummary($('summary'), a)),
    getJson('/v1/insights/timeseries', { ...range, interval }, key, signal).then((a) => {
      state.chart = drawTimeseries($('chart'), a, state.chart);
    }),
    ...TOP_TABLES.map(([id, params, label]) =>
      getJson('/v1/insights/top', { ...range, ...params, limit: 8 }, key, signal).then((a) => {
        renderTop($(id), a, label);
        if (params.dimension === 'event' && funnelSteps().length === 0) {
          $('funnel-steps').value = defaultSteps(a).join(', ');
          return loadFunnel(key, range, signal);
        }
        return undefined;
      }),
    ),
    funnelSteps().length > 0 ? loadFunnel(key, range, signal) : Promise.resolve(),
    spanDays(state.range) <= RETENTION_MAX_DAYS
      ? getJson('/v1/insights/retention', range, key, signal).then((a) => renderRetention($('retention'), a))
      : Promise.resolve(
          $('retention').replaceChildren(
            Object.assign(document.createElement('caption'), {
              textContent: `Pick at most ${RETENTION_MAX_DAYS} days to see retention.`,
            }),
          ),
        ),
  ];
  const results = await Promise.allSettled(tasks);
  if (signal.aborted) return;
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (failed.some((e) => e instanceof ApiError && e.status === 401)) {
    showBanner('This read key is no longer valid. Add a new one.');
  } else if (failed.length > 0) {
    const first = failed[0];
    showBanner(`Some panels could not load: ${first instanceof Error ? first.message : String(first)}`);
  }
  $('status').textContent =
    failed.length > 0 ? '' : `Updated in ${Math.round(performance.now() - started)} ms`;
  // Tests and scripts wait for this: every panel has answered (or failed) for the current range.
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
  followWidth($('chart'), () => state.chart);

  if (state.project) refresh();
  else document.body.dataset.state = 'empty';
}

start();
