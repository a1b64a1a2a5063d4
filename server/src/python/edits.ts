/**
 * Text edits that fixes share: adding an import where the module's imports are, without duplicating one that
 * exists. Pure functions of a module model; knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import { importedAs, type ModuleModel } from './module-model';
import type { TextEdit } from '../core/types';
import { children } from './syntax';

/**
 * An edit that makes `name` importable from `module` (`from module import name`), or `module` itself when `name`
 * is omitted (`import module`). Undefined when the module already binds it. Returns the local name to use too.
 */
export function ensureImport(model: ModuleModel, module: string, name?: string): { edit?: TextEdit; local: string } {
  const wanted = name ? `${module}.${name}` : module;
  for (const binding of model.imports.values()) {
    if (binding.target === wanted || importedAs(binding) === wanted) return { local: binding.local };
  }
  // `import fastapi` already makes `fastapi.status` reachable.
  if (name) {
    for (const binding of model.imports.values()) {
      if (binding.target === module || importedAs(binding) === module) return { local: `${binding.local}.${name}` };
    }
  }
  const local = name ?? module;
  // Extend an existing single-line `from module import a, b` instead of adding a second one.
  if (name) {
    const existing = topLevelImports(model).find(
      (s) => s.type === 'import_from_statement' && s.childForFieldName('module_name')?.text === module && !s.text.includes('(') && !s.text.includes('\\') && !s.text.includes('*'),
    );
    if (existing) {
      // The grammar accepts a trailing comma (`from m import a, b,`, a syntax error in Python): complete that list.
      const separator = existing.text.trimEnd().endsWith(',') ? ' ' : ', ';
      return { local, edit: { range: pointRange(existing.endPosition.row, existing.endPosition.column), newText: `${separator}${name}` } };
    }
  }
  const line = insertionLine(model);
  return { local, edit: { range: pointRange(line, 0), newText: name ? `from ${module} import ${name}\n` : `import ${module}\n` } };
}

function topLevelImports(model: ModuleModel): Node[] {
  return children(model.root).filter((s) => s.type === 'import_statement' || s.type === 'import_from_statement' || s.type === 'future_import_statement');
}

/** The line after the last top-level import; else after the module docstring; else line 0. */
function insertionLine(model: ModuleModel): number {
  const imports = topLevelImports(model);
  if (imports.length) return imports[imports.length - 1].endPosition.row + 1;
  const first = children(model.root)[0];
  if (first?.type === 'expression_statement' && children(first)[0]?.type === 'string') return first.endPosition.row + 1;
  return 0;
}

function pointRange(line: number, character: number) {
  return { start: { line, character }, end: { line, character } };
}
