/**
 * Reads the package versions a workspace declares: requirements*.txt, pyproject.toml (PEP 621 and Poetry),
 * uv.lock, poetry.lock and Pipfile.lock. Pure functions of file texts; the Workspace decides which files to read.
 */
import { parse as parseToml } from 'smol-toml';

export interface PinnedVersion {
  /** Normalized package name (`pyjwt`, `fastapi`). */
  name: string;
  /** The specifier as written (`==2.8.0`, `>=0.110,<1`), or the locked version. */
  spec: string;
  /** The lowest version the spec allows, when it has one. */
  min?: number[];
  /** An exclusive upper bound, when the spec has one (`<2`). */
  below?: number[];
  /** The file that declared it. */
  file: string;
}

export const VERSION_FILE_PATTERN = /(^|[\\/])(requirements[^\\/]*\.txt|pyproject\.toml|uv\.lock|poetry\.lock|Pipfile\.lock)$/;

export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function parseVersion(text: string): number[] | undefined {
  const m = /^\s*v?(\d+(?:\.\d+)*)/.exec(text);
  return m ? m[1].split('.').map(Number) : undefined;
}

export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Parses a PEP 440 requirement like `PyJWT[crypto]>=2.8,<3` into a pin. */
export function parseRequirement(line: string, file: string): PinnedVersion | undefined {
  const clean = line.replace(/\s+#.*$/, '').split(';')[0].trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(clean);
  if (!m || clean.startsWith('-')) return undefined;
  const spec = m[3].replace(/^\(|\)$/g, '').trim();
  const pin: PinnedVersion = { name: normalizePackageName(m[1]), spec, file };
  for (const part of spec.split(',')) {
    const c = /^\s*(===|==|>=|~=|>|<=|<|\^|~)?\s*([\w.*]+)/.exec(part);
    if (!c) continue;
    const version = parseVersion(c[2]);
    if (!version) continue;
    const op = c[1] ?? '==';
    if (op === '==' || op === '===' || op === '>=' || op === '~=' || op === '^' || op === '~' || op === '>') pin.min = version;
    if (op === '<') pin.below = version;
    if (op === '<=') pin.below = [...version.slice(0, -1), (version[version.length - 1] ?? 0) + 1];
    if (op === '^' && version.length) pin.below = [version[0] + 1];
  }
  return pin;
}

/** The pins one file declares. Bad files yield nothing (the caller reports unreadable configuration separately). */
export function pinsFromFile(file: string, text: string): PinnedVersion[] {
  const base = file.split(/[\\/]/).pop() ?? file;
  try {
    if (/^requirements.*\.txt$/.test(base)) {
      return text
        .split(/\r?\n/)
        .map((l) => parseRequirement(l, file))
        .filter((p): p is PinnedVersion => !!p);
    }
    if (base === 'Pipfile.lock') {
      const json = JSON.parse(text) as Record<string, Record<string, { version?: string }>>;
      const out: PinnedVersion[] = [];
      for (const section of ['default', 'develop']) {
        for (const [name, info] of Object.entries(json[section] ?? {})) {
          const pin = parseRequirement(`${name}${info.version ?? ''}`, file);
          if (pin) out.push(pin);
        }
      }
      return out;
    }
    const toml = parseToml(text) as Record<string, any>;
    if (base === 'uv.lock' || base === 'poetry.lock') {
      return ((toml.package ?? []) as { name?: string; version?: string }[])
        .filter((p) => p.name && p.version)
        .map((p) => ({ name: normalizePackageName(p.name!), spec: `==${p.version}`, min: parseVersion(p.version!), file }));
    }
    if (base === 'pyproject.toml') {
      const out: PinnedVersion[] = [];
      const deps: unknown[] = [...(toml.project?.dependencies ?? [])];
      for (const group of Object.values(toml.project?.['optional-dependencies'] ?? {})) deps.push(...(group as unknown[]));
      for (const d of deps) if (typeof d === 'string') {
        const pin = parseRequirement(d, file);
        if (pin) out.push(pin);
      }
      const poetry = toml.tool?.poetry?.dependencies ?? {};
      for (const [name, value] of Object.entries(poetry)) {
        const spec = typeof value === 'string' ? value : (value as { version?: string })?.version;
        if (name === 'python' || typeof spec !== 'string') continue;
        const pin = parseRequirement(`${name}${spec === '*' ? '' : spec}`, file);
        if (pin) out.push(pin);
      }
      return out;
    }
  } catch {
    return [];
  }
  return [];
}

/** Lock files win over loose specifiers: they say what is installed. */
export function mergePins(pins: PinnedVersion[]): Map<string, PinnedVersion> {
  const rank = (p: PinnedVersion) => (/\.lock$/.test(p.file) ? 2 : p.min || p.below ? 1 : 0);
  const out = new Map<string, PinnedVersion>();
  for (const pin of pins) {
    const prev = out.get(pin.name);
    if (!prev || rank(pin) > rank(prev)) out.set(pin.name, pin);
  }
  return out;
}

/** The major version a pin implies: its lower bound, else one below its upper bound. */
export function pinnedMajor(pin: PinnedVersion | undefined): number | undefined {
  if (!pin) return undefined;
  if (pin.min) return pin.min[0];
  if (pin.below) return pin.below[1] === 0 || pin.below.length === 1 ? pin.below[0] - 1 : pin.below[0];
  return undefined;
}

/** True when every version the pin allows is below `version`; undefined when nothing is pinned. */
export function pinnedBelow(pin: PinnedVersion | undefined, version: number[]): boolean | undefined {
  if (!pin) return undefined;
  if (pin.below && compareVersions(pin.below, version) <= 0) return true;
  if (pin.min && /^==|^===/.test(pin.spec.trim())) return compareVersions(pin.min, version) < 0;
  if (pin.min) return compareVersions(pin.min, version) < 0 && !!pin.below && compareVersions(pin.below, version) <= 0;
  return undefined;
}
