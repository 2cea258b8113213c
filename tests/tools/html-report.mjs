// Opens a kridik HTML report in Debian's Chromium (headless, through
// Playwright), works its filters like a reader would and takes a screenshot.
// Prints one JSON object with what it saw; the Rust test asserts on it.
// Usage: node html-report.mjs REPORT.html SCREENSHOT.png
import { chromium } from 'playwright-core';

const [report, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.KRIDIK_CHROMIUM || '/usr/bin/chromium',
  // This machine's network is closed: keep Chromium from dialling out.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const console_ = [];
  const external = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console_.push(m.text()); });
  page.on('pageerror', (e) => console_.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) external.push(r.url()); });
  await page.goto('file://' + report, { waitUntil: 'load' });

  const visible = () => page.$$eval('#findings tbody tr', (rows) => rows.filter((r) => getComputedStyle(r).display !== 'none').length);
  const seen = { console: console_, external, title: await page.title() };
  seen.all = await visible();
  for (const s of ['high', 'medium', 'low', 'info']) await page.uncheck(`#sev-${s}`);
  seen.criticalOnly = await visible();
  seen.shownCounter = Number(await page.textContent('#shown'));
  for (const s of ['high', 'medium', 'low', 'info']) await page.check(`#sev-${s}`);
  await page.fill('#filter-text', 'ist-authz-001');
  seen.byText = await visible();
  await page.fill('#filter-text', '');
  await page.check('#filter-open');
  seen.openOnly = await visible();
  await page.uncheck('#filter-open');
  seen.pathArrows = await page.$$eval('#attack-graph line', (l) => l.length);
  seen.pathNodes = await page.$$eval('#attack-graph g.node', (g) => g.length);
  seen.pathTargets = await page.$$eval('#attack-graph g.target', (g) => g.length);
  // Every arrow carries its label (transport, what allows it), none drawn empty.
  seen.edgeLabels = await page.$$eval('#attack-graph g.edge', (gs) =>
    gs.map((g) => [...g.querySelectorAll('text')].map((t) => t.textContent.trim()).filter((t) => t).length));
  // Labels are laid out clear of every node box.
  seen.labelsOverNodes = await page.$$eval('#attack-graph', ([svg]) => {
    const boxes = [...svg.querySelectorAll('g.node rect')].map((r) => r.getBoundingClientRect());
    return [...svg.querySelectorAll('text.edge-label')].filter((t) => {
      const a = t.getBoundingClientRect();
      return boxes.some((b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top);
    }).length;
  });
  seen.pillars = await page.$$eval('#pillars tbody tr', (r) => r.length);
  seen.scoreCard = await page.textContent('#score');
  // Check ids never break across lines (a wrapped id is taller than one line).
  await page.setViewportSize({ width: 700, height: 900 });
  seen.ids = await page.$$eval('.id', (els) => els.length);
  seen.wrappedIds = await page.$$eval('.id', (els) =>
    els.filter((e) => {
      if (e.offsetParent === null) return false;
      const r = document.createRange();
      r.selectNodeContents(e);
      return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size > 1;
    }).length);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
