// Draws one run into sections: summary, rate, latency and errors over time, latency
// distribution, operations, workers, status codes and errors. The input is the JSON report
// (or the live /api/stats, which has the same shape), so a saved report and a running test
// look alike.
'use strict';
const FnViews = (() => {
  const GREEN = '#2a9d8f', RED = '#e63946', BLUE = '#457b9d', ORANGE = '#f4a261';
  const KIND_COLORS = { throttled: '#f4a261', http_error: '#e63946', function_error: '#9b5de5',
    timeout: '#6c757d', connect_error: '#264653', io_error: '#e9c46a', cancelled: '#adb5bd' };
  const MAX_WORKER_BARS = 200;

  const num = n => (n ?? 0).toLocaleString('en-US');
  const ms = us => us == null ? '-' : `${(us / 1000).toFixed(us < 10000 ? 2 : 1)} ms`;
  const axisMs = us => `${+(us / 1000).toPrecision(3)}`;
  const secs = s => `${s}s`;

  function node(tag, attrs, ...children) {
    const n = document.createElement(tag);
    Object.assign(n, attrs || {});
    n.append(...children.filter(c => c != null));
    return n;
  }

  function section(root, id, title, wide) {
    const s = node('section', { id, className: wide ? 'wide' : '' }, node('h2', {}, title));
    root.appendChild(s);
    return s;
  }

  function chartBox(parent) {
    return parent.appendChild(node('div', { className: 'chart' }));
  }

  // `text` lists the columns holding words (left-aligned); the rest are numbers.
  function table(parent, head, rows, text = [0]) {
    const cls = i => text.includes(i) ? 'text' : '';
    const t = node('table', {},
      node('tr', {}, ...head.map((h, i) => node('th', { className: cls(i) }, h))));
    for (const row of rows) {
      t.appendChild(node('tr', {}, ...row.map((c, i) => node('td', { className: cls(i) }, c))));
    }
    parent.appendChild(rows.length ? t : node('p', { className: 'empty' }, 'none'));
  }

  function summary(root, doc) {
    const s = section(root, 'summary', 'Summary', true);
    const t = doc.totals || {}, l = doc.latency || {}, c = doc.config || {};
    const cards = [
      ['completed', num(t.completed)], ['per second', (t.rate_per_s ?? 0).toFixed(1)],
      ['success rate', `${((t.success_rate ?? 0) * 100).toFixed(1)} %`],
      ['errors', num(t.errors), t.errors > 0], ['p50', ms(l.p50)], ['p99', ms(l.p99)],
      ['max', ms(l.max)], ['elapsed', `${doc.elapsed_s ?? 0} s`], ['workers', num(c.concurrency)],
    ];
    s.appendChild(node('div', { className: 'cards' }, ...cards.map(([k, v, bad]) =>
      node('div', { className: bad ? 'card bad' : 'card' },
        node('div', { className: 'v' }, v), node('div', { className: 'k' }, k)))));
    const load = c.load ? `${c.load.model} model` : '';
    s.appendChild(node('p', { className: 'note' },
      `${c.method || ''} ${c.url || ''} · ${c.target_function || ''} · ${load}` +
      (doc.started_at ? ` · started ${doc.started_at}` : '') +
      (doc.stop_reason ? ` · stopped by ${doc.stop_reason}` : '')));
  }

  function overTime(root, doc) {
    const tl = doc.timeline || [];
    const pts = key => tl.map(t => [t.second, t[key] ?? 0]);
    Charts.line(chartBox(section(root, 'rate', 'Rate over time (per second)')), {
      series: [
        { name: 'completed', color: BLUE, points: pts('completed') },
        { name: 'success', color: GREEN, points: pts('success') },
        { name: 'errors', color: RED, points: pts('errors') },
      ], xFormat: secs, yFormat: num, minXSpan: 5,
    });
    Charts.line(chartBox(section(root, 'latency', 'Latency over time (ms)')), {
      series: [
        { name: 'p50', color: BLUE, points: pts('p50_us') },
        { name: 'p95', color: ORANGE, points: pts('p95_us') },
        { name: 'p99', color: RED, points: pts('p99_us') },
      ], xFormat: secs, yFormat: axisMs, minXSpan: 5,
    });
    const kinds = Object.keys(KIND_COLORS).filter(k => tl.some(t => (t.kinds || {})[k]));
    const errors = section(root, 'errors-over-time', 'Errors by kind over time (per second)');
    Charts.line(chartBox(errors), {
      series: kinds.map(k => ({ name: k.replace('_', ' '), color: KIND_COLORS[k],
        points: tl.map(t => [t.second, (t.kinds || {})[k] || 0]) })),
      xFormat: secs, yFormat: num, minXSpan: 5,
    });
  }

  function distribution(root, doc) {
    const d = doc.distribution;
    const s = section(root, 'distribution', 'Latency distribution');
    if (!d) return s.appendChild(node('p', { className: 'empty' }, 'no completed invocation'));
    Charts.bars(chartBox(s), {
      labels: d.bins.map(b => axisMs(b[0])),
      series: [{ name: 'invocations by latency (ms, log-spaced bins)', color: BLUE,
        values: d.bins.map(b => b[2]) }], yFormat: num, stacked: true,
    });
    const nines = q => Math.min(-Math.log10(Math.max(1 - q, 1e-5)), 5);
    Charts.line(chartBox(s), {
      series: [{ name: 'latency at percentile (ms)', color: RED,
        points: d.percentiles.map(([q, us]) => [nines(q), us]) }],
      xTicks: [[0, '0%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%'], [5, '99.999%']],
      yFormat: axisMs,
    });
  }

  function operations(root, doc) {
    const ops = doc.operations || [];
    const s = section(root, 'operations', 'Operations');
    Charts.bars(chartBox(s), {
      labels: ops.map(o => o.name), stacked: true, yFormat: num,
      series: [
        { name: 'success', color: GREEN, values: ops.map(o => o.success) },
        { name: 'errors', color: RED, values: ops.map(o => o.errors) },
      ],
    });
    table(s, ['operation', 'count', 'success', 'errors', 'cancelled', 'p50', 'p99'],
      ops.map(o => [o.name, num(o.started), num(o.success), num(o.errors), num(o.cancelled),
        ms(o.latency && o.latency.p50), ms(o.latency && o.latency.p99)]));
  }

  function workers(root, doc) {
    const ws = doc.workers || [];
    const group = Math.ceil(ws.length / MAX_WORKER_BARS) || 1;
    const labels = [], ok = [], bad = [];
    for (let i = 0; i < ws.length; i += group) {
      const part = ws.slice(i, i + group);
      labels.push(group === 1 ? `${i}` : `${i}-${i + part.length - 1}`);
      ok.push(part.reduce((a, w) => a + w.success, 0));
      bad.push(part.reduce((a, w) => a + w.errors, 0));
    }
    const s = section(root, 'workers', 'Workers (successes and errors)');
    Charts.bars(chartBox(s), {
      labels, stacked: true, yFormat: num,
      series: [{ name: 'success', color: GREEN, values: ok },
        { name: 'errors', color: RED, values: bad }],
    });
    if (group > 1) s.appendChild(node('p', { className: 'note' }, `${group} workers per bar`));
  }

  function statusAndErrors(root, doc) {
    const s = section(root, 'status', 'Status codes and errors');
    const codes = Object.entries(doc.status_codes || {});
    Charts.bars(chartBox(s), {
      labels: codes.map(([c]) => c), yFormat: num,
      series: [{ name: 'answers by HTTP status', color: BLUE, values: codes.map(([, n]) => n) }],
    });
    table(s, ['kind', 'message', 'count'],
      (doc.errors || []).map(e => [e.kind.replace('_', ' '), e.message, num(e.count)]), [0, 1]);
  }

  // Replaces the contents of `root` with every section of `doc`.
  function render(root, doc) {
    const fresh = document.createDocumentFragment();
    summary(fresh, doc);
    overTime(fresh, doc);
    distribution(fresh, doc);
    operations(fresh, doc);
    workers(fresh, doc);
    statusAndErrors(fresh, doc);
    root.replaceChildren(fresh);
  }

  return { render, num, ms };
})();
