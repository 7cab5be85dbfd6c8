// Drives headless Chromium through a scenario for the end-to-end tests (tests/sdk/).
//
//   node test/e2e/drive.mjs '<json>'
//
// The JSON is {"steps": [...]} with steps run in order:
//   {"goto": url}            open a page (waits for the load event)
//   {"click": selector}      a trusted click (counts for INP)
//   {"wait": ms}             sleep
//   {"waitFor": jsExpr}      wait until the expression is truthy in the page (15 s at most)
//   {"eval": jsExpr}         evaluate in the page
//   {"hide": true}           make the page hidden the way a tab switch does (visibilitychange)
//   {"leave": true}          navigate to about:blank (pagehide), then wait for beacons
// Prints one JSON line: {"ok": bool, "console": [...], "errors": [...], "otlp": [...]}.
import {chromium} from 'playwright-core';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const spec = JSON.parse(process.argv[2] || '{}');
const profile = mkdtempSync(join(tmpdir(), 'vitalsight-chromium-'));
const out = {ok: false, console: [], errors: []};
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: {width: 1280, height: 800},
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.errors.push(String(e && e.message)));
  // The SDK's own OTLP requests, for debugging a failing test.
  out.otlp = [];
  context.on('requestfinished', async (r) => {
    if (r.url().includes('/v1/')) out.otlp.push(`${r.method()} ${r.url()} ${(await r.response().catch(() => null))?.status()}`);
  });
  context.on('requestfailed', (r) => {
    if (r.url().includes('/v1/')) out.otlp.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`);
  });
  for (const step of spec.steps || []) {
    const kinds = ['goto', 'click', 'wait', 'waitFor', 'eval', 'hide', 'leave'].filter((k) => k in step);
    // {"leave": true, "wait": ms} is one step; anything else ambiguous is a harness bug.
    if (kinds.length !== 1 && !(step.leave && kinds.length === 2 && 'wait' in step)) {
      throw new Error(`ambiguous step ${JSON.stringify(step)}`);
    }
    if (step.leave) {
      await page.goto('about:blank');
      await page.waitForTimeout(step.wait || 1000);
    } else if (step.goto) await page.goto(step.goto, {waitUntil: 'load', timeout: 30_000});
    else if (step.click) await page.click(step.click, {timeout: 10_000});
    else if (step.wait) await page.waitForTimeout(step.wait);
    else if (step.waitFor) await page.waitForFunction(step.waitFor, null, {timeout: 15_000});
    else if (step.eval) await page.evaluate(step.eval);
    else if (step.hide) {
      // Headless tabs never become hidden; web-vitals' own tests stub it the same way.
      await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange', {bubbles: true}));
      });
    }
  }
  out.ok = true;
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, {recursive: true, force: true});
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
