// The HTML report: reads the report embedded in the page and draws it once.
'use strict';
(() => {
  const doc = JSON.parse(document.getElementById('report-data').textContent);
  const c = doc.config || {};
  document.getElementById('subtitle').textContent =
    `${c.target_function || ''} · ${doc.started_at || ''} · fnstress ${doc.tool_version || ''}`;
  document.title = `fnstress report: ${c.target_function || ''}`;
  FnViews.render(document.getElementById('views'), doc);
})();
