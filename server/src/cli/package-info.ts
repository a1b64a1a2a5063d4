/**
 * The tool's own package.json: version, repository URL (for SARIF helpUri) and where the rule pages live.
 * Found from the compiled file's location, so it works from out/, a private build folder, or an installed copy.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface PackageInfo {
  version: string;
  repositoryUrl?: string;
  docsDir: string;
}

/** The tool's own package.json, found above this compiled file (works from out/ and from a copy elsewhere). */
export function packageInfo(): PackageInfo {
  const found = findPackageAbove(__dirname);
  if (found) return found;
  // Compiled outside the package (a private build folder): the package whose node_modules supplied our
  // dependencies is the one we were built from.
  try {
    const viaDependency = findPackageAbove(path.dirname(require.resolve('smol-toml')));
    if (viaDependency) return viaDependency;
  } catch {
    // Not resolvable: no better answer than unknown.
  }
  return { version: '0.0.0', docsDir: path.resolve('docs', 'rules') };
}

function findPackageAbove(start: string): PackageInfo | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string; repository?: string | { url?: string } };
        if (json.name === 'jwt-api-security') {
          const repo = typeof json.repository === 'string' ? json.repository : json.repository?.url;
          return { version: json.version ?? '0.0.0', repositoryUrl: repo ? normalizeRepositoryUrl(repo) : undefined, docsDir: path.join(dir, 'docs', 'rules') };
        }
      } catch {
        // Unreadable or not JSON: keep looking upward.
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** `git+https://host/o/r.git`, `github:o/r`, `o/r` -> `https://host/o/r`. */
export function normalizeRepositoryUrl(url: string): string | undefined {
  const shorthand = /^(?:github:)?([\w.-]+)\/([\w.-]+)$/.exec(url);
  if (shorthand) return `https://github.com/${shorthand[1]}/${shorthand[2].replace(/\.git$/, '')}`;
  const m = /^(?:git\+)?(https?:\/\/[^\s]+?)(?:\.git)?\/?$/.exec(url);
  return m ? m[1] : undefined;
}
