// Summary cards, top-N tables, funnel bars and the retention grid. Values are
// always set as text, never as HTML: they are whatever the site sent.

const integer = new Intl.NumberFormat('en-US');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'style') node.setAttribute('style', v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function formatDuration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function percent(ratio) {
  return `${(ratio * 100).toFixed(ratio >= 0.1 || ratio === 0 ? 0 : 1)}%`;
}

function delta(current, previous, lowerIsBetter) {
  if (previous === 0) return el('span', { class: 'delta flat' }, current === 0 ? 'no change' : 'new');
  const change = (current - previous) / previous;
  const better = lowerIsBetter ? change < 0 : change > 0;
  const kind = Math.abs(change) < 0.005 ? 'flat' : better ? 'up' : 'down';
  const arrow = change > 0 ? '▲' : change < 0 ? '▼' : '';
  return el('span', { class: `delta ${kind}` }, `${arrow} ${percent(Math.abs(change))} vs previous`);
}

export function renderSummary(container, answer) {
  const { current: c, previous: p } = answer;
  const cards = [
    ['Visitors', integer.format(c.visitors), delta(c.visitors, p.visitors)],
    ['Page views', integer.format(c.pageviews), delta(c.pageviews, p.pageviews)],
    ['Sessions', integer.format(c.sessions), delta(c.sessions, p.sessions)],
    ['Bounce rate', percent(c.bounceRate), delta(c.bounceRate, p.bounceRate, true)],
    ['Visit duration', formatDuration(c.visitDuration), delta(c.visitDuration, p.visitDuration)],
  ];
  container.replaceChildren(
    ...cards.map(([label, value, change]) =>
      el(
        'div',
        { class: 'card', 'data-metric': label },
        el('div', { class: 'label' }, label),
        el('div', { class: 'value' }, value),
        change,
      ),
    ),
  );
}

/**
 * A ranked table. Each row: `display` (shown), `visitors`, `count` (events or visits) and, when
 * the row can filter the dashboard, `filter` ({dimension, value}); such rows are buttons.
 */
export function renderRows(table, { label, countLabel, rows }) {
  if (rows.length === 0) {
    table.replaceChildren(el('tr', {}, el('td', { class: 'none' }, 'Nothing in this range')));
    return;
  }
  const max = Math.max(...rows.map((r) => r.visitors), 1);
  table.replaceChildren(
    el(
      'tr',
      {},
      el('th', {}, label),
      el('th', { class: 'num' }, 'Visitors'),
      el('th', { class: 'num' }, countLabel),
    ),
    ...rows.map((r) => {
      const attrs = r.filter
        ? {
            class: 'filterable',
            tabindex: '0',
            title: `Filter by ${r.display}`,
            'data-dimension': r.filter.dimension,
            'data-value': r.filter.value,
          }
        : {};
      return el(
        'tr',
        attrs,
        el(
          'td',
          { class: 'name', title: r.display },
          el('div', { class: 'barfill', style: `width: ${((r.visitors / max) * 100).toFixed(1)}%` }),
          el('span', {}, r.display),
        ),
        el('td', { class: 'num visitors' }, integer.format(r.visitors)),
        el('td', { class: 'num' }, integer.format(r.count)),
      );
    }),
  );
}

/** The active filters as chips; each chip's button removes its filter. */
export function renderChips(container, filters, labels, display) {
  container.replaceChildren(
    ...filters.map((f, i) =>
      el(
        'span',
        { class: 'chip', 'data-dimension': f.dimension, 'data-value': f.value },
        `${labels[f.dimension] ?? f.dimension} is ${display(f.dimension, f.value)}`,
        el(
          'button',
          { type: 'button', class: 'chip-remove', 'data-index': String(i), 'aria-label': 'Remove filter' },
          '×',
        ),
      ),
    ),
  );
  container.hidden = filters.length === 0;
}

/** Goals: name, visitors who converted, completions and the conversion rate; each removable. */
export function renderGoals(container, goals) {
  if (goals.length === 0) {
    container.replaceChildren(
      el('p', { class: 'none' }, 'Add an event name (Signed Up) or a page path (/pricing) as a goal.'),
    );
    return;
  }
  container.replaceChildren(
    el(
      'table',
      { class: 'top goals' },
      el(
        'tr',
        {},
        el('th', {}, 'Goal'),
        el('th', { class: 'num' }, 'Converted'),
        el('th', { class: 'num' }, 'Completions'),
        el('th', { class: 'num' }, 'Rate'),
        el('th', {}, ''),
      ),
      ...goals.map(({ goal, answer }, i) =>
        el(
          'tr',
          { class: 'goal' },
          el('td', { class: 'name' }, 'page' in goal ? `Visit ${goal.page}` : goal.event),
          el('td', { class: 'num' }, integer.format(answer.converted)),
          el('td', { class: 'num' }, integer.format(answer.completions)),
          el('td', { class: 'num rate' }, `${(answer.conversionRate * 100).toFixed(1)}%`),
          el(
            'td',
            {},
            el(
              'button',
              {
                type: 'button',
                class: 'ghost goal-remove',
                'data-index': String(i),
                'aria-label': 'Remove goal',
              },
              '×',
            ),
          ),
        ),
      ),
    ),
  );
}

export function renderFunnel(container, answer) {
  const first = answer.steps[0]?.visitors ?? 0;
  if (first === 0) {
    container.replaceChildren(el('p', { class: 'none' }, 'Nobody took the first step in this range.'));
    return;
  }
  container.replaceChildren(
    ...answer.steps.map((step, i) =>
      el(
        'div',
        { class: 'step' },
        el('div', { class: 'name' }, `${i + 1}. ${step.event}`),
        el(
          'div',
          { class: 'track' },
          el('div', { class: 'fill', style: `width: ${(step.conversionFromStart * 100).toFixed(1)}%` }),
        ),
        el(
          'div',
          { class: 'figures' },
          `${integer.format(step.visitors)} · ${percent(step.conversionFromStart)}${i > 0 ? ` (${percent(step.conversion)} of previous)` : ''}`,
        ),
      ),
    ),
  );
}

export function renderRetention(table, answer) {
  const width = answer.cohorts.reduce((n, c) => Math.max(n, c.returning.length), 0);
  const head = el('tr', {}, el('th', {}, 'First seen'), el('th', {}, 'Visitors'));
  for (let n = 0; n < width; n++) head.append(el('th', {}, `Day ${n}`));
  const rows = answer.cohorts.map((c) => {
    const tr = el('tr', {}, el('td', { class: 'cohort' }, c.day), el('td', {}, integer.format(c.visitors)));
    c.returning.forEach((count, n) => {
      const share = c.visitors === 0 ? 0 : count / c.visitors;
      // Shade by share; day 0 is always 100% and stays neutral.
      const alpha = n === 0 ? 0.08 : 0.1 + share * 0.8;
      const ink = alpha > 0.55 ? '#fff' : '#1d2433';
      tr.append(
        el(
          'td',
          {
            class: 'cell',
            title: `${count} of ${c.visitors}`,
            style: `background: rgba(79, 107, 237, ${alpha.toFixed(2)}); color: ${ink}`,
          },
          c.visitors === 0 ? '–' : percent(share),
        ),
      );
    });
    return tr;
  });
  table.replaceChildren(head, ...rows);
}
