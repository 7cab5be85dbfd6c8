// Bundles src/app.js (the official OpenTelemetry browser SDK + the scenario) into one IIFE,
// dist/app.iife.js, loaded by fixtures/index.html.
import {build} from 'esbuild';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['src/app.js'],
  outfile: 'dist/app.iife.js',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  logLevel: 'warning',
});
