/**
 * Cross-file facts about the functions around JWT verification: whether a workspace function decodes a JWT
 * (the usual `decode_token(token)` helper), and where a function is called or injected with `Depends(...)`.
 * Memoized per workspace state; knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace, WorkspaceFile } from './workspace';
import { jwtCallsIn } from '../python/jwt-libs';

/** The workspace function a qualified name (`app.security.decode_token`) refers to, if it is a top-level one. */
export function workspaceFunction(ws: Workspace, qualified: string): { file: WorkspaceFile; model: ModuleModel; fn: FunctionInfo } | undefined {
  const located = ws.locate(qualified);
  if (!located || !located.member || located.member.includes('.')) return undefined;
  const model = ws.model(located.file.path);
  const fn = model?.topLevelFunction(located.member);
  return model && fn ? { file: located.file, model, fn } : undefined;
}

/**
 * True when the function `qualified` names verifies a JWT itself, or calls a workspace function that does
 * (followed a few levels: `get_current_user` -> `verify_token` -> `jwt.decode`).
 */
export function functionDecodesJwt(ws: Workspace, qualified: string): boolean {
  return ws.memo(`jwt-helpers:decodes:${qualified}`, () => decodes(ws, qualified, 0, new Set()));
}

function decodes(ws: Workspace, qualified: string, depth: number, seen: Set<string>): boolean {
  if (depth > 3 || seen.has(qualified)) return false;
  seen.add(qualified);
  const target = workspaceFunction(ws, qualified);
  if (!target) return false;
  if (jwtCallsIn(target.model, target.fn.body).some((c) => c.kind === 'decode' || c.kind === 'unverified-claims' || c.kind === 'signing-key')) return true;
  for (const { callee } of target.model.callsIn(target.fn.body)) {
    if (callee && decodes(ws, callee, depth + 1, seen)) return true;
  }
  return false;
}

export interface CallSite {
  file: WorkspaceFile;
  model: ModuleModel;
  /** The call node, or the `Depends(...)` call that injects the function. */
  node: Node;
  /** For injections: the parameter that receives the result. */
  param?: string;
  /** `Depends(f)` outside a parameter (`dependencies=[Depends(f)]`): FastAPI discards the result. */
  discarded?: boolean;
  /** The function the call site is in, if any. */
  caller?: FunctionInfo;
}

/** Calls of (and `Depends`/`Security` injections of) the top-level function `name` of module file `file`. */
export function callSitesOf(ws: Workspace, file: WorkspaceFile, name: string): CallSite[] {
  return ws.memo(`jwt-helpers:callers:${file.path}:${name}`, () => {
    const qualified = file.moduleName ? `${file.moduleName}.${name}` : name;
    const out: CallSite[] = [];
    for (const other of ws.allFiles()) {
      const model = ws.model(other.path);
      if (!model) continue;
      const same = other.path === file.path;
      const matches = (resolved: string | undefined, text: string) =>
        resolved === qualified || (same && text === name) || (!!resolved && resolved.endsWith(`.${name}`) && ws.locate(resolved)?.file.path === file.path);
      for (const fn of model.functions) {
        for (const p of fn.params) {
          const dep = p.marker?.dependency;
          if (dep && matches(model.resolve(dep), dep.text)) out.push({ file: other, model, node: p.marker!.call, param: p.name, caller: fn });
        }
      }
      const markers = new Set(out.filter((s) => s.file.path === other.path).map((s) => s.node.id));
      for (const call of model.root.descendantsOfType('call')) {
        if (!call) continue;
        const fnNode = call.childForFieldName('function');
        if (/(^|\.)(Depends|Security)$/.test(fnNode?.text ?? '') && !markers.has(call.id)) {
          const dep = call.childForFieldName('arguments')?.namedChildren.find((c) => c && c.type !== 'comment' && c.type !== 'keyword_argument');
          if (dep && matches(model.resolve(dep), dep.text)) out.push({ file: other, model, node: call, discarded: true });
          continue;
        }
        if (!fnNode || !matches(model.resolve(fnNode), fnNode.text)) continue;
        let caller: FunctionInfo | undefined;
        for (let p = call.parent; p; p = p.parent) {
          if (p.type === 'function_definition') {
            caller = model.functionAt(p);
            break;
          }
        }
        out.push({ file: other, model, node: call, caller });
      }
    }
    return out;
  });
}
