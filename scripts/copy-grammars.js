// Copies the two WASM files the parser needs into grammars/, where the shipped extension and CLI load them.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const files = [
  ['web-tree-sitter/tree-sitter.wasm', 'tree-sitter.wasm'],
  ['tree-sitter-python/tree-sitter-python.wasm', 'tree-sitter-python.wasm'],
];
fs.mkdirSync(path.join(root, 'grammars'), { recursive: true });
for (const [from, to] of files) {
  fs.copyFileSync(require.resolve(from, { paths: [root] }), path.join(root, 'grammars', to));
}
