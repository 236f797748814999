// The gateway's metrics dashboard: reads GET /metrics (JSON) once a second and shows each
// function's executions, average duration, errors, cold starts and custom metrics, plus the
// execution rate since the page was opened. With an API key set, it asks for the key once
// and keeps it for this tab only.
'use strict';
(() => {
  const COLORS = ['#457b9d', '#2a9d8f', '#e76f51', '#9b5de5', '#e9c46a', '#264653'];
  const HISTORY = 120;
  const history = {};
  let previous = null;
  let asked = false;
  const state = document.getElementById('state');

  function node(tag, attrs, ...children) {
    const n = document.createElement(tag);
    Object.assign(n, attrs || {});
    n.append(...children.filter(c => c != null));
    return n;
  }

  function table(head, rows) {
    if (rows.length === 0) return node('p', { className: 'empty' }, 'none yet');
    return node('table', {}, node('tr', {}, ...head.map(h => node('th', {}, h))),
      ...rows.map(r => node('tr', {}, ...r.map((c, i) =>
        node('td', { className: i === 0 ? 'text' : '' }, String(c))))));
  }

  function card(key, label, value, bad) {
    const v = node('div', { className: 'v' }, String(value));
    v.dataset.metric = key;
    return node('div', { className: bad ? 'card bad' : 'card' }, v,
      node('div', { className: 'k' }, label));
  }

  function functionSection(f) {
    const s = node('section', { id: `fn-${f.function}` }, node('h2', {}, f.function));
    s.append(node('div', { className: 'cards' },
      card('execution_count', 'executions', FnViews.num(f.execution_count)),
      card('average_duration_ms', 'average duration', `${f.average_duration_ms.toFixed(1)} ms`),
      card('error_count', 'errors', FnViews.num(f.error_count), f.error_count > 0),
      card('cold_starts', 'cold starts', FnViews.num(f.cold_starts))));
    s.append(node('p', { className: 'note' }, `last execution: ${f.last_execution || 'never'}`));
    s.append(table(['operation', 'executions', 'errors', 'average ms'],
      Object.entries(f.operations).map(([name, o]) => [name, FnViews.num(o.execution_count),
        FnViews.num(o.error_count), o.average_duration_ms.toFixed(1)])));
    s.append(node('h2', {}, 'custom metrics'));
    s.append(table(['metric', 'count', 'total ms'],
      Object.entries(f.custom_metrics).map(([name, m]) => [name, FnViews.num(m.count),
        m.total_duration_ms.toFixed(1)])));
    return s;
  }

  function recordRates(doc, now) {
    for (const [name, f] of Object.entries(doc.functions)) {
      const points = history[name] || (history[name] = []);
      if (previous && previous.doc.functions[name]) {
        const seconds = Math.max((now - previous.at) / 1000, 1e-3);
        const delta = f.execution_count - previous.doc.functions[name].execution_count;
        points.push([doc.uptime_seconds, Math.max(delta, 0) / seconds]);
        if (points.length > HISTORY) points.shift();
      }
    }
    previous = { doc, at: now };
  }

  function show(doc) {
    state.textContent = 'live';
    state.className = 'state running';
    document.getElementById('uptime').textContent = `up ${Math.round(doc.uptime_seconds)} s`;
    recordRates(doc, Date.now());
    const chart = document.querySelector('#rates .chart');
    chart.replaceChildren();
    Charts.line(chart, {
      series: Object.keys(history).map((name, i) => ({ name, color: COLORS[i % COLORS.length],
        points: history[name] })),
      xFormat: s => `${Math.round(s)}s`, yFormat: v => `${+v.toPrecision(3)}`, minXSpan: 10,
    });
    document.getElementById('functions')
      .replaceChildren(...Object.values(doc.functions).map(functionSection));
    document.querySelector('#rejections div').replaceChildren(table(['reason', 'count'],
      Object.entries(doc.rejections).map(([why, n]) => [why.replace(/_/g, ' '), n])));
  }

  async function poll() {
    const headers = { Accept: 'application/json' };
    const key = sessionStorage.getItem('fnstress-api-key');
    if (key) headers['X-API-Key'] = key;
    try {
      const response = await fetch('/metrics', { headers, cache: 'no-store' });
      if (response.status === 401) {
        const given = asked ? null : prompt('This gateway needs its API key to show metrics:');
        asked = !given;
        if (given) sessionStorage.setItem('fnstress-api-key', given);
        throw new Error('API key needed');
      }
      show(await response.json());
    } catch (e) {
      state.textContent = `not connected: ${e.message}`;
      state.className = 'state error';
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
