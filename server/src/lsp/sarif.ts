/**
 * SARIF for the editor's Export SARIF… command: the CLI's SARIF writer (cli/formats/sarif.ts) over an audit
 * result, with paths relative to the audited folder and the open buffers' text. Knows nothing of the connection.
 */
import type { AuditResult } from '../core/audit';
import { renderSarif } from '../cli/formats/sarif';

export function exportSarif(result: AuditResult, docsDir: string, version: string, textOf: (file: string) => string | undefined): string {
  return renderSarif(
    result,
    { docsBase: { localDir: docsDir }, findings: result.findings },
    { cwd: result.root, version, color: false, threshold: 'suggestion', textOf },
  );
}
