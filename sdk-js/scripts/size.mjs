// Prints the min+gzip size of each build as a table and fails when one is over its budget.
// "core" is what most apps need: vitals with attribution, errors, fetch/XHR and transport.
import {build} from 'esbuild';
import {readFileSync} from 'node:fs';
import {gzipSync} from 'node:zlib';
import {fileURLToPath} from 'node:url';
import {buildAll, minifyOptions} from './build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const KB = 1024;

/** Entries bundled as an app would (esm, minified, web-vitals included). */
export const ENTRIES = {
  'vitals only': `import {start, vitals} from './src/index.ts'; start(window.o, [vitals]);`,
  'core (vitals+errors+fetch+xhr+transport)': `import {start, vitals, errors, fetchRequests, xhrRequests} from './src/index.ts';
    start(window.o, [vitals, errors, fetchRequests, xhrRequests]);`,
  'everything (init, all signals)': `import {init} from './src/index.ts'; init(window.o);`,
};
const BUDGETS = {
  'core (vitals+errors+fetch+xhr+transport)': 10 * KB,
  'everything (init, all signals)': 16 * KB,
  'dist/vitalsight.iife.js (script tag)': 16 * KB,
};

export const bundle = async (contents) => {
  const r = await build({
    ...minifyOptions,
    stdin: {contents, resolveDir: root, loader: 'ts'},
    format: 'esm',
    write: false,
  });
  return r.outputFiles[0].text;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAll();
  const rows = [];
  for (const [name, src] of Object.entries(ENTRIES)) rows.push([name, await bundle(src)]);
  rows.push(['dist/vitalsight.iife.js (script tag)', readFileSync(`${root}/dist/vitalsight.iife.js`, 'utf8')]);
  let failed = false;
  const line = (a, b, c, d, e) => console.log(`| ${a.padEnd(42)} | ${b.padStart(9)} | ${c.padStart(9)} | ${d.padStart(8)} | ${e.padEnd(4)} |`);
  line('build', 'min', 'min+gzip', 'budget', 'ok');
  console.log(`|${'-'.repeat(44)}|${'-'.repeat(11)}|${'-'.repeat(11)}|${'-'.repeat(10)}|------|`);
  for (const [name, code] of rows) {
    const gz = gzipSync(code, {level: 9}).length;
    const budget = BUDGETS[name];
    const ok = !budget || gz <= budget;
    failed ||= !ok;
    line(name, `${(code.length / KB).toFixed(2)} KB`, `${(gz / KB).toFixed(2)} KB`, budget ? `${budget / KB} KB` : '-', ok ? 'yes' : 'NO');
  }
  if (failed) {
    console.error('size budget exceeded');
    process.exit(1);
  }
}
