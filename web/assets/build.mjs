// Bundles caseflow's browser modules and styles into ../static/dist (run: npm ci && npm run build).
// One IIFE bundle per page module (each sets window.Caseflow.<name>), one stylesheet with bpmn-js's
// styles and its icon font beside it. No CDN: everything the pages load comes from here.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = new URL('../static/dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: {
    viewer: 'src/viewer.js',
    modeller: 'src/modeller.js',
    charts: 'src/charts.js',
    forms: 'src/forms.js',
    pages: 'src/pages.js',
    caseflow: 'src/caseflow.css',
    dmn_editor: 'src/dmn_editor.js',
    dmn_editor_styles: 'src/dmn_editor.css',
  },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'fonts/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'info',
});
