// Bundles the extension with esbuild: the client (dist/client/extension.js) and the language server
// (dist/server/server.js), both CommonJS for Node 20, `vscode` left external (the editor provides it).
// The parser's WASM files stay in grammars/ at the package root, where python/parser.ts looks for them by
// walking up from the bundle's folder; this script makes sure they are there.
const path = require('path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
require('./copy-grammars.js');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  // Minified to keep the .vsix small; names are kept so stack traces in the Output channel stay readable.
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  sourcemap: process.argv.includes('--sourcemap') ? 'linked' : false,
  logLevel: 'warning',
  // web-tree-sitter's ESM build (picked for our `import`s) reads import.meta.url to find itself; in a CommonJS
  // bundle that is the bundle's own file URL.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  absWorkingDir: root,
};

async function main() {
  const started = Date.now();
  await Promise.all([
    esbuild.build({ ...common, entryPoints: ['client/src/extension.ts'], outfile: 'dist/client/extension.js' }),
    esbuild.build({ ...common, entryPoints: ['server/src/lsp/server.ts'], outfile: 'dist/server/server.js' }),
  ]);
  console.log(`bundled client and server into dist/ in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
