/**
 * Renders a rule's own metadata and docs as the one Markdown page that `docs/rules/<CODE>-<name>.md`,
 * `jwt-api-security rule CODE` and the editor's "Show documentation" all show, plus the index of every rule and
 * small extractors (a section, its first sentence) that the SARIF writer uses. Pure: rule in, text out.
 */
import type { Rule } from '../rules/rule';
import { CHECKLIST } from './audit';
import type { Severity } from './types';

export const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', warning: 'warning', suggestion: 'note' };

const FAMILIES: { prefix: string; title: string }[] = [
  { prefix: 'JWT', title: 'Authentication: how tokens are read and verified (JWT1xx)' },
  { prefix: 'ISO', title: 'Authorization: per-user data isolation (ISO2xx)' },
  { prefix: 'SEC', title: 'Configuration and hygiene (SEC3xx)' },
  { prefix: 'SUP', title: 'Suppression comments (SUP)' },
];

const FIX_LABEL: Record<Rule['fix'], string> = {
  none: 'none',
  sometimes: 'sometimes available',
  always: 'always available',
};

export function ruleDocFileName(rule: Pick<Rule, 'code' | 'name'>): string {
  return `${rule.code}-${rule.name}.md`;
}

/** The body of `## heading` in a rule's docs (without the heading), trimmed; '' when absent. */
export function docSection(docs: string, heading: string): string {
  const lines = docs.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start === -1) return '';
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^## /.test(l));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n').trim();
}

/**
 * The first sentence of the first paragraph, as plain text, or kept as Markdown (for the index). A period inside
 * backticks (`jwt.decode`) does not end a sentence.
 */
export function firstSentence(markdown: string, keepMarkdown = false): string {
  const paragraph = (markdown.trim().split(/\n\s*\n/)[0] ?? '').replace(/\s*\n\s*/g, ' ');
  let inCode = false;
  let end = paragraph.length;
  for (let i = 0; i < paragraph.length; i++) {
    const c = paragraph[i];
    if (c === '`') inCode = !inCode;
    else if (!inCode && /[.!?]/.test(c) && (i + 1 === paragraph.length || /\s/.test(paragraph[i + 1]))) {
      end = i + 1;
      break;
    }
  }
  const sentence = paragraph.slice(0, end).trim();
  return keepMarkdown ? sentence : plainText(sentence);
}

/** Markdown to readable plain text: code fences kept, inline backticks, emphasis and link targets dropped. */
export function plainText(markdown: string): string {
  return markdown
    .split(/(```[\s\S]*?```)/)
    .map((part) =>
      part.startsWith('```')
        ? part.replace(/^```\w*\n?/, '').replace(/```$/, '')
        : part
            .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 ($2)')
            .replace(/`([^`]*)`/g, '$1')
            .replace(/\*\*([^*]+)\*\*/g, '$1')
            .replace(/^#+\s*/gm, '')
            .replace(/[ \t]*\n(?!\s*\n)(?![-*] )/g, ' '),
    )
    .join('')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The page of one rule: title, a metadata table, then the rule's docs verbatim. */
export function renderRuleDoc(rule: Rule): string {
  const checklist = rule.checklist
    .map((id) => CHECKLIST.find((c) => c.id === id))
    .filter((c) => c !== undefined)
    .map((c) => `${c.id}. ${c.title}`);
  const rows = [
    ['Code', `\`${rule.code}\``],
    ['Name', `\`${rule.name}\``],
    ['Severity', `${rule.severity} (SARIF \`${SARIF_LEVEL[rule.severity]}\`)`],
    ['Fix', FIX_LABEL[rule.fix]],
    ['Checklist', checklist.length ? checklist.join('<br>') : 'none'],
    ['Suppress with', `\`# jwt-api-security: ignore[${rule.code}]\``],
  ];
  const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n');
  return `# ${rule.code}: ${rule.name}\n\n${table}\n\n${rule.docs.trim()}\n`;
}

/** The index of every rule, grouped by family, linking to each page. */
export function renderRuleIndex(rules: readonly Rule[]): string {
  const out = [
    '# Rules',
    '',
    'Generated from the rules\' own metadata by `npm run docs`; do not edit by hand (a test checks these pages are',
    'up to date). `jwt-api-security rule CODE` prints the same page in a terminal.',
    '',
  ];
  for (const family of FAMILIES) {
    const members = rules.filter((r) => r.code.startsWith(family.prefix));
    if (members.length === 0) continue;
    out.push(`## ${family.title}`, '', '| Code | Name | Severity | Fix | What it finds |', '|---|---|---|---|---|');
    for (const r of members) {
      const what = firstSentence(docSection(r.docs, 'What it does'), true).replace(/\|/g, '\\|');
      out.push(`| [${r.code}](${ruleDocFileName(r)}) | ${r.name} | ${r.severity} | ${FIX_LABEL[r.fix]} | ${what} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
