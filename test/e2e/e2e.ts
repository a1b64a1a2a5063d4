/**
 * What a person sees: installs the packaged .vsix into a fresh extensions folder of the VS Code server (code-server's
 * VS Code 1.100.3), opens the example app in the workbench in headless Chromium and drives it with the keyboard
 * and mouse: waits for squiggles, hovers one, opens the quick-fix menu (Ctrl+.), applies the fix, runs Audit
 * Workspace from the command palette and opens the panel. It asserts what is on screen (the Problems count
 * against the CLI's count of the same workspace, the tree labels) and saves screenshots under artifacts/e2e/.
 *
 * Usage: node out/test/e2e/e2e.js [--vsix FILE] [--workspace DIR]
 * The expectations come from the CLI run on the same folder (the editor and the CLI share one analyzer), so the
 * script does not hard-code what the example contains; it only needs one finding with a safe fix.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { openBrowser } from '../vscode/browser';
import { ARTIFACTS, REPO_ROOT, copyTree } from '../vscode/paths';
import { installVsix, makeTempRoot, startServer } from '../vscode/vscode-server';

interface CliEdit {
  content: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

interface CliFinding {
  code: string;
  severity: 'critical' | 'warning' | 'suggestion';
  message: string;
  file: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  fix?: { title: string; safety: 'safe' | 'unsafe' | 'display-only'; edits: CliEdit[] };
}

const SHOTS = path.join(ARTIFACTS, 'e2e');
const results: Array<{ name: string; ok: boolean; detail?: string }> = [];

function check(name: string, ok: boolean, detail?: string): void {
  results.push({ name, ok, detail });
  console.log(`${ok ? '  ✔' : '  ✘'} ${name}${detail ? `: ${detail}` : ''}`);
}

function parseArgs(argv: string[]): { vsix: string; workspace: string } {
  let vsix: string | undefined;
  let workspace = path.join(REPO_ROOT, 'examples', 'todo-api');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--vsix') vsix = path.resolve(argv[++i] ?? '');
    else if (argv[i] === '--workspace') workspace = path.resolve(argv[++i] ?? '');
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!vsix) {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string };
    vsix = path.join(REPO_ROOT, `${pkg.name}.vsix`);
  }
  if (!fs.existsSync(vsix)) throw new Error(`no .vsix at ${vsix} (run: npm run package)`);
  if (!fs.existsSync(workspace)) throw new Error(`no workspace at ${workspace}`);
  return { vsix, workspace };
}

/** The CLI as compiled beside this script (same tsc run, so the same analyzer as the .vsix was bundled from). */
const CLI_MAIN = path.join(__dirname, '..', '..', 'server', 'src', 'cli', 'main.js');

/** The CLI's findings for the folder: what the editor must show too. */
function cliFindings(folder: string): CliFinding[] {
  const result = spawnSync(process.execPath, [CLI_MAIN, '--format', 'json', '--exit-zero', folder], {
    encoding: 'utf8',
    cwd: folder,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`the CLI failed (${result.status}): ${result.stderr}`);
  const json = JSON.parse(result.stdout) as { findings: CliFinding[] };
  return json.findings.map((f) => ({ ...f, file: path.relative(folder, path.resolve(folder, f.file)).split(path.sep).join('/') }));
}

async function shot(page: Page, name: string): Promise<string> {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`    screenshot ${path.relative(REPO_ROOT, file)}`);
  return file;
}

/** Runs a command from the palette by its title, as a person types it. */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
}

async function openFile(page: Page, relative: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(relative);
  await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator(`.tabs-container .tab[aria-label*="${path.posix.basename(relative)}"]`).first().waitFor({ state: 'visible' });
}

/** Moves the cursor to a 0-based position with Go to Line (`line:column`, 1-based). */
async function goTo(page: Page, line: number, character: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line + 1}:${character + 1}`);
  await page.keyboard.press('Enter');
}

/** The numbers in the status bar's problems item: errors, warnings, infos. */
async function problemCounts(page: Page): Promise<{ errors: number; warnings: number; infos: number; label: string }> {
  const item = page.locator('#status\\.problems');
  const label = (await item.getAttribute('aria-label')) ?? (await item.innerText());
  // VS Code 1.100 labels it "Errors: 2, Warnings: 1, Infos: 4" ("No Problems" when empty).
  const count = (word: string): number =>
    Number(new RegExp(`${word}s?:\\s*(\\d+)`, 'i').exec(label)?.[1] ?? new RegExp(`(\\d+)\\s+${word}`, 'i').exec(label)?.[1] ?? 0);
  return { errors: count('error'), warnings: count('warning'), infos: count('info'), label };
}

async function main(): Promise<void> {
  const { vsix, workspace } = parseArgs(process.argv.slice(2));
  fs.mkdirSync(SHOTS, { recursive: true });
  const scratch = makeTempRoot('jwt-e2e-');
  const folder = path.join(scratch, path.basename(workspace));
  copyTree(workspace, folder);

  const findings = cliFindings(folder);
  console.log(`[e2e] the CLI finds ${findings.length} findings in ${path.basename(workspace)}`);
  if (findings.length === 0) throw new Error('the example has no findings: nothing to show');
  // The fix to apply: a safe one (preferred in the editor), in the file with the most findings.
  const byFile = new Map<string, CliFinding[]>();
  for (const f of findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  const fixable = findings.filter((f) => f.fix?.safety === 'safe');
  if (fixable.length === 0) throw new Error('the example has no finding with a safe fix');
  fixable.sort((a, b) => byFile.get(b.file)!.length - byFile.get(a.file)!.length);
  const target = fixable[0];
  console.log(`[e2e] target: ${target.code} in ${target.file}:${target.range.start.line + 1} (${target.fix!.title})`);

  const extensionsDir = path.join(scratch, 'extensions');
  fs.mkdirSync(extensionsDir);
  const logFile = path.join(SHOTS, 'vscode-server.log');
  fs.rmSync(logFile, { force: true });
  installVsix(vsix, extensionsDir, logFile);
  check('the .vsix installs with --install-extension', fs.readdirSync(extensionsDir).some((d) => d.startsWith('jwt-api-security.')));

  const server = await startServer({ disableWorkspaceTrust: true, logFile, extensionsDir });
  const browser = await openBrowser({ width: 1440, height: 900 });
  const { page } = browser;
  try {
    await page.goto(server.workbenchUrl(folder));
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('#status\\.problems').waitFor({ state: 'visible', timeout: 60_000 });

    // 1. Squiggles on the target file, one per finding the CLI reports there (VS Code draws one per diagnostic).
    await openFile(page, target.file);
    const squiggleClass = { critical: 'squiggly-error', warning: 'squiggly-warning', suggestion: 'squiggly-info' }[target.severity];
    await page.locator(`.editor-instance .monaco-editor .${squiggleClass}`).first().waitFor({ state: 'attached', timeout: 60_000 });
    const inFile = byFile.get(target.file)!;
    // The Problems panel's row for the file carries its problem count (tab and explorer counts are CSS-only).
    await page.keyboard.press('Control+Shift+M');
    const fileRow = page.locator('.markers-panel .monaco-list-row[aria-level="1"]', { hasText: path.posix.basename(target.file) }).first();
    const badge = await waitForValue(async () => {
      const text = (await fileRow.locator('.monaco-count-badge').innerText()).trim();
      return text === String(inFile.length) ? text : undefined;
    }, 30_000);
    check(`squiggles appear in ${target.file}, and Problems counts its ${inFile.length} findings`, badge !== undefined, badge);
    await shot(page, '01-squiggles');
    await page.keyboard.press('Control+Shift+M');

    // 2. Hover the target finding's squiggle with the mouse.
    await goTo(page, target.range.start.line, target.range.start.character);
    await page.keyboard.press('Escape');
    const box = await page.locator('.editor-instance .monaco-editor .cursor').first().boundingBox();
    if (box) await page.mouse.move(box.x + 4, box.y + box.height / 2);
    const hover = page.locator('.monaco-hover', { hasText: target.code }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined);
    const hoverText = (await hover.isVisible()) ? await hover.innerText() : '';
    const messageStart = target.message.replace(/`/g, '').slice(0, 30);
    check(
      'hovering the squiggle shows the message, the source and the code',
      hoverText.includes(target.code) && hoverText.includes('jwt-api-security') && hoverText.replace(/`/g, '').includes(messageStart),
      hoverText.split('\n')[0],
    );
    await shot(page, '02-hover');
    await page.mouse.move(5, 5);

    // 3. Ctrl+. opens the quick-fix menu with the rule's fix; apply it and save.
    await goTo(page, target.range.start.line, target.range.start.character);
    await page.keyboard.press('Control+.');
    const menu = page.locator('.action-widget');
    await menu.waitFor({ state: 'visible', timeout: 15_000 });
    const menuText = await menu.innerText();
    check('Ctrl+. lists the fix, a suppression and the documentation', menuText.includes(target.fix!.title) && /Suppress/.test(menuText) && /documentation/i.test(menuText), menuText.split('\n').join(' | '));
    await shot(page, '03-quick-fix-menu');
    const file = path.join(folder, target.file);
    const before = fs.readFileSync(file, 'utf8');
    // The menu is keyboard driven (a pointer block covers it until the mouse moves): walk to the fix, Enter.
    const chosen = await focusMenuRow(page, target.fix!.title);
    check('the fix can be chosen in the menu', chosen);
    await page.keyboard.press(chosen ? 'Enter' : 'Escape');
    await page.keyboard.press('Control+S');
    const after = await waitForFileChange(file, before, 15_000);
    const expected = applyEdits(before, target.fix!.edits);
    check('the saved file is exactly what the CLI\'s fix produces', after === expected, after === before ? 'unchanged' : undefined);
    // The file's diagnostics follow: the Problems row of the file counts what the CLI finds in it now.
    const remaining = cliFindings(folder);
    const leftInFile = remaining.filter((f) => f.file === target.file).length;
    await page.keyboard.press('Control+Shift+M');
    const badgeAfter = await waitForValue(async () => {
      const text = (await fileRow.locator('.monaco-count-badge').innerText()).trim();
      return text === String(leftInFile) ? text : undefined;
    }, 30_000);
    check(`after the fix Problems counts ${leftInFile} findings in ${target.file}`, badgeAfter !== undefined, badgeAfter);
    await shot(page, '04-fixed');
    await page.keyboard.press('Control+Shift+M');

    // 4. Audit Workspace from the command palette: the Problems count is the CLI's count of the fixed folder.
    await runCommand(page, 'JWT API Security: Audit Workspace');
    const counted = await waitForValue(async () => {
      const c = await problemCounts(page);
      return c.errors + c.warnings + c.infos === remaining.length ? c : undefined;
    }, 60_000);
    check(`the Problems count equals the CLI's count after the fix (${remaining.length})`, counted !== undefined, (counted ?? (await problemCounts(page))).label);
    // The audit opens the Markdown report in a preview (a webview: two nested frames).
    const preview = page.frameLocator('iframe.webview').first().frameLocator('#active-frame');
    const heading = preview.locator('h1', { hasText: /Audit/i }).first();
    const previewShown = await heading.waitFor({ state: 'visible', timeout: 30_000 }).then(() => true, () => false);
    const summary = previewShown ? await preview.locator('p').first().innerText() : '';
    check(`the report preview opens and counts ${remaining.length} findings`, summary.includes(`${remaining.length} findings`), summary);
    await shot(page, '05-audit');

    // 5. The panel: the Findings and Checklist trees.
    await runCommand(page, 'JWT API Security: Focus on Findings View');
    const findingsView = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Findings/i }) }).first();
    await findingsView.locator('.monaco-list-row').first().waitFor({ state: 'visible', timeout: 30_000 });
    const groups = await findingsView.locator('.monaco-list-row[aria-level="1"]').allInnerTexts();
    const expectedGroups = (['critical', 'warning', 'suggestion'] as const)
      .map((sev) => ({ sev, n: remaining.filter((f) => f.severity === sev).length }))
      .filter((g) => g.n > 0)
      .map((g) => `${{ critical: 'Critical', warning: 'Warning', suggestion: 'Suggestion' }[g.sev]} (${g.n})`);
    check('the Findings tree groups by severity with the CLI\'s counts', JSON.stringify(groups.map((g) => g.trim())) === JSON.stringify(expectedGroups), `${groups.join(' | ')} vs ${expectedGroups.join(' | ')}`);
    const checklistView = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Checklist/i }) }).first();
    const items = await checklistView.locator('.monaco-list-row[aria-level="1"]').allInnerTexts();
    check('the Checklist tree lists the twelve items', items.length === 12 && /^1\. JWT read only/.test(items[0] ?? ''), `${items.length} items; ${items[0] ?? ''}`);
    await shot(page, '06-panel');

    await page.keyboard.press('Control+Shift+M');
    const markers = page.locator('.markers-panel .monaco-list-row');
    await markers.first().waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined);
    check('the Problems panel lists the files with problems', (await markers.count()) > 0);
    await shot(page, '07-problems');
  } catch (error) {
    await shot(page, 'failure').catch(() => undefined);
    throw error;
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** `text` with the CLI's edits applied (0-based lines, UTF-16 columns; edits do not overlap). */
function applyEdits(text: string, edits: CliEdit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const offset = (p: { line: number; character: number }): number => (lineStarts[p.line] ?? text.length) + p.character;
  let out = text;
  for (const edit of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))) {
    out = out.slice(0, offset(edit.range.start)) + edit.content + out.slice(offset(edit.range.end));
  }
  return out;
}

/** Moves the quick-fix menu's focus down to the row holding `text`; false when it is not there. */
async function focusMenuRow(page: Page, text: string): Promise<boolean> {
  const rows = page.locator('.action-widget .monaco-list-row');
  const count = await rows.count();
  for (let step = 0; step <= count; step++) {
    const focused = page.locator('.action-widget .monaco-list-row.focused').first();
    if (((await focused.innerText().catch(() => '')) ?? '').includes(text)) return true;
    await page.keyboard.press('ArrowDown');
  }
  return false;
}

async function waitForValue<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

async function waitForFileChange(file: string, before: string, timeoutMs: number): Promise<string> {
  return (await waitForValue(async () => {
    const now = fs.readFileSync(file, 'utf8');
    return now !== before ? now : undefined;
  }, timeoutMs)) ?? before;
}

main()
  .catch((error: unknown) => {
    check('the e2e script ran to the end', false, error instanceof Error ? error.stack ?? error.message : String(error));
  })
  .finally(() => {
    const failed = results.filter((r) => !r.ok).length;
    console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
    setImmediate(() => process.exit(process.exitCode ?? 0));
  });
