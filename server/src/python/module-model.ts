/**
 * The semantic model of one Python module: imports and aliases, qualified-name resolution, module constants,
 * classes with their fields, functions with parameters and FastAPI markers, raises, and simple local data flow.
 * Built from one tree; knows nothing of other files (the workspace resolves names across modules) or of rules.
 */
import type { Node, Tree } from 'web-tree-sitter';
import {
  callArguments,
  children,
  descendantsInScope,
  dottedName,
  firstNestedDefinitions,
  literalValue,
  stringValue,
  type Literal,
} from './syntax';

export interface ImportBinding {
  /** The name bound in this module. */
  local: string;
  /** The qualified name it refers to (`jwt`, `jwt.decode`, `app.api.deps`). */
  target: string;
  node: Node;
  /**
   * Set when `target` is an absolute import the workspace rooted at this module's import root (`services.orders`
   * for `from app.crud import x` in services/orders/app/...: `target` is `services.orders.app.crud.x`), because
   * several projects of the workspace hold that module; `target` then starts with `root.`. See `importedAs`.
   */
  root?: string;
}

/**
 * Chooses the import root of an absolute import (`app.crud.task.get_task`) of this module: a dotted prefix to put
 * before it (`services.orders`), or '' to leave it as written. The workspace supplies it (Workspace.model).
 */
export type ImportRooter = (dotted: string) => string;

/** An import's target as the source spells it (absolute imports without the root the workspace gave them). */
export function importedAs(binding: ImportBinding): string {
  return binding.root ? binding.target.slice(binding.root.length + 1) : binding.target;
}

export type MarkerKind = 'Depends' | 'Security' | 'Query' | 'Path' | 'Body' | 'Header' | 'Cookie' | 'Form' | 'File';

export interface FastApiMarker {
  kind: MarkerKind;
  /** The `Depends(...)`/`Query(...)` call. */
  call: Node;
  /** For Depends/Security: the callable expression (`get_current_user`), absent for `Depends()`. */
  dependency?: Node;
  via: 'default' | 'annotated' | 'alias';
}

export interface ParamInfo {
  name: string;
  node: Node;
  annotation?: Node;
  default?: Node;
  kind: 'normal' | 'args' | 'kwargs';
  marker?: FastApiMarker;
  /** When the annotation is a name this module cannot expand (an imported `CurrentUser`), its qualified name. */
  annotationAlias?: string;
}

export interface FunctionInfo {
  name: string;
  /** `outer.inner` / `Class.method` within the module. */
  qualname: string;
  node: Node;
  body: Node;
  isAsync: boolean;
  params: ParamInfo[];
  /** The decorator expressions (without `@`). */
  decorators: Node[];
  className?: string;
  /** True for functions defined at module level (not nested, not methods). */
  topLevel: boolean;
}

export interface FieldInfo {
  name: string;
  node: Node;
  annotation?: Node;
  value?: Node;
}

export interface ClassInfo {
  name: string;
  node: Node;
  bases: Node[];
  /** Qualified names of the bases that could be resolved. */
  baseNames: string[];
  /** Class keywords (`table=True`, `metaclass=...`). */
  keywords: Map<string, Node>;
  fields: Map<string, FieldInfo>;
  methods: Map<string, FunctionInfo>;
  topLevel: boolean;
}

export interface Assignment {
  name: string;
  value: Node;
  /** The whole assignment statement. */
  node: Node;
  annotation?: Node;
}

export interface RaiseInfo {
  node: Node;
  /** Qualified name of the exception raised (`fastapi.HTTPException`), if resolvable. */
  exception?: string;
  call?: Node;
  status?: number;
}

const FASTAPI_MARKERS: ReadonlySet<string> = new Set(['Depends', 'Security', 'Query', 'Path', 'Body', 'Header', 'Cookie', 'Form', 'File']);

/** Parses `status.HTTP_401_UNAUTHORIZED`, `starlette.status.HTTP_403_FORBIDDEN` or a literal into a number. */
export function statusCodeOf(node: Node | undefined): number | undefined {
  if (!node) return undefined;
  const v = literalValue(node);
  if (typeof v === 'number') return v;
  const m = /HTTP_(\d{3})(?![0-9])/.exec(node.text);
  if (m) return Number(m[1]);
  if (/\bHTTPStatus\.UNAUTHORIZED\b/.test(node.text)) return 401;
  if (/\bHTTPStatus\.FORBIDDEN\b/.test(node.text)) return 403;
  return undefined;
}

export class ModuleModel {
  readonly root: Node;
  readonly imports = new Map<string, ImportBinding>();
  readonly functions: FunctionInfo[] = [];
  readonly classes: ClassInfo[] = [];
  /** Module-level assignments by name, in source order. */
  readonly assignments = new Map<string, Assignment[]>();
  private readonly topLevelDefs = new Set<string>();
  private readonly functionsByNode = new Map<number, FunctionInfo>();
  private readonly scopeCache = new Map<string, unknown>();

  constructor(
    readonly tree: Tree,
    readonly text: string,
    /** Dotted module name (`app.api.deps`); '' when unknown. */
    readonly moduleName: string,
    /** True for a package's `__init__.py` (relative imports resolve from the module itself). */
    readonly isPackage = false,
    /** Roots absolute imports (see ImportRooter); by default they stay as written. */
    private readonly rootImport?: ImportRooter,
  ) {
    this.root = tree.rootNode;
    this.collectImports();
    this.collectDefinitions(this.root, '', undefined, true);
  }

  // ---- names ------------------------------------------------------------------------------------

  /** Resolves an identifier/attribute chain to a qualified name through imports and module definitions. */
  resolve(node: Node | null | undefined): string | undefined {
    if (!node) return undefined;
    if (node.type === 'call') {
      const inner = this.resolve(node.childForFieldName('function'));
      return inner ? `${inner}()` : undefined;
    }
    if (node.type === 'attribute') {
      const object = node.childForFieldName('object');
      const attr = node.childForFieldName('attribute')?.text;
      if (object && attr && object.type === 'call') {
        const inner = this.resolve(object);
        return inner ? `${inner}.${attr}` : undefined;
      }
    }
    const dotted = dottedName(node);
    if (!dotted) return undefined;
    return this.resolveDotted(dotted);
  }

  resolveDotted(dotted: string): string {
    const dot = dotted.indexOf('.');
    const head = dot === -1 ? dotted : dotted.slice(0, dot);
    const rest = dot === -1 ? '' : dotted.slice(dot);
    const binding = this.imports.get(head);
    if (binding) return binding.target + rest;
    if (this.topLevelDefs.has(head) && this.moduleName) return `${this.moduleName}.${dotted}`;
    return dotted;
  }

  /**
   * Like `resolve`, but a module-level instance (`app = FastAPI()`, `jwt_obj = JsonWebToken([...])`) resolves to
   * its constructor: `app.get` -> `fastapi.FastAPI().get`.
   */
  resolveInstance(node: Node | null | undefined): string | undefined {
    const dotted = dottedName(node);
    if (dotted) {
      const dot = dotted.indexOf('.');
      const head = dot === -1 ? dotted : dotted.slice(0, dot);
      const value = !this.imports.has(head) ? this.lastAssignment(head)?.value : undefined;
      if (value?.type === 'call') {
        const ctor = this.callee(value);
        if (ctor) return `${ctor}()${dot === -1 ? '' : dotted.slice(dot)}`;
      }
    }
    return this.resolve(node);
  }

  /** The qualified name of a call's callee. */
  callee(call: Node): string | undefined {
    return this.resolve(call.childForFieldName('function'));
  }

  /** True when `qualified` names something defined in this module. */
  definesLocally(name: string): boolean {
    return this.topLevelDefs.has(name);
  }

  /** Relative import resolution: `..core` from `app.api.routes` (a module) is `app.core`. */
  resolveRelative(dots: number, rest: string): string {
    const parts = this.moduleName ? this.moduleName.split('.') : [];
    const keep = parts.length - dots + (this.isPackage ? 1 : 0);
    const base = parts.slice(0, Math.max(0, keep)).join('.');
    return [base, rest].filter(Boolean).join('.');
  }

  // ---- definitions ------------------------------------------------------------------------------

  functionAt(node: Node): FunctionInfo | undefined {
    return this.functionsByNode.get(node.id);
  }

  topLevelFunction(name: string): FunctionInfo | undefined {
    return this.functions.find((f) => f.topLevel && f.name === name);
  }

  topLevelClass(name: string): ClassInfo | undefined {
    return this.classes.find((c) => c.topLevel && c.name === name);
  }

  /** The last module-level assignment to `name`. */
  lastAssignment(name: string): Assignment | undefined {
    const list = this.assignments.get(name);
    return list?.[list.length - 1];
  }

  /** The literal value of a module constant or `Class.attr`, following simple name-to-name aliases. */
  constantValue(dotted: string, depth = 0): Literal | undefined {
    if (depth > 5) return undefined;
    const [head, attr] = dotted.split('.', 2);
    let value: Node | undefined;
    if (attr !== undefined) {
      value = this.topLevelClass(head)?.fields.get(attr)?.value;
    } else {
      value = this.lastAssignment(head)?.value;
    }
    if (!value) return undefined;
    const literal = literalValue(value);
    if (literal !== undefined) return literal;
    const alias = dottedName(value);
    return alias && alias !== dotted ? this.constantValue(alias, depth + 1) : undefined;
  }

  // ---- functions --------------------------------------------------------------------------------

  /**
   * Per-scope results are asked for by many rules (calls, raises, assignments of the same handler), and walking a
   * tree from JS is the analysis' main cost, so each is computed once per scope. Returned arrays are copies.
   */
  private perScope<T>(kind: string, scope: Node, compute: () => T): T {
    const key = `${kind}:${scope.id}`;
    if (!this.scopeCache.has(key)) this.scopeCache.set(key, compute());
    return this.scopeCache.get(key) as T;
  }

  /** Calls directly inside `scope` (not in nested functions), with their resolved callee. */
  callsIn(scope: Node): { call: Node; callee: string | undefined }[] {
    return [...this.perScope('calls', scope, () => descendantsInScope(scope, 'call').map((call) => ({ call, callee: this.callee(call) })))];
  }

  /** `raise` statements directly inside `scope`, with the exception's name and HTTP status where known. */
  raisesIn(scope: Node): RaiseInfo[] {
    return [...this.perScope('raises', scope, () => this.computeRaises(scope))];
  }

  private computeRaises(scope: Node): RaiseInfo[] {
    return descendantsInScope(scope, 'raise_statement').map((node) => {
      const expr = children(node)[0];
      if (!expr) return { node };
      if (expr.type === 'call') {
        const args = callArguments(expr);
        return {
          node,
          call: expr,
          exception: this.callee(expr),
          status: statusCodeOf(args.keywords.get('status_code') ?? args.positional[0]),
        };
      }
      return { node, exception: this.resolve(expr) };
    });
  }

  /**
   * Values assigned to each local name inside `scope` (plain, annotated, augmented and walrus assignments,
   * tuple targets excluded), in source order.
   */
  localAssignments(scope: Node): Map<string, Node[]> {
    return new Map(this.perScope('assignments', scope, () => this.computeAssignments(scope)));
  }

  private computeAssignments(scope: Node): Map<string, Node[]> {
    const out = new Map<string, Node[]>();
    for (const node of descendantsInScope(scope, ['assignment', 'named_expression', 'augmented_assignment'])) {
      const left = node.childForFieldName(node.type === 'named_expression' ? 'name' : 'left');
      const right = node.childForFieldName(node.type === 'named_expression' ? 'value' : 'right');
      if (!left || !right || left.type !== 'identifier') continue;
      const list = out.get(left.text) ?? [];
      list.push(right);
      out.set(left.text, list);
    }
    return out;
  }

  /**
   * Mutations of a local dict named `name` inside `scope`: keys set through `name[key] = value`,
   * `name.update({...})`/`name.update(key=value)`, and `name.setdefault(key, value)`.
   */
  dictKeysSet(scope: Node, name: string): Map<string, Node> {
    const keys = new Map<string, Node>();
    for (const node of descendantsInScope(scope, ['assignment', 'call'])) {
      if (node.type === 'assignment') {
        const left = node.childForFieldName('left');
        if (left?.type === 'subscript' && left.childForFieldName('value')?.text === name) {
          const key = stringValue(left.childForFieldName('subscript'));
          if (key !== undefined) keys.set(key, node);
        }
        continue;
      }
      const fn = node.childForFieldName('function');
      if (fn?.type !== 'attribute' || fn.childForFieldName('object')?.text !== name) continue;
      const method = fn.childForFieldName('attribute')?.text;
      const args = callArguments(node);
      if (method === 'update') {
        for (const k of args.keywords.keys()) keys.set(k, node);
        for (const p of args.positional) {
          if (p.type === 'dictionary') {
            for (const pair of children(p)) {
              const key = stringValue(pair.childForFieldName('key'));
              if (key !== undefined) keys.set(key, node);
            }
          }
        }
      } else if (method === 'setdefault') {
        const key = stringValue(args.positional[0]);
        if (key !== undefined) keys.set(key, node);
      }
    }
    return keys;
  }

  /** The FastAPI marker carried by an annotation: `Annotated[T, Depends(f)]`, or a local alias of one. */
  markerFromAnnotation(annotation: Node | undefined, depth = 0): FastApiMarker | undefined {
    if (!annotation || depth > 4) return undefined;
    const expr = annotation.type === 'type' ? children(annotation)[0] : annotation;
    if (!expr) return undefined;
    if (expr.type === 'generic_type' || expr.type === 'subscript') {
      const head = expr.type === 'subscript' ? expr.childForFieldName('value') : children(expr)[0];
      const headName = this.resolve(head);
      if (!headName || !/(^|\.)Annotated$/.test(headName)) return undefined;
      const meta = expr.type === 'subscript' ? expr.childrenForFieldName('subscript') : children(children(expr)[1] ?? expr);
      for (const m of meta) {
        const node = m?.type === 'type' ? children(m)[0] : m;
        if (node?.type === 'call') {
          const marker = this.markerFromCall(node, 'annotated');
          if (marker) return marker;
        }
      }
      return undefined;
    }
    if (expr.type === 'identifier') {
      const alias = this.lastAssignment(expr.text);
      if (alias) {
        const marker = this.markerFromAnnotation(alias.value, depth + 1);
        return marker ? { ...marker, via: 'alias' } : undefined;
      }
    }
    return undefined;
  }

  /** `Depends(f)`, `fastapi.Security(f, scopes=...)`, `Query(None)` ... as a marker. */
  markerFromCall(call: Node, via: FastApiMarker['via']): FastApiMarker | undefined {
    const name = this.callee(call);
    if (!name) return undefined;
    const last = name.slice(name.lastIndexOf('.') + 1);
    const fromFastapi = name === last || name.startsWith('fastapi.') || name.startsWith('fastapi_');
    if (!fromFastapi || !FASTAPI_MARKERS.has(last)) return undefined;
    const args = callArguments(call);
    const dependency = last === 'Depends' || last === 'Security' ? (args.keywords.get('dependency') ?? args.positional[0]) : undefined;
    return { kind: last as MarkerKind, call, dependency, via };
  }

  // ---- construction -----------------------------------------------------------------------------

  private collectImports(): void {
    for (const n of this.root.descendantsOfType(['import_statement', 'import_from_statement'])) {
      if (n && isStatementLevel(n)) this.collectImport(n);
    }
  }

  private collectImport(n: Node): void {
    // Imports are statements anywhere a statement can be (functions, try, if); the last binding wins.
    if (n.type === 'import_statement') {
      for (const c of children(n)) {
        if (c.type === 'dotted_name') {
          // `import a.b.c` binds `a`, which refers to package `a` (rooted where `a.b.c` is).
          const head = c.text.split('.')[0];
          this.bind(head, head, this.rootOf(c.text), n);
        } else if (c.type === 'aliased_import') {
          const name = c.childForFieldName('name')?.text;
          const alias = c.childForFieldName('alias')?.text;
          if (name && alias) this.bind(alias, name, this.rootOf(name), n);
        }
      }
      return;
    }
    if (n.type === 'import_from_statement') {
      const moduleNode = n.childForFieldName('module_name');
      if (!moduleNode) return;
      let from = moduleNode.text;
      // Relative imports resolve from this module's own name, which is already where it is in the workspace.
      const relative = moduleNode.type === 'relative_import';
      if (relative) {
        const prefix = children(moduleNode).find((c) => c.type === 'import_prefix')?.text ?? '';
        const rest = children(moduleNode).find((c) => c.type === 'dotted_name')?.text ?? '';
        from = this.resolveRelative(prefix.length, rest);
      }
      for (const c of n.childrenForFieldName('name')) {
        if (!c) continue;
        if (c.type === 'dotted_name') {
          const target = join(from, c.text);
          this.bind(c.text, target, relative ? '' : this.rootOf(target), n);
        } else if (c.type === 'aliased_import') {
          const name = c.childForFieldName('name')?.text;
          const alias = c.childForFieldName('alias')?.text;
          if (!name || !alias) continue;
          const target = join(from, name);
          this.bind(alias, target, relative ? '' : this.rootOf(target), n);
        }
      }
      return;
    }
  }

  private rootOf(dotted: string): string {
    return this.rootImport?.(dotted) ?? '';
  }

  private bind(local: string, target: string, root: string, node: Node): void {
    this.imports.set(local, root ? { local, target: `${root}.${target}`, node, root } : { local, target, node });
  }

  private collectDefinitions(container: Node, prefix: string, className: string | undefined, atModuleLevel: boolean): void {
    for (const stmt of children(container)) {
      this.collectStatement(stmt, prefix, className, atModuleLevel);
    }
  }

  private collectStatement(stmt: Node, prefix: string, className: string | undefined, atModuleLevel: boolean): void {
    let node = stmt;
    let decorators: Node[] = [];
    if (stmt.type === 'decorated_definition') {
      decorators = children(stmt)
        .filter((c) => c.type === 'decorator')
        .map((d) => children(d)[0])
        .filter((d): d is Node => !!d);
      node = stmt.childForFieldName('definition') ?? stmt;
    }
    if (node.type === 'function_definition') {
      this.addFunction(node, decorators, prefix, className, atModuleLevel);
      return;
    }
    if (node.type === 'class_definition') {
      this.addClass(node, prefix, atModuleLevel);
      return;
    }
    if (atModuleLevel && stmt.type === 'expression_statement') {
      for (const expr of children(stmt)) this.addModuleAssignment(expr, stmt);
      return;
    }
    // Definitions inside if/try/with at module level still define module names (`if TYPE_CHECKING:`, `try: import`).
    if (['if_statement', 'try_statement', 'with_statement', 'else_clause', 'elif_clause', 'except_clause', 'finally_clause', 'block'].includes(stmt.type)) {
      for (const c of children(stmt)) {
        if (c.type === 'block' || c.type.endsWith('_clause')) this.collectDefinitions(c, prefix, className, atModuleLevel);
      }
    }
  }

  private addModuleAssignment(expr: Node, stmt: Node): void {
    if (expr.type !== 'assignment') return;
    const left = expr.childForFieldName('left');
    let value = expr.childForFieldName('right');
    // `a = b = 1`: the right side is itself an assignment.
    while (value?.type === 'assignment') value = value.childForFieldName('right');
    if (left?.type === 'identifier' && value) {
      const list = this.assignments.get(left.text) ?? [];
      list.push({ name: left.text, value, node: stmt, annotation: expr.childForFieldName('type') ?? undefined });
      this.assignments.set(left.text, list);
      this.topLevelDefs.add(left.text);
    }
  }

  private addFunction(node: Node, decorators: Node[], prefix: string, className: string | undefined, atModuleLevel: boolean): FunctionInfo | undefined {
    const name = node.childForFieldName('name')?.text;
    const body = node.childForFieldName('body');
    if (!name || !body) return undefined;
    const info: FunctionInfo = {
      name,
      qualname: prefix + name,
      node,
      body,
      isAsync: node.children.some((c) => c?.type === 'async'),
      params: this.paramsOf(node),
      decorators,
      className,
      topLevel: atModuleLevel && !className,
    };
    this.functions.push(info);
    this.functionsByNode.set(node.id, info);
    if (info.topLevel) this.topLevelDefs.add(name);
    // Nested functions (decorator factories, closures) are recorded too.
    // `descendantsInScope` stops at nested definitions without returning them, so collect the first level here.
    for (const inner of firstNestedDefinitions(body)) {
      if (inner.id === node.id) continue;
      const stmt = inner.parent?.type === 'decorated_definition' ? inner.parent : inner;
      this.collectStatement(stmt, `${info.qualname}.`, undefined, false);
    }
    return info;
  }

  private addClass(node: Node, prefix: string, atModuleLevel: boolean): void {
    const name = node.childForFieldName('name')?.text;
    const body = node.childForFieldName('body');
    if (!name || !body) return;
    const bases: Node[] = [];
    const keywords = new Map<string, Node>();
    const superclasses = node.childForFieldName('superclasses');
    if (superclasses) {
      for (const c of children(superclasses)) {
        if (c.type === 'keyword_argument') {
          const k = c.childForFieldName('name')?.text;
          const v = c.childForFieldName('value');
          if (k && v) keywords.set(k, v);
        } else bases.push(c);
      }
    }
    const info: ClassInfo = {
      name,
      node,
      bases,
      baseNames: bases.map((b) => this.resolve(b.type === 'subscript' ? b.childForFieldName('value') : b)).filter((b): b is string => !!b),
      keywords,
      fields: new Map(),
      methods: new Map(),
      topLevel: atModuleLevel,
    };
    this.classes.push(info);
    if (atModuleLevel) this.topLevelDefs.add(name);
    for (const stmt of children(body)) {
      let def = stmt;
      let decorators: Node[] = [];
      if (stmt.type === 'decorated_definition') {
        decorators = children(stmt).filter((c) => c.type === 'decorator').map((d) => children(d)[0]).filter((d): d is Node => !!d);
        def = stmt.childForFieldName('definition') ?? stmt;
      }
      if (def.type === 'function_definition') {
        const fn = this.addFunction(def, decorators, `${prefix}${name}.`, name, false);
        if (fn) info.methods.set(fn.name, fn);
      } else if (def.type === 'class_definition') {
        this.addClass(def, `${prefix}${name}.`, false);
      } else if (stmt.type === 'expression_statement') {
        const expr = children(stmt)[0];
        if (expr?.type !== 'assignment') continue;
        const left = expr.childForFieldName('left');
        if (left?.type !== 'identifier') continue;
        info.fields.set(left.text, {
          name: left.text,
          node: expr,
          annotation: expr.childForFieldName('type') ?? undefined,
          value: expr.childForFieldName('right') ?? undefined,
        });
      }
    }
  }

  private paramsOf(fn: Node): ParamInfo[] {
    const list = fn.childForFieldName('parameters');
    if (!list) return [];
    const out: ParamInfo[] = [];
    for (const p of children(list)) {
      let name: string | undefined;
      let annotation: Node | undefined;
      let def: Node | undefined;
      let kind: ParamInfo['kind'] = 'normal';
      switch (p.type) {
        case 'identifier':
          name = p.text;
          break;
        case 'typed_parameter': {
          const inner = children(p)[0];
          if (inner?.type === 'list_splat_pattern') kind = 'args';
          if (inner?.type === 'dictionary_splat_pattern') kind = 'kwargs';
          name = inner?.type === 'identifier' ? inner.text : inner ? children(inner)[0]?.text : undefined;
          annotation = p.childForFieldName('type') ?? undefined;
          break;
        }
        case 'default_parameter':
        case 'typed_default_parameter':
          name = p.childForFieldName('name')?.text;
          annotation = p.childForFieldName('type') ?? undefined;
          def = p.childForFieldName('value') ?? undefined;
          break;
        case 'list_splat_pattern':
          kind = 'args';
          name = children(p)[0]?.text;
          break;
        case 'dictionary_splat_pattern':
          kind = 'kwargs';
          name = children(p)[0]?.text;
          break;
        default:
          continue;
      }
      if (!name) continue;
      let marker = def?.type === 'call' ? this.markerFromCall(def, 'default') : undefined;
      marker ??= this.markerFromAnnotation(annotation);
      let annotationAlias: string | undefined;
      if (!marker && annotation) {
        const inner = annotation.type === 'type' ? children(annotation)[0] : annotation;
        if (inner && (inner.type === 'identifier' || inner.type === 'attribute') && this.imports.has(inner.text.split('.')[0])) {
          annotationAlias = this.resolve(inner);
        }
      }
      out.push({ name, node: p, annotation, default: def, kind, marker, annotationAlias });
    }
    return out;
  }
}

function join(a: string, b: string): string {
  return a ? `${a}.${b}` : b;
}

/**
 * True when every ancestor of `n` is a statement container (module, block, statement, definition, clause): the
 * imports the module binds. An import inside an ERROR node of a broken file is not one.
 */
function isStatementLevel(n: Node): boolean {
  for (let p = n.parent; p; p = p.parent) {
    const t = p.type;
    if (!(t === 'module' || t === 'block' || t.endsWith('_statement') || t.endsWith('_definition') || t === 'decorated_definition' || t.endsWith('_clause'))) return false;
  }
  return true;
}
