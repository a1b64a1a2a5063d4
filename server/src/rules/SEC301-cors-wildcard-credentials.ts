import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ModuleModel } from '../python/module-model';
import { ensureImport } from '../python/edits';
import { callArguments, enclosingFunction, literalValue, rangeOf, stringValue } from '../python/syntax';
import type { TextEdit } from '../core/types';

type MessageId = 'origins' | 'regex' | 'fallback';

export const SEC301 = defineRule<MessageId>({
  code: 'SEC301',
  name: 'cors-wildcard-credentials',
  severity: 'critical',
  fix: 'sometimes',
  // No checklist item covers CORS; the finding stands on its own in the report.
  checklist: [],
  prescan: /CORSMiddleware/,
  messages: {
    origins: '`CORSMiddleware` allows every origin (`{origins}`) together with `allow_credentials=True`',
    regex: '`CORSMiddleware` accepts every origin through `allow_origin_regex={regex}` together with `allow_credentials=True`',
    fallback: '`CORSMiddleware` falls back to every origin (`{origins}`) when the variable is unset, together with `allow_credentials=True`',
  },
  docs: `## What it does
Finds Starlette's/FastAPI's \`CORSMiddleware\` (through \`app.add_middleware\`, \`Middleware(...)\` in
\`FastAPI(middleware=[...])\`, or wrapping an app) configured with \`allow_origins=["*"]\`, an \`allow_origin_regex\`
that matches any origin, or an origin list read from the environment with \`"*"\` as its fallback, together with
\`allow_credentials=True\` (a literal or a constant holding it).

## Why is this bad?
With credentials allowed, Starlette answers a wildcard configuration by echoing the caller's \`Origin\`, so any web
site a signed-in user visits can send credentialed requests to the API and read the answers: the browser attaches
the user's cookies, and the page sees every task and profile the API returns.

## Example
\`\`\`python
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"])
\`\`\`

## Use instead
\`\`\`python
import os
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=[origin for origin in os.environ.get("CORS_ORIGINS", "").split(",") if origin],
    allow_credentials=True,
    allow_methods=["*"],
)
\`\`\`

## Fix safety
Unsafe: the fix reads the allowed origins from the \`CORS_ORIGINS\` environment variable (comma separated; an
origin-matching regex from \`CORS_ORIGIN_REGEX\`), so until that is set, browsers on other origins (the frontend
too) are refused. Set it to the frontend's origin, e.g. \`CORS_ORIGINS=https://app.example.com\`.

## References
- [FastAPI: CORS](https://fastapi.tiangolo.com/tutorial/cors/)
- [Starlette: CORSMiddleware](https://www.starlette.io/middleware/#corsmiddleware)
- [MDN: CORS requests with credentials](https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS#requests_with_credentials)
`,
  check(ctx) {
    const { model } = ctx;
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      const args = corsArguments(model, call);
      if (!args) continue;
      const credentials = args.get('allow_credentials');
      if (!credentials || !isTrue(model, credentials, call)) continue;
      const related = [{ file: ctx.file.path, range: rangeOf(credentials.parent ?? credentials), message: 'credentials are allowed here' }];
      const origins = args.get('allow_origins');
      if (origins) {
        const wildcard = wildcardOrigins(model, origins, call);
        if (wildcard) {
          ctx.report({
            node: origins.parent ?? origins,
            messageId: wildcard.kind === 'fallback' ? 'fallback' : 'origins',
            data: { origins: wildcard.shown },
            related,
            fix: wildcard.target ? originsFix(ctx, wildcard.target) : undefined,
          });
          continue;
        }
      }
      const regex = args.get('allow_origin_regex');
      const pattern = regex ? resolvedString(model, regex, call) : undefined;
      if (regex && pattern !== undefined && matchesAnyOrigin(pattern)) {
        ctx.report({
          node: regex.parent ?? regex,
          messageId: 'regex',
          data: { regex: regex.text },
          related,
          fix: regexFix(ctx, regex),
        });
      }
    }
  },
});

const CORS = new Set(['fastapi.middleware.cors.CORSMiddleware', 'starlette.middleware.cors.CORSMiddleware']);

/** The keyword arguments configuring CORSMiddleware in `call`, if `call` configures it. */
function corsArguments(model: ModuleModel, call: Node): Map<string, Node> | undefined {
  const callee = model.callee(call) ?? '';
  const args = callArguments(call);
  if (CORS.has(callee)) return args.keywords;
  const first = args.positional[0];
  const isMiddlewareWrapper = callee === 'starlette.middleware.Middleware' || callee === 'fastapi.middleware.Middleware' || /\.add_middleware$/.test(callee);
  if (isMiddlewareWrapper && first && CORS.has(model.resolve(first) ?? '')) return args.keywords;
  return undefined;
}

interface Wildcard {
  kind: 'literal' | 'fallback';
  shown: string;
  /** The expression the fix replaces (the argument, or the constant's value in this file). */
  target?: Node;
}

function wildcardOrigins(model: ModuleModel, node: Node, at: Node): Wildcard | undefined {
  const value = valueOf(model, node, at);
  if (!value) return undefined;
  const literal = literalValue(value.node);
  if (Array.isArray(literal) && literal.includes('*')) return { kind: 'literal', shown: value.node.text, target: value.editable ? value.node : undefined };
  if (literal === '*') return { kind: 'literal', shown: value.node.text, target: value.editable ? value.node : undefined };
  // `os.getenv("ORIGINS", "*").split(",")`: a wildcard whenever the variable is unset.
  if (value.node.type === 'call') {
    const fn = value.node.childForFieldName('function');
    const receiver = fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'split' ? fn.childForFieldName('object') : undefined;
    if (receiver?.type === 'call') {
      const callee = model.callee(receiver);
      if (callee === 'os.getenv' || callee === 'os.environ.get') {
        const fallback = callArguments(receiver).positional[1] ?? callArguments(receiver).keywords.get('default');
        if (stringValue(fallback)?.split(',').some((o) => o.trim() === '*')) {
          return { kind: 'fallback', shown: value.node.text, target: value.editable ? value.node : undefined };
        }
      }
    }
  }
  return undefined;
}

/**
 * The expression a name stands for: a module constant or a single local assignment in the enclosing function.
 * `editable` is false when the value is shared in ways a one-place edit would not cover.
 */
function valueOf(model: ModuleModel, node: Node, at: Node): { node: Node; editable: boolean } | undefined {
  if (node.type !== 'identifier') return { node, editable: true };
  const fn = enclosingFunction(at);
  const local = fn ? model.localAssignments(fn.childForFieldName('body')!).get(node.text) : undefined;
  if (local?.length) return { node: local[local.length - 1], editable: local.length === 1 };
  const list = model.assignments.get(node.text);
  if (list?.length) return { node: list[list.length - 1].value, editable: list.length === 1 };
  return undefined;
}

function isTrue(model: ModuleModel, node: Node, at: Node): boolean {
  const value = valueOf(model, node, at);
  return value?.node.type === 'true';
}

function resolvedString(model: ModuleModel, node: Node, at: Node): string | undefined {
  const value = valueOf(model, node, at);
  return value ? stringValue(value.node) : undefined;
}

/** Starlette full-matches the regex against the Origin header; a pattern that takes two unrelated origins takes all. */
function matchesAnyOrigin(pattern: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`);
  } catch {
    return false;
  }
  return ['https://attacker.example', 'http://evil.test:8080'].every((o) => re.test(o));
}

const ORIGINS_FROM_ENV = '[origin for origin in os.environ.get("CORS_ORIGINS", "").split(",") if origin]';

function originsFix(ctx: RuleContext<MessageId>, target: Node) {
  const edits: TextEdit[] = [{ range: rangeOf(target), newText: ORIGINS_FROM_ENV }];
  const os = ensureImport(ctx.model, 'os');
  if (os.local !== 'os') return undefined;
  if (os.edit) edits.push(os.edit);
  return { title: 'Read the allowed origins from `CORS_ORIGINS` (unsafe: set it to the frontend origin)', safety: 'unsafe' as const, edits };
}

function regexFix(ctx: RuleContext<MessageId>, regex: Node) {
  if (regex.type === 'identifier') return undefined;
  const os = ensureImport(ctx.model, 'os');
  if (os.local !== 'os') return undefined;
  const edits: TextEdit[] = [{ range: rangeOf(regex), newText: 'os.environ.get("CORS_ORIGIN_REGEX")' }];
  if (os.edit) edits.push(os.edit);
  return { title: 'Read the origin regex from `CORS_ORIGIN_REGEX` (unsafe: set it to match the frontend only)', safety: 'unsafe' as const, edits };
}
