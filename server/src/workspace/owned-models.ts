/**
 * ORM and request models of the workspace: table classes (SQLModel `table=True`, SQLAlchemy declarative 1.x and
 * 2.0, Tortoise, Beanie/ODMantic as "other") with their fields including inherited ones, which of them are owned
 * (an owner column from the `owner-columns` setting, or a foreign key / relationship to the user model), which are
 * user models, and the pydantic request/response models with their field names. Knows nothing of routes or rules.
 */
import type { Node } from 'web-tree-sitter';
import type { ClassInfo, ModuleModel } from '../python/module-model';
import { safeModel, type Workspace, type WorkspaceFile } from './workspace';
import { wordsPattern } from './word-patterns';
import { lookup } from './symbols';
import { literalValue, stringValue } from '../python/syntax';

export type Orm = 'sqlmodel' | 'sqlalchemy' | 'tortoise' | 'other';

export interface ModelField {
  name: string;
  node: Node;
  annotation?: Node;
  value?: Node;
  /** The file the field is declared in (a base class may live elsewhere). */
  file: string;
  /** The class that declares it. */
  declaredIn: string;
}

export interface ModelClass {
  qualified: string;
  name: string;
  file: string;
  node: Node;
  /** For table classes: the ORM; undefined for plain pydantic models and other classes. */
  orm?: Orm;
  /** The table name (`__tablename__`, SQLModel's lower-cased class name, Tortoise's `Meta.table`). */
  tableName?: string;
  /** Fields in declaration order, inherited ones first. */
  fields: Map<string, ModelField>;
  /** Pydantic `BaseModel` or non-table `SQLModel` (request/response schemas). */
  isPydantic: boolean;
}

export interface OwnedModel {
  qualified: string;
  name: string;
  file: string;
  node: Node;
  /** Owner columns usable in a filter (`user_id`, `owner_id`). */
  ownerColumns: string[];
  /** Relationship attributes to the user model (`owner`), which can also bind ownership (`Model.owner == user`). */
  ownerRelationships: string[];
  orm: Orm;
  tableName?: string;
}

export interface RequestModel {
  qualified: string;
  name: string;
  file: string;
  node: Node;
  /** Field names including those inherited from workspace bases. */
  fields: string[];
  fieldNodes: Map<string, ModelField>;
}

const SQLMODEL = /^sqlmodel(\.main)?\.SQLModel$/;
const PYDANTIC = /^pydantic(\.main|\.v1)?\.BaseModel$|^pydantic\.v1\.main\.BaseModel$/;
const DECLARATIVE_LIB = /^sqlalchemy\.orm(\.decl_api)?\.(DeclarativeBase|DeclarativeBaseNoMeta|DeclarativeMeta)$|^flask_sqlalchemy\.SQLAlchemy\(\)\.Model$/;
const DECLARATIVE_FACTORY = /^sqlalchemy\.(orm|ext\.declarative)(\.decl_api)?\.declarative_base$|^sqlalchemy\.orm\.registry\(\)\.generate_base$/;
const TORTOISE = /^tortoise(\.models)?\.Model$/;
const OTHER_ORM = /^beanie(\.odm\.documents)?\.Document$|^odmantic(\.model)?\.Model$|^ormar(\.models)?\.Model$|^piccolo\.table\.Table$/;
const USER_NAME = /^(Auth|Db|DB)?(User|Users|Account|Member)(Model|Table|DB|Db|InDB|Orm|Entity)?$/;
const USER_TABLE = /^(auth_)?(user|users|account|accounts|member|members)$/;

interface Ancestry {
  library: Set<string>;
  /** Workspace classes from the class itself up (MRO-ish, depth first). */
  chain: { cls: ClassInfo; model: ModuleModel; file: string; qualified: string }[];
  /** A workspace `Base = declarative_base()` (or `registry().generate_base()`) is an ancestor. */
  declarativeFactory: boolean;
}

function ancestry(ws: Workspace, cls: ClassInfo, model: ModuleModel, file: string, qualified: string): Ancestry {
  const out: Ancestry = { library: new Set(), chain: [], declarativeFactory: false };
  const seen = new Set<string>();
  const visit = (c: ClassInfo, m: ModuleModel, f: string, q: string, depth: number) => {
    if (seen.has(q) || depth > 10) return;
    seen.add(q);
    out.chain.push({ cls: c, model: m, file: f, qualified: q });
    for (const base of c.bases) {
      const node = base.type === 'subscript' ? base.childForFieldName('value') : base;
      const name = m.resolve(node);
      if (!name) continue;
      const def = lookup(ws, name);
      if (def?.kind === 'class') visit(def.cls, def.model, def.file, def.qualified, depth + 1);
      else if (def?.kind === 'assignment' && def.assignment.value.type === 'call') {
        const ctor = def.model.callee(def.assignment.value);
        if (ctor && DECLARATIVE_FACTORY.test(ctor)) out.declarativeFactory = true;
        if (ctor) out.library.add(`${ctor}()`);
      } else {
        out.library.add(name);
        // `db.Model` with `db = SQLAlchemy()` resolves through the instance.
        if (/\.Model$/.test(name) && /SQLAlchemy\(\)/.test(m.resolveInstance(node) ?? '')) out.library.add('flask_sqlalchemy.SQLAlchemy().Model');
      }
    }
  };
  visit(cls, model, file, qualified, 0);
  return out;
}

/** Every class of the workspace that is a table model or a pydantic model, memoized. */
export function modelClasses(ws: Workspace): ModelClass[] {
  return ws.memo('iso:model-classes', () => {
    const out: ModelClass[] = [];
    for (const f of modelClassFiles(ws)) {
      const model = safeModel(ws, f.path);
      if (!model) continue;
      for (const cls of model.classes) {
        if (!cls.topLevel) continue;
        const qualified = `${model.moduleName}.${cls.name}`;
        const anc = ancestry(ws, cls, model, f.path, qualified);
        const lib = [...anc.library];
        const isSqlModel = lib.some((b) => SQLMODEL.test(b));
        const isTableKw = literalValue(cls.keywords.get('table')) === true;
        let orm: Orm | undefined;
        if (isSqlModel && isTableKw) orm = 'sqlmodel';
        else if ((anc.declarativeFactory || lib.some((b) => DECLARATIVE_LIB.test(b))) && isSqlAlchemyTable(anc)) orm = 'sqlalchemy';
        else if (lib.some((b) => TORTOISE.test(b)) && !isAbstractTortoise(cls)) orm = 'tortoise';
        else if (lib.some((b) => OTHER_ORM.test(b))) orm = 'other';
        const isPydantic = !orm && (lib.some((b) => PYDANTIC.test(b)) || isSqlModel);
        if (!orm && !isPydantic) continue;
        out.push({
          qualified,
          name: cls.name,
          file: f.path,
          node: cls.node,
          orm,
          tableName: orm ? tableNameOf(anc, orm) : undefined,
          fields: fieldsOf(anc),
          isPydantic,
        });
      }
    }
    return out;
  });
}

/** A model library named in a file's text: a class can reach one of the library bases above only through these. */
const MODEL_LIBRARY_TEXT = /sqlmodel|pydantic|sqlalchemy|tortoise|beanie|odmantic|ormar|piccolo/;
/** Factories whose result is a model base (`Base = declarative_base()`, `db = SQLAlchemy()` for `db.Model`). */
const BASE_FACTORY_TEXT = /declarative_base|generate_base|registry|SQLAlchemy/;

/**
 * The words a file names where it could name a model base for a class of its own: in a class header's bases
 * (`class Task(Base, Mixin)`), as the last word of an alias assignment (`ModelBase = Base`, `Model = db.Model`), and
 * before an import alias (`Base as ModelBase`). A file can extend the model closure with a name only if the name is
 * among these. Extracted once per file text (the object is replaced when the text changes).
 */
function baseUseWords(file: WorkspaceFile): Set<string> | 'any' {
  let words = baseUseCache.get(file);
  if (!words) baseUseCache.set(file, (words = extractBaseUseWords(file.text)));
  return words;
}

const baseUseCache = new WeakMap<WorkspaceFile, Set<string> | 'any'>();

/** See `baseUseWords`; `'any'` when the text defeats the scan (a pathological line), so the file is looked at. */
function extractBaseUseWords(text: string): Set<string> | 'any' {
  const words = new Set<string>();
  try {
    for (const m of text.matchAll(/class\s+\w+\s*\(([^)]*)/g)) for (const w of m[1].match(/\w+/g) ?? []) words.add(w);
    for (const m of text.matchAll(/^[ \t]*\w+[ \t]*(?::[^=\n]*)?=[ \t]*([\w.]*)[ \t]*$/gm)) {
      const last = m[1].slice(m[1].lastIndexOf('.') + 1);
      if (last) words.add(last);
    }
    // The word before ` as alias`, found by walking back from the match (a pattern starting with `\w+` backtracks
    // through every long word, and overflows the regexp stack on a megabyte-long one).
    for (const m of text.matchAll(/\s+as\s+\w/g)) {
      let start = m.index;
      while (start > 0 && /\w/.test(text[start - 1])) start--;
      if (start < m.index) words.add(text.slice(start, m.index));
    }
  } catch {
    return 'any';
  }
  return words;
}

/**
 * The files that can define a model class, in path order, found without parsing the others. A class is a model
 * only if a chain of bases reaches a model library, and every link names its base in its own file's text: the
 * library's module, or a workspace class, base variable or import alias already known to lead to one. So the search
 * starts from files naming a library and grows with those names until no new one appears (what makes a workspace
 * with a FastAPI app beside much other code cheap).
 */
function modelClassFiles(ws: Workspace): WorkspaceFile[] {
  const chosen = new Map<string, WorkspaceFile>();
  const names = new Set<string>();
  let frontier = ws.filesMentioning(MODEL_LIBRARY_TEXT);
  // Each round adds a new name, so this ends; a file named again is looked at again for the new names.
  while (frontier.length) {
    const before = names.size;
    for (const f of frontier) {
      chosen.set(f.path, f);
      const model = safeModel(ws, f.path);
      if (!model) continue;
      for (const cls of model.classes) {
        const anc = ancestry(ws, cls, model, f.path, `${model.moduleName}.${cls.name}`);
        if (leadsToModelLibrary(anc)) names.add(cls.name);
      }
    }
    const known = wordsPattern(names);
    for (const f of frontier) {
      const model = safeModel(ws, f.path);
      if (!model) continue;
      for (const [name, list] of model.assignments) if (list.some((a) => mayStandForBase(a.value, known))) names.add(name);
      // `from app.db import Base as ModelBase`: the alias is what other files name.
      for (const b of model.imports.values()) {
        const original = b.target.slice(b.target.lastIndexOf('.') + 1);
        if (b.local !== original && (names.has(original) || MODEL_LIBRARY_TEXT.test(b.target))) names.add(b.local);
      }
    }
    if (names.size === before) break;
    const fresh = [...names].slice(before);
    frontier = ws.allFiles().filter((f) => {
      const words = baseUseWords(f);
      return words === 'any' || fresh.some((name) => words.has(name));
    });
  }
  return [...chosen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The ancestry reaches a base that modelClasses counts (an ORM's, pydantic's, or a declarative factory's). */
function leadsToModelLibrary(anc: Ancestry): boolean {
  if (anc.declarativeFactory) return true;
  return [...anc.library].some((b) => SQLMODEL.test(b) || PYDANTIC.test(b) || DECLARATIVE_LIB.test(b) || TORTOISE.test(b) || OTHER_ORM.test(b));
}

/** What `ancestry` can follow through an assignment: a base factory's call, or an alias of a known base or library. */
function mayStandForBase(value: Node, known: RegExp | undefined): boolean {
  const text = value.text;
  if (value.type === 'call') return BASE_FACTORY_TEXT.test(value.childForFieldName('function')?.text ?? '');
  if (value.type !== 'identifier' && value.type !== 'attribute') return false;
  return MODEL_LIBRARY_TEXT.test(text) || (!!known && known.test(text));
}

function isSqlAlchemyTable(anc: Ancestry): boolean {
  const own = anc.chain[0].cls;
  if (literalValue(own.fields.get('__abstract__')?.value) === true) return false;
  if (anc.chain.some((c) => c.cls.fields.has('__tablename__') || c.cls.methods.has('__tablename__'))) return true;
  // Declarative classes without `__tablename__` still map when they declare columns (or use `__table__`).
  return own.fields.has('__table__') || [...own.fields.values()].some((f) => /\b(Column|mapped_column)\s*\(/.test(f.value?.text ?? ''));
}

function isAbstractTortoise(cls: ClassInfo): boolean {
  const meta = cls.node.descendantsOfType('class_definition').find((c) => c?.childForFieldName('name')?.text === 'Meta');
  return !!meta && /abstract\s*=\s*True/.test(meta.text);
}

function tableNameOf(anc: Ancestry, orm: Orm): string | undefined {
  for (const c of anc.chain) {
    const v = stringValue(c.cls.fields.get('__tablename__')?.value);
    if (v) return v;
  }
  if (orm === 'tortoise') {
    const meta = anc.chain[0].cls.node.descendantsOfType('class_definition').find((c) => c?.childForFieldName('name')?.text === 'Meta');
    const m = meta ? /table\s*=\s*["'](\w+)["']/.exec(meta.text) : null;
    return m ? m[1] : anc.chain[0].cls.name.toLowerCase();
  }
  if (orm === 'sqlmodel') return anc.chain[0].cls.name.toLowerCase();
  return undefined;
}

function fieldsOf(anc: Ancestry): Map<string, ModelField> {
  const out = new Map<string, ModelField>();
  // Bases first so that a subclass's redefinition wins.
  for (const c of [...anc.chain].reverse()) {
    for (const f of c.cls.fields.values()) {
      if (f.name.startsWith('__') || f.name === 'model_config' || f.name === 'Config') continue;
      if (f.annotation && /^(typing\.)?ClassVar\b/.test(f.annotation.text)) continue;
      out.set(f.name, { name: f.name, node: f.node, annotation: f.annotation, value: f.value, file: c.file, declaredIn: c.qualified });
    }
    // SQLAlchemy mixins: `@declared_attr def user_id(cls): return Column(ForeignKey("users.id"))`.
    for (const m of c.cls.methods.values()) {
      if (m.decorators.some((d) => /declared_attr/.test(d.text)) && !m.name.startsWith('__')) {
        out.set(m.name, { name: m.name, node: m.node, value: m.body, file: c.file, declaredIn: c.qualified });
      }
    }
  }
  return out;
}

/** The table models that are user models: named like one, stored in a user table, or the target of owner keys. */
export function userModels(ws: Workspace): ModelClass[] {
  return ws.memo('iso:user-models', () => {
    const tables = modelClasses(ws).filter((m) => m.orm);
    const ownerNames = new Set(ws.settingsFor(ws.root).ownerColumns);
    const targets = new Set<string>();
    for (const m of tables) {
      for (const f of m.fields.values()) {
        if (!ownerNames.has(f.name)) continue;
        const t = foreignKeyTarget(f);
        if (t) targets.add(t.toLowerCase());
      }
    }
    return tables.filter(
      (m) =>
        USER_NAME.test(m.name) ||
        (m.tableName !== undefined && USER_TABLE.test(m.tableName)) ||
        targets.has(m.name.toLowerCase()) ||
        (m.tableName !== undefined && targets.has(m.tableName.toLowerCase())),
    );
  });
}

export function isUserModel(ws: Workspace, qualified: string): boolean {
  const q = canonical(ws, qualified);
  return userModels(ws).some((m) => m.qualified === q);
}

/** The table or model name a field's foreign key points at (`"users.id"` -> `users`, `ForeignKey(User.id)` -> `User`). */
function foreignKeyTarget(f: ModelField): string | undefined {
  const text = `${f.annotation?.text ?? ''} ${f.value?.text ?? ''}`;
  const m =
    /ForeignKey\(\s*["']([\w.]+)\.\w+["']/.exec(text) ??
    /foreign_key\s*=\s*["']([\w.]+)\.\w+["']/.exec(text) ??
    /ForeignKey\(\s*(\w+)\.\w+\s*[,)]/.exec(text) ??
    /ForeignKeyField\(\s*["'](?:\w+\.)?(\w+)["']/.exec(text) ??
    /Link\[\s*["']?(\w+)/.exec(text);
  if (!m) return undefined;
  const target = m[1];
  return target.includes('.') ? target.slice(target.lastIndexOf('.') + 1) : target;
}

function pointsAtUser(ws: Workspace, f: ModelField): boolean {
  const target = foreignKeyTarget(f);
  if (!target) return false;
  const t = target.toLowerCase();
  if (USER_TABLE.test(t)) return true;
  return userModels(ws).some((u) => u.name.toLowerCase() === t || u.tableName?.toLowerCase() === t);
}

/** A relationship attribute whose target is a user model (`owner: User = Relationship(...)`, `relationship("User")`). */
function relationshipToUser(ws: Workspace, f: ModelField): boolean {
  const text = `${f.annotation?.text ?? ''} ${f.value?.text ?? ''}`;
  if (!/\b(Relationship|relationship)\s*\(/.test(text) && !/Mapped\[/.test(text)) return false;
  if (/\blist\[|List\[|Sequence\[|uselist\s*=\s*True/.test(text)) return false;
  const names = userModels(ws).map((u) => u.name);
  return names.some((n) => new RegExp(`["'\\[ ]${n}["'\\] ,)|]`).test(` ${text} `)) && /\b(Relationship|relationship)\s*\(/.test(text);
}

/** The owned models of the workspace. */
export function ownedModels(ws: Workspace): OwnedModel[] {
  return ws.memo('iso:owned-models', () => {
    const out: OwnedModel[] = [];
    for (const m of modelClasses(ws)) {
      if (!m.orm) continue;
      const names = new Set(ws.settingsFor(m.file).ownerColumns);
      const ownerColumns: string[] = [];
      const ownerRelationships: string[] = [];
      for (const f of m.fields.values()) {
        if (f.name === 'id') continue;
        if (names.has(f.name) || (pointsAtUser(ws, f) && !/\b(Relationship|relationship)\s*\(/.test(f.value?.text ?? ''))) {
          // Tortoise: `owner = fields.ForeignKeyField("models.User")` stores and filters as `owner_id`.
          if (m.orm === 'tortoise' && /ForeignKeyField/.test(f.value?.text ?? '')) {
            ownerColumns.push(`${f.name}_id`);
            ownerRelationships.push(f.name);
          } else ownerColumns.push(f.name);
        } else if (relationshipToUser(ws, f)) ownerRelationships.push(f.name);
      }
      if (ownerColumns.length === 0 && ownerRelationships.length === 0) continue;
      out.push({ qualified: m.qualified, name: m.name, file: m.file, node: m.node, ownerColumns, ownerRelationships, orm: m.orm, tableName: m.tableName });
    }
    return out;
  });
}

/** The owned model a qualified name denotes (following imports and re-exports). */
export function ownedModelByName(ws: Workspace, qualified: string | undefined): OwnedModel | undefined {
  if (!qualified) return undefined;
  const index = ws.memo('iso:owned-index', () => indexByName(ownedModels(ws)));
  return findIndexed(ws, index, qualified);
}

/** Any model class (table or pydantic) by qualified name. */
export function modelClassByName(ws: Workspace, qualified: string | undefined): ModelClass | undefined {
  if (!qualified) return undefined;
  const index = ws.memo('iso:model-class-index', () => indexByName(modelClasses(ws)));
  return findIndexed(ws, index, qualified);
}

interface NameIndex<T> {
  byQualified: Map<string, T>;
  /** Simple class names, to skip the cross-file lookup for names that cannot match (most identifiers). */
  names: Set<string>;
}

function indexByName<T extends { qualified: string; name: string }>(items: T[]): NameIndex<T> {
  return { byQualified: new Map(items.map((m) => [m.qualified, m])), names: new Set(items.map((m) => m.name)) };
}

function findIndexed<T>(ws: Workspace, index: NameIndex<T>, qualified: string): T | undefined {
  const direct = index.byQualified.get(qualified);
  if (direct) return direct;
  // Re-exports and aliases keep the class's own name at the end (`from .models import Task as T` is rare enough).
  const last = qualified.slice(qualified.lastIndexOf('.') + 1);
  if (!index.names.has(last) && !qualified.includes('.')) return undefined;
  if (!index.names.has(last)) {
    const def = lookup(ws, qualified);
    return def?.kind === 'class' ? index.byQualified.get(def.qualified) : undefined;
  }
  return index.byQualified.get(canonical(ws, qualified));
}

/** The fields of any workspace class, including inherited ones (empty when the class is unknown). */
export function modelFields(ws: Workspace, qualified: string): Map<string, ModelField> {
  return modelClassByName(ws, qualified)?.fields ?? new Map();
}

/** Pydantic models (`BaseModel`, non-table `SQLModel`) with their field names, inherited ones included. */
export function requestModels(ws: Workspace): RequestModel[] {
  return ws.memo('iso:request-models', () =>
    modelClasses(ws)
      .filter((m) => m.isPydantic)
      .map((m) => ({ qualified: m.qualified, name: m.name, file: m.file, node: m.node, fields: [...m.fields.keys()], fieldNodes: m.fields })),
  );
}

function canonical(ws: Workspace, qualified: string): string {
  const def = lookup(ws, qualified);
  return def?.kind === 'class' ? def.qualified : qualified;
}
