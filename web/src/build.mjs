// Builds the embedded pages into ../static: the kiosk, board, kiosks, downloads,
// self check-in and /me bundles
// (esbuild), their HTML and stylesheet, the service worker, and GraphiQL's
// prebuilt files copied from its npm package. The output is committed;
// web/bundle_test.go rebuilds and fails when it differs.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, '..', 'static');
const assets = join(out, 'assets');
rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

await build({
  entryPoints: { kiosk: join(here, 'kiosk.js'), board: join(here, 'board.js'), kiosks: join(here, 'kiosks.js'), downloads: join(here, 'downloads.js'), selfcheckin: join(here, 'selfcheckin.js'), me: join(here, 'me.js'), 'kiosk-sw': join(here, 'sw.js') },
  outdir: assets,
  bundle: true,
  format: 'esm',
  target: ['chrome90', 'safari15'],
  minify: true,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});

for (const f of ['kiosk.html', 'board.html', 'kiosks.html', 'downloads.html', 'selfcheckin.html', 'me.html', 'graphiql.html']) copyFileSync(join(here, f), join(out, f));
for (const f of ['pages.css', 'graphiql-page.css', 'graphiql-init.js']) copyFileSync(join(here, f), join(assets, f));
const nm = join(here, 'node_modules');
for (const f of ['graphiql/graphiql.min.js', 'graphiql/graphiql.min.css', 'react/umd/react.production.min.js', 'react-dom/umd/react-dom.production.min.js']) {
  copyFileSync(join(nm, f), join(assets, f.split('/').pop()));
}
