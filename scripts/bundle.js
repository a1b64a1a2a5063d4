// Bundles the extension with esbuild: the client (dist/client/extension.js) and the language server, both
// CommonJS for Node 20, `vscode` left external (the editor provides it). The server is two files:
// dist/server/server-main.js (the server) and dist/server/server.js, the entry the client starts, a small loader
// (server/src/lsp/loader.ts) that runs server-main.js with a V8 code cache when the client names a folder for it.
// The parser's WASM files stay in grammars/ at the package root, where python/parser.ts looks for them by
// walking up from the bundle's folder; this script makes sure they are there.
// `--outdir DIR` bundles elsewhere than dist/ (a private build while others use dist/).
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
require('./copy-grammars.js');

const outdirAt = process.argv.indexOf('--outdir');
const outdir = path.resolve(root, outdirAt > 0 ? process.argv[outdirAt + 1] : 'dist');

/**
 * web-tree-sitter's Node glue loads `module` and `fs/promises` with dynamic import(), which a script compiled by
 * vm.Script (the loader) cannot run without an experimental callback: those two built-ins are required instead.
 */
const nodeImports = {
  name: 'node-builtin-imports',
  setup(build) {
    build.onLoad({ filter: /[\\/]web-tree-sitter[\\/].*\.m?js$/ }, async (args) => ({
      contents: (await fs.promises.readFile(args.path, 'utf8')).replace(/\bawait import\((["'])(module|fs\/promises)\1\)/g, 'await __nodeImport($1$2$1)'),
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  // Minified to keep the .vsix small. Identifiers are not minified, so stack traces in the Output channel stay
  // readable without keepNames (whose __name() calls on every function cost start-up time).
  minifySyntax: true,
  minifyWhitespace: true,
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
  const serverMain = path.join(outdir, 'server', 'server-main.js');
  await Promise.all([
    esbuild.build({ ...common, entryPoints: ['client/src/extension.ts'], outfile: path.join(outdir, 'client', 'extension.js') }),
    esbuild.build({
      ...common,
      entryPoints: ['server/src/lsp/server.ts'],
      outfile: serverMain,
      banner: { js: `${common.banner.js} const __nodeImport = (id) => Promise.resolve(require(id));` },
      plugins: [nodeImports],
    }),
    esbuild.build({ ...common, entryPoints: ['server/src/lsp/loader.ts'], outfile: path.join(outdir, 'server', 'server.js') }),
  ]);
  // The loader's vm.Script has no dynamic-import callback: an import() left in the server would fail at run time.
  const left = /\bimport\(/.exec(fs.readFileSync(serverMain, 'utf8').replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""'));
  if (left) throw new Error(`${serverMain} still contains a dynamic import(); load that module with require`);
  console.log(`bundled client and server into ${path.relative(root, outdir) || '.'}/ in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
