// Opens an fnstress page in Debian's headless chromium and prints what a person would see,
// as one JSON object on stdout, for the Rust integration tests to check.
//
//   node check.mjs live URL SHOT.png        charts of the live dashboard, read twice
//   node check.mjs report FILE SHOT.png     sections and charts of an HTML report
//   node check.mjs gateway URL NAME SHOT.png the execution count shown for function NAME
import { chromium } from 'playwright-core';

const [mode, target, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = { consoleErrors: [], foreignRequests: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', m => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', e => result.consoleErrors.push(String(e)));
  const url = mode === 'report' ? `file://${target}` : target;
  const origin = new URL(url).origin;
  page.on('request', r => {
    if (new URL(r.url()).origin !== origin) result.foreignRequests.push(r.url());
  });
  await page.goto(url);
  const points = () => page.$$eval('section', all => Object.fromEntries(all.map(s =>
    [s.id, [...s.querySelectorAll('svg')].map(svg => Number(svg.dataset.points))])));

  if (mode === 'live') {
    await page.waitForFunction(() => {
      const svg = document.querySelector('#rate svg');
      return svg && Number(svg.dataset.points) > 0;
    }, null, { timeout: 20000 });
    result.first = await points();
    await page.waitForTimeout(2500);
    result.second = await points();
    result.state = await page.textContent('#state');
    await page.screenshot({ path: rest[0], fullPage: true });
  } else if (mode === 'report') {
    await page.waitForSelector('#summary');
    result.points = await points();
    result.title = await page.title();
    result.text = await page.innerText('main');
    await page.screenshot({ path: rest[0], fullPage: true });
  } else if (mode === 'gateway') {
    const selector = `[id="fn-${rest[0]}"] [data-metric="execution_count"]`;
    await page.waitForSelector(selector, { timeout: 10000 });
    // Two refreshes, so the rate chart has a point.
    await page.waitForTimeout(2200);
    result.executions = await page.textContent(selector);
    result.points = await points();
    if (rest[1]) await page.screenshot({ path: rest[1], fullPage: true });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
