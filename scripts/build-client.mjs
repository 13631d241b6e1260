// Bundles the demo page's script: client-demo/src/main.ts -> client-demo/dist/main.js (+ .map).
// index.html and style.css are served from client-demo/ as they are.
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'client-demo/src/main.ts');
const outfile = path.join(root, 'client-demo/dist/main.js');

const started = performance.now();
try {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    sourcemap: true,
    logLevel: 'warning',
  });
  const { size } = await stat(outfile);
  const ms = Math.round(performance.now() - started);
  console.log(`built ${path.relative(root, outfile)} (${(size / 1024).toFixed(0)} KiB) in ${ms} ms`);
} catch (err) {
  // esbuild has already printed its diagnostics for build errors.
  if (!err?.errors) console.error(err);
  console.error('client build failed');
  process.exit(1);
}
