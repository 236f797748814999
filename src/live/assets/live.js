// The live dashboard: asks /api/stats once a second and redraws every section, until the run
// has finished (the server may linger to show the final state).
'use strict';
(() => {
  const state = document.getElementById('state');
  const bar = document.getElementById('progress-bar');
  const text = document.getElementById('progress-text');
  const views = document.getElementById('views');

  function show(doc) {
    const live = doc.live;
    state.textContent = live.state;
    state.className = `state ${live.state}`;
    bar.style.width = `${(live.progress * 100).toFixed(1)}%`;
    const planned = [live.duration_s != null ? `${live.duration_s}s` : null,
      live.requests != null ? `${FnViews.num(live.requests)} invocations` : null]
      .filter(Boolean).join(' or ');
    const rate = live.target_rate != null ? ` · target ${live.target_rate.toFixed(1)}/s` : '';
    text.textContent = `${live.elapsed_s.toFixed(0)}s of ${planned} · ` +
      `${live.active_workers}/${live.concurrency} workers active${rate}`;
    FnViews.render(views, doc);
  }

  async function poll() {
    let finished = false;
    try {
      const response = await fetch('/api/stats', { cache: 'no-store' });
      const doc = await response.json();
      show(doc);
      finished = doc.live.state === 'finished';
    } catch (e) {
      state.textContent = 'disconnected';
      state.className = 'state error';
    }
    if (!finished) setTimeout(poll, 1000);
  }
  poll();
})();
