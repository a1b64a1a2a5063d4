import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import { callArguments, children, contains, descendantsInScope, dottedName, enclosingStatement, rangeOf } from '../python/syntax';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

type MessageId = 'app' | 'uvicorn' | 'attribute' | 'traceback';

export const SEC305 = defineRule<MessageId>({
  code: 'SEC305',
  name: 'debug-enabled',
  severity: 'suggestion',
  fix: 'sometimes',
  checklist: [12],
  prescan: mayEnableDebug,
  messages: {
    app: '`{call}` enables debug mode, which answers unhandled errors with a traceback',
    uvicorn: '`{call}` runs the server with `debug=True`',
    attribute: '`{target} = True` enables debug mode, which answers unhandled errors with a traceback',
    traceback: 'Exception handler `{handler}` sends the traceback to the client',
  },
  docs: `## What it does
Finds debug mode switched on in code: \`FastAPI(debug=True)\`, \`app.debug = True\`, \`uvicorn.run(..., debug=True)\`,
and exception handlers (decorated with \`@app.exception_handler\` or registered with \`app.add_exception_handler\`,
in any module) that put \`traceback.format_exc()\` (or similar) into the response.

## Why is this bad?
In debug mode Starlette answers an unhandled exception with an HTML page holding the traceback, local source and
file paths. In production that tells an attacker how the authentication code works and where it fails.

## Example
\`\`\`python
from fastapi import FastAPI

app = FastAPI(debug=True)
\`\`\`

## Use instead
\`\`\`python
import os
from fastapi import FastAPI

app = FastAPI(debug=os.environ.get("APP_DEBUG") == "1")
\`\`\`

## Fix safety
Safe: the fix sets \`debug=False\`; it only changes what an unhandled error shows to clients.

## References
- [Starlette: Applications (debug)](https://www.starlette.io/applications/)
- [OWASP: Improper Error Handling](https://owasp.org/www-community/Improper_Error_Handling)
`,
  check(ctx) {
    const { model } = ctx;
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      const callee = model.callee(call);
      if (callee === 'fastapi.FastAPI' || callee === 'starlette.applications.Starlette' || callee === 'uvicorn.run') {
        const debug = callArguments(call).keywords.get('debug');
        if (debug?.type === 'true') {
          reportDebugTrue(ctx, debug, callee === 'uvicorn.run' ? 'uvicorn' : 'app', dottedName(call.childForFieldName('function')) ?? callee);
        }
      }
    }
    for (const node of model.root.descendantsOfType('assignment')) {
      const left = node?.childForFieldName('left');
      const right = node?.childForFieldName('right');
      if (!node || left?.type !== 'attribute' || left.childForFieldName('attribute')?.text !== 'debug' || right?.type !== 'true') continue;
      const ctor = model.resolveInstance(left.childForFieldName('object'));
      if (ctor === 'fastapi.FastAPI()' || ctor === 'starlette.applications.Starlette()') {
        ctx.report({
          node,
          messageId: 'attribute',
          data: { target: left.text },
          fix: { title: 'Set `debug` to `False`', safety: 'safe', edits: [{ range: rangeOf(right), newText: 'False' }] },
        });
      }
    }
    const registered = registeredHandlers(ctx.workspace);
    for (const fn of model.functions) {
      const decorated = fn.decorators.some((d) => d.type === 'call' && /\.exception_handler$/.test(dottedName(d.childForFieldName('function')) ?? ''));
      if (!decorated && !registered.has(`${ctx.file.path}#${fn.qualname}`)) continue;
      for (const { call, callee } of model.callsIn(fn.body)) {
        const formatsTraceback = callee === 'traceback.format_exc' || callee === 'traceback.format_exception' || callee === 'traceback.format_tb';
        if (formatsTraceback && reachesResponse(call, fn.body)) {
          ctx.report({ node: call, messageId: 'traceback', data: { handler: fn.name } });
        }
      }
    }
  },
});

/**
 * `debug=True` / `app.debug = True` (also annotated, or across a line continuation): the keyword or attribute the
 * first two checks need, with the `True` literal they require.
 */
const DEBUG_TRUE = /\bdebug[\s\\]*(?::[^=\n]*)?=[\s\\]*True\b/;
/** The app constructors and `uvicorn.run` resolve through this file's imports (or are written out). */
const SERVER_TEXT = /fastapi|starlette|uvicorn/;
/** Relative imports give such names only inside those packages' own modules. */
const SERVER_MODULE = /^(fastapi|starlette|uvicorn)(\.|$)/;
/** `@app.exception_handler(`: a dotted decorator, as `check` requires. */
const EXCEPTION_HANDLER_DECORATOR = new RegExp(
  String.raw`@(?:[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]|[ \t.]|\\\r?\n)*\.[ \t]*(?:\\\r?\n[ \t]*)*exception_handler(?!\w)`,
);

/**
 * A necessary condition for a finding in `file`: debug switched on for an app or uvicorn, or a `traceback.format_*`
 * call (spelling `traceback` here) in an exception handler decorated here or registered from any module.
 */
function mayEnableDebug(file: WorkspaceFile, ws: Workspace): boolean {
  const text = file.text;
  if (DEBUG_TRUE.test(text) && (SERVER_TEXT.test(text) || SERVER_MODULE.test(file.moduleName))) return true;
  if (!text.includes('traceback')) return false;
  if (EXCEPTION_HANDLER_DECORATOR.test(text)) return true;
  const prefix = `${file.path}#`;
  return [...registeredHandlers(ws)].some((handler) => handler.startsWith(prefix));
}

/**
 * True when the formatted traceback ends up in what the handler returns: written in the `return` itself, or assigned
 * to a name that a `return` uses. A traceback that is only logged stays on the server.
 */
function reachesResponse(call: Node, body: Node): boolean {
  const returns = descendantsInScope(body, 'return_statement');
  if (returns.some((r) => contains(r, call))) return true;
  const statement = enclosingStatement(call);
  const assignment = statement.type === 'expression_statement' ? children(statement)[0] : undefined;
  const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : undefined;
  if (target?.type !== 'identifier') return false;
  const name = new RegExp(`\\b${target.text}\\b`);
  return returns.some((r) => name.test(r.text));
}

/**
 * Handlers registered with `app.add_exception_handler(Exc, handler)`, anywhere in the workspace (the handler is
 * often defined in one module and registered in `main.py`), as `file#qualname`.
 */
function registeredHandlers(ws: Workspace): Set<string> {
  return ws.memo('SEC305:registered-handlers', () => {
    const out = new Set<string>();
    for (const file of ws.filesMentioning(/add_exception_handler/)) {
      const model = ws.model(file.path);
      if (!model) continue;
      for (const call of model.root.descendantsOfType('call')) {
        const fn = call?.childForFieldName('function');
        if (!call || fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'add_exception_handler') continue;
        const args = callArguments(call);
        const handler = model.resolve(args.keywords.get('handler') ?? args.positional[1]);
        const target = handler ? ws.locate(handler) : undefined;
        if (target && target.member) out.add(`${target.file.path}#${target.member}`);
      }
    }
    return out;
  });
}

function reportDebugTrue(ctx: RuleContext<MessageId>, debug: Node, messageId: MessageId, call: string): void {
  ctx.report({
    node: debug.parent ?? debug,
    messageId,
    data: { call: `${call}(debug=True)` },
    fix: { title: 'Set `debug=False`', safety: 'safe', edits: [{ range: rangeOf(debug), newText: 'False' }] },
  });
}
