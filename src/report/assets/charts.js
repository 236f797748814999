// Hand-made SVG charts for fnstress pages: a line chart and a (stacked) bar chart. Each chart
// records how many data points it draws in data-points, so a test can see it fill up.
'use strict';
const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 640, H = 220, L = 58, R = 12, T = 10, B = 30;

  function svgEl(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  // About `count` round tick values covering [min, max].
  function ticks(min, max, count) {
    if (max <= min) max = min + 1;
    const raw = (max - min) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(v);
    // The axis must reach past the largest value, or the top of the chart is cut off.
    if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
    return out;
  }

  function legend(container, series) {
    const box = document.createElement('div');
    box.className = 'legend';
    for (const s of series) {
      const item = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.background = s.color;
      item.append(swatch, s.name);
      box.appendChild(item);
    }
    container.appendChild(box);
  }

  function frame(container, points) {
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
    svg.dataset.points = String(points);
    container.appendChild(svg);
    return svg;
  }

  function yAxis(svg, yMax, yFormat) {
    const ys = ticks(0, yMax, 4);
    const top = ys[ys.length - 1];
    const y = v => T + (H - T - B) * (1 - v / top);
    for (const v of ys) {
      svgEl('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#e4e7ec' }, svg);
      svgEl('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg)
        .textContent = yFormat(v);
    }
    return y;
  }

  // opts: {series: [{name, color, points: [[x, y], ...]}], xFormat, yFormat, xTicks, minXSpan}
  function line(container, opts) {
    const series = opts.series.filter(s => s.points.length > 0);
    const all = series.flatMap(s => s.points);
    const svg = frame(container, all.length);
    if (all.length === 0) return empty(container, svg);
    const xs = all.map(p => p[0]);
    const xMin = Math.min(...xs), xMax = Math.max(Math.max(...xs), xMin + (opts.minXSpan || 1));
    const y = yAxis(svg, Math.max(...all.map(p => p[1]), 0) || 1, opts.yFormat || String);
    const x = v => L + (W - L - R) * (v - xMin) / (xMax - xMin);
    const xTicks = opts.xTicks || ticks(xMin, xMax, 6).map(v => [v, (opts.xFormat || String)(v)]);
    for (const [v, label] of xTicks) {
      svgEl('text', { x: x(v), y: H - B + 16, 'text-anchor': 'middle' }, svg).textContent = label;
    }
    for (const s of series) {
      const d = s.points.map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
      svgEl('polyline', { points: d, fill: 'none', stroke: s.color, 'stroke-width': 1.8 }, svg);
      if (s.points.length === 1) {
        const [px, py] = s.points[0];
        svgEl('circle', { cx: x(px), cy: y(py), r: 3, fill: s.color }, svg);
      }
    }
    legend(container, series);
  }

  // opts: {labels: [...], series: [{name, color, values: [...]}], yFormat, stacked}
  function bars(container, opts) {
    const n = opts.labels.length;
    const svg = frame(container, n * opts.series.length);
    if (n === 0) return empty(container, svg);
    const totals = opts.labels.map((_, i) => opts.stacked
      ? opts.series.reduce((a, s) => a + s.values[i], 0)
      : Math.max(...opts.series.map(s => s.values[i])));
    const y = yAxis(svg, Math.max(...totals) || 1, opts.yFormat || String);
    const slot = (W - L - R) / n;
    const every = Math.ceil(n / 12);
    opts.labels.forEach((label, i) => {
      let base = 0;
      opts.series.forEach((s, k) => {
        const v = s.values[i];
        const width = opts.stacked ? slot * 0.8 : slot * 0.8 / opts.series.length;
        const x0 = L + slot * i + slot * 0.1 + (opts.stacked ? 0 : width * k);
        const top = y(base + v), bottom = y(base);
        const rect = svgEl('rect', { x: x0, y: top, width: Math.max(width, 0.5),
          height: bottom - top, fill: s.color }, svg);
        svgEl('title', {}, rect).textContent = `${label} ${s.name}: ${v}`;
        if (opts.stacked) base += v;
      });
      if (i % every === 0) {
        svgEl('text', { x: L + slot * (i + 0.5), y: H - B + 16, 'text-anchor': 'middle' }, svg)
          .textContent = label;
      }
    });
    legend(container, opts.series);
  }

  function empty(container, svg) {
    svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, svg)
      .textContent = 'no data yet';
  }

  return { line, bars };
})();
