/**
 * Recognises FastAPI route handlers from their decorators (`@app.get`, `@router.post`, `@api.websocket`), where the
 * object is a `FastAPI(...)` / `APIRouter(...)` instance created in the same module or imported from another
 * workspace module, and middleware functions (`@app.middleware("http")`). A small, self-contained reader for the
 * rules that only need "is this function a route"; the full route graph (prefixes, dependencies) lives elsewhere.
 * Knows nothing of rules or of authentication.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace } from './workspace';

const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace', 'api_route', 'websocket', 'route']);
const APP_CONSTRUCTORS = /^(fastapi\.(routing\.|applications\.)?(FastAPI|APIRouter)|starlette\.(applications\.Starlette|routing\.Router))\(\)$/;

/** True when `fn` is decorated as a route of a FastAPI app or router. */
export function isRouteHandler(ws: Workspace, model: ModuleModel, fn: FunctionInfo): boolean {
  return fn.decorators.some((d) => routeDecoratorObject(d) !== undefined && isAppObject(ws, model, routeDecoratorObject(d)!));
}

/** True for `@app.middleware("http")` functions. */
export function isMiddleware(ws: Workspace, model: ModuleModel, fn: FunctionInfo): boolean {
  return fn.decorators.some((d) => {
    const callee = d.type === 'call' ? d.childForFieldName('function') : undefined;
    const object = callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'middleware' ? callee.childForFieldName('object') : undefined;
    return !!object && isAppObject(ws, model, object);
  });
}

function routeDecoratorObject(decorator: Node): Node | undefined {
  if (decorator.type !== 'call') return undefined;
  const callee = decorator.childForFieldName('function');
  if (callee?.type !== 'attribute') return undefined;
  if (!ROUTE_METHODS.has(callee.childForFieldName('attribute')?.text ?? '')) return undefined;
  return callee.childForFieldName('object') ?? undefined;
}

/** `app` / `router` / `api.router`: an instance of FastAPI or APIRouter, here or in the module it is imported from. */
export function isAppObject(ws: Workspace, model: ModuleModel, object: Node): boolean {
  const local = model.resolveInstance(object);
  if (local && APP_CONSTRUCTORS.test(local)) return true;
  const qualified = model.resolve(object);
  if (!qualified) return false;
  return isAppQualified(ws, qualified, 0);
}

function isAppQualified(ws: Workspace, qualified: string, depth: number): boolean {
  if (depth > 4) return false;
  const loc = ws.locate(qualified);
  if (!loc || !loc.member || loc.member.includes('.')) return false;
  const other = ws.model(loc.file.path);
  if (!other) return false;
  const binding = other.imports.get(loc.member);
  if (binding) return binding.target !== qualified && isAppQualified(ws, binding.target, depth + 1);
  const value = other.lastAssignment(loc.member)?.value;
  if (value?.type !== 'call') return false;
  const ctor = other.callee(value);
  return !!ctor && APP_CONSTRUCTORS.test(`${ctor}()`);
}
