/**
 * Cross-file symbol lookup: from a qualified name (`app.api.deps.get_current_user`) to the definition that binds
 * it in the workspace (a function, a method, a class, a module-level assignment or a module), following re-exports
 * through `__init__.py` and `from x import y` chains. Knows nothing of FastAPI, auth or rules.
 */
import type { Node } from 'web-tree-sitter';
import type { Assignment, ClassInfo, FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace } from './workspace';
import { children, descendantsInScope, enclosingFunction } from '../python/syntax';

interface Base {
  /** The qualified name of the definition in its own module (after re-exports). */
  qualified: string;
  file: string;
  model: ModuleModel;
}

export type Definition =
  | (Base & { kind: 'function'; fn: FunctionInfo })
  | (Base & { kind: 'class'; cls: ClassInfo })
  | (Base & { kind: 'assignment'; assignment: Assignment })
  | (Base & { kind: 'module' });

/** The workspace definition of `qualified`, or undefined for library names and names the analysis cannot see. */
export function lookup(ws: Workspace, qualified: string | undefined, depth = 0): Definition | undefined {
  if (!qualified || depth > 8) return undefined;
  const clean = qualified.replace(/\(\)$/, '');
  const loc = ws.locate(clean);
  if (!loc) return undefined;
  const model = ws.model(loc.file.path);
  if (!model) return undefined;
  const file = loc.file.path;
  const modName = loc.file.moduleName;
  if (!loc.member) return { kind: 'module', qualified: modName, file, model };
  const parts = loc.member.split('.');
  const head = parts[0];
  const binding = model.imports.get(head);
  // A re-export (`from .deps import get_current_user` in a package `__init__.py`) or an imported name.
  if (binding && !model.topLevelFunction(head) && !model.topLevelClass(head)) {
    const target = [binding.target, ...parts.slice(1)].join('.');
    return target === clean ? undefined : lookup(ws, target, depth + 1);
  }
  const fn = model.topLevelFunction(head);
  if (fn && parts.length === 1) return { kind: 'function', qualified: `${modName}.${head}`, file, model, fn };
  const cls = model.topLevelClass(head);
  if (cls) {
    if (parts.length === 1) return { kind: 'class', qualified: `${modName}.${head}`, file, model, cls };
    const method = cls.methods.get(parts[1]);
    if (method && parts.length === 2) return { kind: 'function', qualified: `${modName}.${head}.${parts[1]}`, file, model, fn: method };
    return undefined;
  }
  const assignment = model.lastAssignment(head);
  if (assignment && parts.length === 1) return { kind: 'assignment', qualified: `${modName}.${head}`, file, model, assignment };
  // `auth_service.verify` where `auth_service = AuthService(...)`: the class's method.
  if (assignment && parts.length === 2 && assignment.value.type === 'call') {
    const ctor = lookup(ws, model.callee(assignment.value), depth + 1);
    const method = ctor?.kind === 'class' ? ctor.cls.methods.get(parts[1]) : undefined;
    if (ctor && method) return { kind: 'function', qualified: `${ctor.qualified}.${parts[1]}`, file: ctor.file, model: ctor.model, fn: method };
  }
  return undefined;
}

/** The function a qualified name denotes: a function, a method, or a callable instance's / class's `__call__`. */
export function lookupCallable(ws: Workspace, qualified: string | undefined, depth = 0): { fn: FunctionInfo; model: ModuleModel; file: string; qualified: string } | undefined {
  const def = lookup(ws, qualified);
  if (!def || depth > 4) return undefined;
  if (def.kind === 'function') {
    // `Depends(require_role("admin"))`: a factory call; the dependency is the nested function it returns.
    if (qualified?.endsWith('()')) {
      for (const ret of descendantsInScope(def.fn.body, 'return_statement')) {
        const value = children(ret)[0];
        const inner = value?.type === 'identifier' ? def.model.functions.find((f) => !f.topLevel && f.name === value.text && contains(def.fn.node, f.node)) : undefined;
        if (inner) return { fn: inner, model: def.model, file: def.file, qualified: `${def.model.moduleName}.${inner.qualname}` };
      }
      return undefined;
    }
    return { fn: def.fn, model: def.model, file: def.file, qualified: def.qualified };
  }
  if (def.kind === 'class') {
    const call = def.cls.methods.get('__call__');
    return call ? { fn: call, model: def.model, file: def.file, qualified: `${def.qualified}.__call__` } : undefined;
  }
  if (def.kind === 'assignment') {
    const value = def.assignment.value;
    // `require_user = JWTBearer()`: the instance's `__call__`; `get_user = other_fn`: an alias.
    if (value.type === 'call') {
      const ctor = lookup(ws, def.model.callee(value));
      if (ctor?.kind === 'class') {
        const call = ctor.cls.methods.get('__call__');
        if (call) return { fn: call, model: ctor.model, file: ctor.file, qualified: `${ctor.qualified}.__call__` };
      }
      return undefined;
    }
    if (value.type === 'identifier' || value.type === 'attribute') return lookupCallable(ws, def.model.resolve(value), depth + 1);
  }
  return undefined;
}

/**
 * The function a call expression invokes, resolved across files: `helper(x)`, `crud.get_item(...)`,
 * `deps.get_current_user`, a method of the same class (`self.verify(...)`).
 */
export function resolveCallTarget(ws: Workspace, file: string, model: ModuleModel, call: Node): { fn: FunctionInfo; model: ModuleModel; file: string; qualified: string } | undefined {
  const fnNode = call.childForFieldName('function');
  if (!fnNode) return undefined;
  if (fnNode.type === 'attribute' && fnNode.childForFieldName('object')?.text === 'self') {
    const owner = enclosingFunction(call);
    const info = owner ? model.functionAt(owner) : undefined;
    const cls = info?.className ? model.classes.find((c) => c.name === info.className) : undefined;
    const method = cls?.methods.get(fnNode.childForFieldName('attribute')?.text ?? '');
    if (method) return { fn: method, model, file, qualified: `${model.moduleName}.${method.qualname}` };
    return undefined;
  }
  if (fnNode.type === 'identifier') {
    // A nested helper defined in the enclosing function is not visible through module-level resolution.
    const owner = enclosingFunction(call);
    const local = owner ? model.functions.find((f) => !f.topLevel && f.name === fnNode.text && f.node.parent && contains(owner, f.node)) : undefined;
    if (local) return { fn: local, model, file, qualified: `${model.moduleName}.${local.qualname}` };
  }
  return lookupCallable(ws, model.resolve(fnNode));
}

function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}
