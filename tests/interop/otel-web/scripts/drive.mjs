// Opens one page in headless Debian Chromium (playwright-core, no browser download) and
// waits for the scenario in src/app.js to finish (window.__otelInterop.done).
//
//   node scripts/drive.mjs <url> [timeoutMs]
//
// Prints one JSON line: {"ok", "state", "console", "errors", "otlp", "failure"?}; `otlp` lists
// the OTLP requests the page made ({method, url, status}).
import {chromium} from 'playwright-core';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const [url, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg || 30_000);
const profile = mkdtempSync(join(tmpdir(), 'otel-web-interop-chromium-'));
const out = {ok: false, state: null, console: [], errors: [], otlp: []};
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.errors.push(String(e && e.message)));
  // The exporter's requests, recorded as their responses arrive (preflights are not
  // surfaced by Chromium to Playwright).
  const otlp = (r) => r.url().includes('/v1/');
  context.on('request', (r) => otlp(r) && out.otlp.push({method: r.method(), url: r.url(), status: null}));
  context.on('response', (res) => {
    const entry = out.otlp.find((e) => e.url === res.url() && e.status === null);
    if (entry) entry.status = res.status();
  });
  context.on('requestfailed', (r) => {
    const entry = out.otlp.find((e) => e.url === r.url() && e.status === null);
    if (entry) entry.status = `failed: ${r.failure()?.errorText}`;
  });
  await page.goto(url, {waitUntil: 'load', timeout});
  await page.waitForFunction(() => window.__otelInterop && window.__otelInterop.done, null, {timeout});
  out.state = await page.evaluate(() => window.__otelInterop);
  // forceFlush() resolved in the page; let the exporter's response events reach us too.
  const settle = Date.now() + 5_000;
  while ((!out.otlp.length || out.otlp.some((e) => e.status === null)) && Date.now() < settle) {
    await page.waitForTimeout(50);
  }
  out.ok = Boolean(out.state && out.state.ok);
} catch (e) {
  out.failure = String((e && e.stack) || e);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, {recursive: true, force: true});
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
