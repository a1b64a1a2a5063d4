import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import { callArguments, dottedName, rangeOf } from '../python/syntax';

type MessageId = 'app' | 'uvicorn' | 'attribute' | 'traceback';

export const SEC305 = defineRule<MessageId>({
  code: 'SEC305',
  name: 'debug-enabled',
  severity: 'suggestion',
  fix: 'sometimes',
  checklist: [12],
  prescan: /\bdebug\b|traceback/,
  messages: {
    app: '`{call}` enables debug mode, which answers unhandled errors with a traceback',
    uvicorn: '`{call}` runs the server with `debug=True`',
    attribute: '`{target} = True` enables debug mode, which answers unhandled errors with a traceback',
    traceback: 'Exception handler `{handler}` sends the traceback to the client',
  },
  docs: `## What it does
Finds debug mode switched on in code: \`FastAPI(debug=True)\`, \`app.debug = True\`, \`uvicorn.run(..., debug=True)\`,
and exception handlers that put \`traceback.format_exc()\` (or similar) into the response.

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
    for (const fn of model.functions) {
      const isHandler = fn.decorators.some((d) => d.type === 'call' && /\.exception_handler$/.test(dottedName(d.childForFieldName('function')) ?? ''));
      if (!isHandler) continue;
      for (const { call, callee } of model.callsIn(fn.body)) {
        if (callee === 'traceback.format_exc' || callee === 'traceback.format_exception' || callee === 'traceback.format_tb') {
          ctx.report({ node: call, messageId: 'traceback', data: { handler: fn.name } });
        }
      }
    }
  },
});

function reportDebugTrue(ctx: RuleContext<MessageId>, debug: Node, messageId: MessageId, call: string): void {
  ctx.report({
    node: debug.parent ?? debug,
    messageId,
    data: { call: `${call}(debug=True)` },
    fix: { title: 'Set `debug=False`', safety: 'safe', edits: [{ range: rangeOf(debug), newText: 'False' }] },
  });
}
