/**
 * The class of a local object expression, across files: from a parameter's annotation (`user: User`,
 * `Optional[User]`), a constructor (`User(...)`), an ORM load (`session.get(User, id)`,
 * `session.exec(select(User)...).first()`, `db.query(User).filter(...).first()`), a pydantic validation
 * (`UserOut.model_validate(x)`), or a workspace function's return annotation; and a class's fields including
 * inherited ones. Used to see what `user.model_dump()` puts into a token. Knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { ClassInfo, FieldInfo, FunctionInfo, ModuleModel } from '../python/module-model';
import { callArguments, children, contains, dottedName, stringValue } from '../python/syntax';
import { calledFunction } from './token-index';
import type { Workspace } from './workspace';

export interface ClassRef {
  file: string;
  model: ModuleModel;
  cls: ClassInfo;
}

/** The class `expr` is an instance of, as far as local data flow and annotations tell. */
export function classOfExpression(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo | undefined, expr: Node, depth = 0): ClassRef | undefined {
  if (depth > 4) return undefined;
  if (expr.type === 'await' || expr.type === 'parenthesized_expression') {
    const inner = children(expr)[0];
    return inner ? classOfExpression(ws, file, model, fn, inner, depth + 1) : undefined;
  }
  if (expr.type === 'identifier' && fn) {
    const values = (model.localAssignments(fn.body).get(expr.text) ?? []).filter((v) => v.startIndex < expr.startIndex && !contains(v, expr));
    const last = values[values.length - 1];
    if (last) return classOfExpression(ws, file, model, fn, last, depth + 1);
    const param = fn.params.find((p) => p.name === expr.text);
    if (param?.annotation) return classOfAnnotation(ws, file, model, param.annotation);
    return undefined;
  }
  if (expr.type !== 'call') return undefined;
  const callee = expr.childForFieldName('function');
  const args = callArguments(expr);
  // `X(...)`: a class constructor.
  const direct = classNamed(ws, file, model, callee);
  if (direct) return direct;
  if (callee?.type === 'attribute') {
    const method = callee.childForFieldName('attribute')?.text ?? '';
    const object = callee.childForFieldName('object');
    // `session.get(User, id)`, `await db.get(User, id)`.
    if (method === 'get' && args.positional.length >= 2) {
      const cls = classNamed(ws, file, model, args.positional[0]);
      if (cls) return cls;
    }
    // `User.model_validate(x)`, `User.from_orm(x)`, `User.parse_obj(x)`.
    if (/^(model_validate|from_orm|parse_obj|model_construct|construct)$/.test(method)) {
      const cls = classNamed(ws, file, model, object);
      if (cls) return cls;
    }
    // Query chains: the class in the innermost `select(X)` / `query(X)`.
    const queried = queriedClass(ws, file, model, expr);
    if (queried) return queried;
  }
  const target = calledFunction(ws, file, model, expr);
  const returns = target?.fn.node.childForFieldName('return_type');
  if (target && returns) return classOfAnnotation(ws, target.file, target.model, returns);
  return undefined;
}

/** The class an annotation names, unwrapping `Optional[X]`, `X | None`, `Annotated[X, ...]` and `"X"`. */
export function classOfAnnotation(ws: Workspace, file: string, model: ModuleModel, annotation: Node, depth = 0): ClassRef | undefined {
  if (depth > 4) return undefined;
  const expr = annotation.type === 'type' ? children(annotation)[0] : annotation;
  if (!expr) return undefined;
  if (expr.type === 'string') {
    const name = stringValue(expr);
    return name && /^[\w.]+$/.test(name) ? classByQualified(ws, model.resolveDotted(name)) : undefined;
  }
  if (expr.type === 'binary_operator') {
    for (const side of [expr.childForFieldName('left'), expr.childForFieldName('right')]) {
      const cls = side && side.type !== 'none' ? classOfAnnotation(ws, file, model, side, depth + 1) : undefined;
      if (cls) return cls;
    }
    return undefined;
  }
  if (expr.type === 'generic_type' || expr.type === 'subscript') {
    const params = expr.type === 'subscript' ? expr.childrenForFieldName('subscript') : children(children(expr)[1] ?? expr);
    for (const p of params) {
      const cls = p ? classOfAnnotation(ws, file, model, p, depth + 1) : undefined;
      if (cls) return cls;
    }
    return undefined;
  }
  return classNamed(ws, file, model, expr);
}

function classNamed(ws: Workspace, file: string, model: ModuleModel, node: Node | null | undefined): ClassRef | undefined {
  const name = dottedName(node);
  if (!name) return undefined;
  if (!name.includes('.')) {
    const local = model.topLevelClass(name);
    if (local) return { file, model, cls: local };
  }
  return classByQualified(ws, model.resolveDotted(name));
}

function classByQualified(ws: Workspace, qualified: string, depth = 0): ClassRef | undefined {
  if (depth > 4) return undefined;
  const loc = ws.locate(qualified);
  if (!loc || !loc.member || loc.member.includes('.')) return undefined;
  const other = ws.model(loc.file.path);
  if (!other) return undefined;
  const cls = other.topLevelClass(loc.member);
  if (cls) return { file: loc.file.path, model: other, cls };
  const binding = other.imports.get(loc.member);
  return binding && binding.target !== qualified ? classByQualified(ws, binding.target, depth + 1) : undefined;
}

function queriedClass(ws: Workspace, file: string, model: ModuleModel, call: Node): ClassRef | undefined {
  for (const inner of call.descendantsOfType('call')) {
    if (!inner) continue;
    const name = dottedName(inner.childForFieldName('function')) ?? '';
    if (!/(^|\.)(select|query)$/.test(name)) continue;
    const first = callArguments(inner).positional[0];
    const cls = classNamed(ws, file, model, first);
    if (cls) return cls;
  }
  return undefined;
}

/** The class's fields with those it inherits from workspace base classes (own fields win). */
export function allFields(ws: Workspace, ref: ClassRef, depth = 0): Map<string, FieldInfo & { owner: string }> {
  const out = new Map<string, FieldInfo & { owner: string }>();
  if (depth > 5) return out;
  for (const base of ref.cls.bases) {
    const baseRef = classNamed(ws, ref.file, ref.model, base.type === 'subscript' ? base.childForFieldName('value') : base);
    if (baseRef && baseRef.cls !== ref.cls) for (const [k, v] of allFields(ws, baseRef, depth + 1)) out.set(k, v);
  }
  for (const [k, v] of ref.cls.fields) out.set(k, { ...v, owner: ref.cls.name });
  return out;
}
