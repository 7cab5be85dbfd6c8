// Builds dist/esm (one ES module per source file, for npm and tree-shaking bundlers) and
// dist/vitalsight.iife.js (everything incl. web-vitals, minified, global `vitalsight`).
// Types are emitted by `tsc` in `npm run build`.
import {build} from 'esbuild';
import {readdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) =>
  readdirSync(dir, {withFileTypes: true}).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []);

/** Shared by the IIFE build and scripts/size.mjs, so the budgets measure what ships. */
export const minifyOptions = {
  bundle: true,
  minify: true,
  // Private fields start with `_` (see STYLE.md) so they can be shortened safely.
  mangleProps: /^_/,
  target: 'es2020',
  // Class fields (web-vitals' classes) and `||=` as they are: evergreen browsers have both, and
  // lowering them costs bytes (class fields become defineProperty calls through a helper).
  supported: {'class-field': true, 'logical-assignment': true},
  legalComments: 'none',
  logLevel: 'warning',
};

export const buildAll = async () => {
  rmSync(join(root, 'dist/esm'), {recursive: true, force: true});
  await build({
    entryPoints: walk(join(root, 'src')).filter((f) => !f.endsWith('/iife.ts')),
    outdir: join(root, 'dist/esm'),
    outbase: join(root, 'src'),
    format: 'esm',
    target: 'es2020',
    logLevel: 'warning',
  });
  await build({
    ...minifyOptions,
    entryPoints: [join(root, 'src/iife.ts')],
    outfile: join(root, 'dist/vitalsight.iife.js'),
    format: 'iife',
    // V8's compile hint (Chromium 136+; others ignore the comment): every function of the file
    // is compiled with the script, on the streaming thread while it downloads, instead of on the
    // main thread when first called (while the page loads: init(), the request wrappers; after
    // the load: web-vitals, the transport). Only on the first line of the file; see README, "Budgets".
    banner: {js: '//# allFunctionsCalledOnLoad'},
  });
};

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildAll();
