import * as path from 'path';
import ignore from 'ignore';
import { defineRule } from './rule';
import type { Range, RelatedLocation } from '../core/types';
import type { Workspace } from '../workspace/workspace';

type MessageId = 'notIgnored' | 'noGitignore' | 'placeholder' | 'short';

export const SEC304 = defineRule<MessageId>({
  code: 'SEC304',
  name: 'env-file-exposed',
  severity: 'warning',
  // The remedy edits `.gitignore`, another file than the finding's, so it is offered as display-only guidance.
  fix: 'none',
  checklist: [10],
  // Nothing to find in Python files: the per-file pass can skip every file (checkWorkspace still runs).
  prescan: /(?!)/,
  messages: {
    notIgnored: '`{file}` holds {keys} and `{gitignore}` does not ignore it, so it can be committed',
    noGitignore: '`{file}` holds {keys} and no `.gitignore` ignores it, so it can be committed',
    placeholder: '`{key}` in `{file}` is a placeholder (`{value}`), not a secret',
    short: '`{key}` in `{file}` is {length} characters long; a signing secret needs at least 32 random characters',
  },
  docs: `## What it does
Looks at the workspace's \`.env\` files (\`.env\`, \`.env.local\`, \`.env.production\` ...; not \`.env.example\`,
\`.env.sample\` or \`.env.test\`, which are meant to be committed with placeholders) and reports:
- a file holding a secret-like key (\`SECRET\`, \`PASSWORD\`, \`TOKEN\`, \`*_KEY\`, a URL with a password) that the
  workspace's \`.gitignore\` files do not ignore (git semantics: every \`.gitignore\` from the root down to the file);
- a secret that is a placeholder (\`changeme\`, \`your-secret-here\`, \`<secret>\`);
- a signing secret (\`BETTER_AUTH_SECRET\`, \`JWT_SECRET\`, \`SECRET_KEY\`, the configured \`secret-env-var\`) shorter
  than 32 characters.

## Why is this bad?
A committed \`.env\` publishes the JWT signing secret to everyone who can read the repository (and its history,
forever): with it anyone can mint a token for any user. A placeholder or short secret can be guessed or brute-forced
offline from a single captured token.

## Example
\`\`\`python
import os

SECRET = os.environ["BETTER_AUTH_SECRET"]
\`\`\`

\`\`\`dotenv
# .env
BETTER_AUTH_SECRET=changeme
\`\`\`

## Use instead
\`\`\`python
import os

SECRET = os.environ["BETTER_AUTH_SECRET"]
\`\`\`

\`\`\`dotenv
# .env
BETTER_AUTH_SECRET=3q9TzX1vR7mN8pL2kH5sW4yB6cD0fG-jA_eU9iOoQrS
\`\`\`

\`\`\`gitignore
# .gitignore
.env
.env.*
!.env.example
\`\`\`

## Fix safety
Display-only: the remedy is an edit to \`.gitignore\` (add \`.env\` and \`.env.*\`, keep \`!.env.example\`), a file other
than the finding's, and a file already committed also needs \`git rm --cached .env\` and a new secret. Generate a
secret with \`openssl rand -base64 32\`.

## References
- [Better Auth: Installation (BETTER_AUTH_SECRET)](https://www.better-auth.com/docs/installation)
- [gitignore documentation](https://git-scm.com/docs/gitignore)
- [RFC 7518, section 3.2: key size for HMAC algorithms](https://www.rfc-editor.org/rfc/rfc7518#section-3.2)
`,
  check() {
    // Everything this rule knows is in non-Python files; see checkWorkspace.
  },
  checkWorkspace(ctx) {
    const ws = ctx.workspace;
    for (const file of ws.auxFilePaths()) {
      if (!isEnvFile(file)) continue;
      const text = ws.auxFile(file);
      if (text === undefined) continue;
      const shown = displayPath(ws, file);
      const entries = parseDotenv(text);
      const secrets = entries.filter((e) => isSecretLike(e.key, e.value) && e.value !== '');

      const live = secrets.filter((e) => !e.suppressed);
      if (live.length > 0 && !isIgnored(ws, file)) {
        const gitignores = gitignoresFor(ws, file);
        const nearest = gitignores[gitignores.length - 1];
        const related: RelatedLocation[] = nearest
          ? [{ file: nearest, range: lineRange(0, 0), message: 'add `.env` and `.env.*` here (keep `!.env.example`)' }]
          : [];
        ctx.report({
          file,
          range: live[0].range,
          messageId: nearest ? 'notIgnored' : 'noGitignore',
          data: { file: shown, keys: listKeys(live.map((e) => e.key)), gitignore: nearest ? displayPath(ws, nearest) : '' },
          related,
          fix: {
            title: nearest ? `Add \`.env\` and \`.env.*\` to \`${displayPath(ws, nearest)}\`` : 'Create a `.gitignore` that lists `.env` and `.env.*`',
            safety: 'display-only',
            edits: [],
          },
        });
      }

      const settings = ctx.settingsFor(file);
      for (const e of secrets) {
        if (e.suppressed || /\$\{?\w/.test(e.value)) continue;
        if (isPlaceholder(e.value)) {
          ctx.report({ file, range: e.range, messageId: 'placeholder', data: { key: e.key, file: shown, value: e.value } });
        } else if (isSigningSecret(e.key, settings.secretEnvVar) && e.value.length < 32) {
          ctx.report({ file, range: e.range, messageId: 'short', data: { key: e.key, file: shown, length: e.value.length } });
        }
      }
    }
  },
});

// ---- files --------------------------------------------------------------------------------------

/**
 * `.env`, `.env.local`, `.env.production`; not the committed templates (`.env.example`, `.env.sample`...) nor the
 * test environments (`.env.test`, `.env.ci`), which projects commit on purpose with throwaway values.
 */
export function isEnvFile(file: string): boolean {
  const base = path.basename(file);
  return /^\.env(\.[\w.-]+)?$/.test(base) && !/\.(example|sample|template|tmpl|tpl|dist|defaults?|schema|test|testing|ci)$/i.test(base);
}

function displayPath(ws: Workspace, file: string): string {
  const rel = path.relative(ws.root, file);
  return (rel && !rel.startsWith('..') ? rel : path.basename(file)).split(path.sep).join('/');
}

/** The workspace's `.gitignore` files that apply to `file`: from the root down to the file's folder. */
function gitignoresFor(ws: Workspace, file: string): string[] {
  const dir = path.dirname(path.resolve(file));
  return ws
    .auxFilePaths()
    .filter((g) => path.basename(g) === '.gitignore')
    .filter((g) => {
      const gdir = path.dirname(g);
      const rel = path.relative(gdir, dir);
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    })
    .sort((a, b) => a.split(path.sep).length - b.split(path.sep).length);
}

/** Git semantics: deeper `.gitignore` files override shallower ones; a negation (`!.env`) re-includes. */
function isIgnored(ws: Workspace, file: string): boolean {
  let ignored = false;
  for (const g of gitignoresFor(ws, file)) {
    const text = ws.auxFile(g) ?? '';
    const rel = path.relative(path.dirname(g), path.resolve(file)).split(path.sep).join('/');
    try {
      const result = ignore().add(text).test(rel);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    } catch {
      // A malformed pattern in someone's .gitignore is not ours to report; treat that file as silent.
    }
  }
  return ignored;
}

// ---- .env content -------------------------------------------------------------------------------

interface Entry {
  key: string;
  value: string;
  range: Range;
  suppressed: boolean;
}

const SUPPRESSION = /#\s*jwt-api-security:\s*ignore(?:\[([^\]]*)\])?/;

/** `KEY=value`, `export KEY="value"`, `KEY='value' # comment`, in the forms python-dotenv reads. */
export function parseDotenv(text: string): Entry[] {
  const lines = text.split('\n');
  const out: Entry[] = [];
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const m = /^(\s*)(?:export\s+)?([A-Za-z_][\w.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) return;
    const [, indent, key, rest] = m;
    let value: string;
    let trailing = '';
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const end = rest.indexOf(quote, 1);
      value = end === -1 ? rest.slice(1) : rest.slice(1, end);
      trailing = end === -1 ? '' : rest.slice(end + 1);
    } else {
      const hash = rest.search(/\s#/);
      value = (hash === -1 ? rest : rest.slice(0, hash)).trim();
      trailing = hash === -1 ? '' : rest.slice(hash);
    }
    const previous = i > 0 ? lines[i - 1].trim() : '';
    out.push({
      key,
      value,
      range: lineRange(i, indent.length, line.length),
      suppressed: silences(trailing) || (previous.startsWith('#') && silences(previous)),
    });
  });
  return out;
}

function silences(comment: string): boolean {
  const m = SUPPRESSION.exec(comment);
  if (!m) return false;
  return m[1] === undefined || m[1].split(',').some((c) => c.trim().toUpperCase() === 'SEC304');
}

const SECRET_KEY = /SECRET|PASSWORD|PASSWD|PRIVATE|TOKEN|CREDENTIAL|APIKEY|(^|_)KEY($|_)/i;
const PUBLIC_KEY = /(^|_)PUBLIC(_|$)|^NEXT_PUBLIC_|^VITE_|^REACT_APP_|^EXPO_PUBLIC_/i;

function isSecretLike(key: string, value: string): boolean {
  if (PUBLIC_KEY.test(key)) return false;
  if (SECRET_KEY.test(key)) return true;
  // `DATABASE_URL=postgresql://app:s3cret@db/todo` carries a password too.
  return /^[a-z][\w+.-]*:\/\/[^:/\s@]+:[^@\s]+@/i.test(value);
}

/** Keys that sign or encrypt tokens and sessions: these need 32+ random characters. */
function isSigningSecret(key: string, configured: string): boolean {
  if (key === configured) return true;
  if (/CLIENT_SECRET/i.test(key)) return false;
  return /(^|_)(JWT|AUTH|SIGNING|SESSION|TOKEN|APP)_?SECRET(_KEY)?$|^SECRET(_KEY)?$|^JWT_(SECRET_)?KEY$/i.test(key);
}

const PLACEHOLDER =
  /^(changeme|change[-_ ]?me|change[-_ ]?this.*|replace[-_ ]?me.*|your[-_ ].*|.*[-_ ]here|<[^>]*>|\[[^\]]*\]|x{3,}|\*{3,}|\.{3}|todo|tbd|fixme|secret|password|passw0rd|example|dummy|test|testing|placeholder|default|dev|development|supersecret|super[-_ ]?secret.*|mysecret|my[-_ ]?secret.*|secret[-_ ]?key|12345.*|qwerty|admin|none|null)$/i;

function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value.trim());
}

function listKeys(keys: string[]): string {
  const shown = [...new Set(keys)].map((k) => `\`${k}\``);
  if (shown.length <= 3) return shown.join(', ');
  return `${shown.slice(0, 3).join(', ')} (+${shown.length - 3} more)`;
}

function lineRange(line: number, start: number, end = start): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}
