/**
 * Unit tests for the JWT helpers: python/jwt-decode.ts (arguments by meaning, options and algorithms through local
 * data flow, the removal edit), workspace/jwt-values.ts (key origins across modules and settings classes),
 * workspace/jwt-algorithms.ts (expected algorithm inference) and the version-dependent behaviour of JWT101-JWT103
 * when PyJWT is pinned to 1.x or not pinned at all (the fixtures pin 2.x).
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { decodeAlgorithms, decodeOptions, jwtCallArgsIn, removeElementEdit, valueOf } from '../../server/src/python/jwt-decode';
import { keyOrigin, isSampleSecret, isSecretLikeName } from '../../server/src/workspace/jwt-values';
import { expectedAlgorithms } from '../../server/src/workspace/jwt-algorithms';
import { functionDecodesJwt } from '../../server/src/workspace/jwt-helpers';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { applyEdits } from '../../server/src/core/text';
import { defaultSettings } from '../../server/src/core/settings';
import { REPO_ROOT, workspaceOf } from '../support';

const ROOT = path.join(REPO_ROOT, '.virtual-workspace');
const file = (name: string) => path.join(ROOT, name);

before(async () => {
  await initParser();
});

describe('jwt-decode', () => {
  it('reads arguments by library signature and options through variables, dict() and later mutation', () => {
    const ws = workspaceOf({
      'a.py': `import jwt as pyjwt
from jose import jwt as jose_jwt
ALGS = ["HS256"]
def f(token):
    opts = {"verify_exp": True}
    opts["verify_signature"] = False
    pyjwt.decode(token, "k", algorithms=ALGS, options=opts)
    jose_jwt.decode(token, "k", ["RS256"], dict(verify_aud=False))
    pyjwt.decode(token, "k", options={**base})
`,
    });
    try {
      const model = ws.model(file('a.py'))!;
      const [a, b, c] = jwtCallArgsIn(model);
      assert.equal(a.jwt.library, 'pyjwt');
      assert.equal(a.token?.text, 'token');
      assert.equal(a.key?.text, '"k"');
      assert.deepEqual(decodeAlgorithms(model, a).values, ['HS256']);
      const opts = decodeOptions(model, a);
      assert.equal(opts.entries.get('verify_signature')?.literal, false);
      assert.equal(opts.entries.get('verify_exp')?.literal, true);
      assert.equal(opts.opaque, false);
      assert.equal(b.jwt.library, 'jose');
      assert.deepEqual(decodeAlgorithms(model, b).values, ['RS256']);
      assert.equal(decodeOptions(model, b).entries.get('verify_aud')?.literal, false);
      assert.equal(decodeOptions(model, c).opaque, true);
    } finally {
      ws.dispose();
    }
  });

  it('a parameter is not confused with a module name of the same spelling', () => {
    const ws = workspaceOf({ 'a.py': `opts = {"verify_signature": False}\ndef f(token, opts):\n    return opts\n` });
    try {
      const model = ws.model(file('a.py'))!;
      const ret = model.root.descendantsOfType('return_statement')[0]!.namedChildren[0]!;
      assert.equal(valueOf(model, ret)?.id, ret.id);
    } finally {
      ws.dispose();
    }
  });

  it('removes a list element with its comma, first, middle or last', () => {
    const text = `d = {"a": 1, "b": 2, "c": 3}\n`;
    const ws = workspaceOf({ 'a.py': text });
    try {
      const model = ws.model(file('a.py'))!;
      const pairs = model.root.descendantsOfType('pair').filter((p) => p !== null);
      assert.equal(applyEdits(text, [removeElementEdit(text, pairs[0]!)]), `d = {"b": 2, "c": 3}\n`);
      assert.equal(applyEdits(text, [removeElementEdit(text, pairs[1]!)]), `d = {"a": 1, "c": 3}\n`);
      assert.equal(applyEdits(text, [removeElementEdit(text, pairs[2]!)]), `d = {"a": 1, "b": 2}\n`);
    } finally {
      ws.dispose();
    }
  });
});

describe('jwt-values', () => {
  const files = {
    'app/core/config.py': `import os
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic import Field

LITERAL = "hard-coded-key"
FROM_ENV = os.getenv("JWT_SECRET", "dev")

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    jwt_secret: str = "changeme"
    aliased: str = Field("x", alias="SIGNING_KEY")
    required: str

settings = Settings()

def get_settings() -> Settings:
    return Settings()
`,
    'app/deps.py': `import jwt
from app.core.config import LITERAL, FROM_ENV, settings, get_settings
from app.core import config

def a(t): return jwt.decode(t, LITERAL, algorithms=["HS256"])
def b(t): return jwt.decode(t, FROM_ENV, algorithms=["HS256"])
def c(t): return jwt.decode(t, settings.jwt_secret, algorithms=["HS256"])
def d(t): return jwt.decode(t, get_settings().aliased, algorithms=["HS256"])
def e(t): return jwt.decode(t, config.settings.required, algorithms=["HS256"])
def f(t, key): return jwt.decode(t, key, algorithms=["HS256"])
def g(t): return jwt.decode(t, LITERAL.encode(), algorithms=["HS256"])
`,
  };

  it('follows keys to literals, environment reads and settings fields across modules', () => {
    const ws = workspaceOf(files);
    try {
      const model = ws.model(file('app/deps.py'))!;
      const keys = jwtCallArgsIn(model).map((a) => keyOrigin(ws, file('app/deps.py'), a.key!));
      assert.equal(keys[0].kind, 'literal');
      assert.equal(keys[0].kind === 'literal' && keys[0].value, 'hard-coded-key');
      assert.equal(keys[0].file, file('app/core/config.py'));
      assert.equal(keys[1].kind === 'env' && keys[1].fallbackValue, 'dev');
      assert.equal(keys[1].kind === 'env' && keys[1].variable, 'JWT_SECRET');
      assert.equal(keys[2].kind === 'env' && keys[2].style, 'settings-field');
      assert.equal(keys[2].kind === 'env' && keys[2].variable, 'APP_JWT_SECRET');
      assert.equal(keys[2].kind === 'env' && keys[2].fallbackValue, 'changeme');
      assert.equal(keys[3].kind === 'env' && keys[3].variable, 'SIGNING_KEY');
      assert.equal(keys[4].kind === 'env' && keys[4].fallback, undefined);
      assert.equal(keys[5].kind, 'unknown');
      assert.equal(keys[6].kind, 'literal');
    } finally {
      ws.dispose();
    }
  });

  it('names secrets and sample values', () => {
    for (const n of ['SECRET_KEY', 'jwt_secret', 'BETTER_AUTH_SECRET', 'signing_key', 'PRIVATE_KEY', 'JWT_KEY']) assert.ok(isSecretLikeName(n), n);
    for (const n of ['ALGORITHM', 'SECRET_KEY_NAME', 'api_url', 'token_url', 'page_token', 'secret_ttl']) assert.ok(!isSecretLikeName(n), n);
    for (const v of ['changeme', 'your-secret-key', '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7', 'Change-This']) assert.ok(isSampleSecret(v), v);
    assert.ok(!isSampleSecret('k7Jp2vXr9QmL4sTz8wYb1nEc6hFd3gAu'));
  });
});

describe('jwt-algorithms', () => {
  it('prefers configuration, then the workspace encode, then JWKS, then HS256', () => {
    const enc = workspaceOf({ 'a.py': `import jwt, os\nK = os.environ["K"]\ndef s(p): return jwt.encode(p, K, algorithm="HS512")\ndef v(t): return jwt.decode(t, K)\n` });
    const jwks = workspaceOf({ 'a.py': `import jwt\nc = jwt.PyJWKClient("https://auth/api/auth/jwks")\ndef v(t):\n    k = c.get_signing_key_from_jwt(t).key\n    return jwt.decode(t, k)\n` });
    const plain = workspaceOf({ 'a.py': `import jwt, os\ndef v(t): return jwt.decode(t, os.environ["K"])\n` });
    try {
      const key = (ws: typeof enc) => jwtCallArgsIn(ws.model(file('a.py'))!, undefined, ['decode'])[0].key;
      assert.deepEqual(expectedAlgorithms(enc, { ...defaultSettings(), expectedAlgorithms: ['RS256'] }, file('a.py'), key(enc)).algorithms, ['RS256']);
      assert.deepEqual(expectedAlgorithms(enc, defaultSettings(), file('a.py'), key(enc)).algorithms, ['HS512']);
      assert.deepEqual(expectedAlgorithms(jwks, defaultSettings(), file('a.py'), key(jwks)).algorithms, ['EdDSA']);
      assert.deepEqual(expectedAlgorithms(plain, defaultSettings(), file('a.py'), key(plain)).algorithms, ['HS256']);
    } finally {
      enc.dispose();
      jwks.dispose();
      plain.dispose();
    }
  });

  it('finds decoding helpers through other helpers', () => {
    const ws = workspaceOf({
      'app/security.py': `import jwt\ndef decode_token(t): return jwt.decode(t, "k", algorithms=["HS256"])\ndef current(t): return decode_token(t)\ndef other(t): return t\n`,
    });
    try {
      assert.ok(functionDecodesJwt(ws, 'app.security.current'));
      assert.ok(!functionDecodesJwt(ws, 'app.security.other'));
    } finally {
      ws.dispose();
    }
  });
});

describe('PyJWT version awareness', () => {
  const code = `import jwt, os
K = os.environ["BETTER_AUTH_SECRET"]
def a(t): return jwt.decode(t, K, algorithms=["HS256"], verify=False)
def b(t): return jwt.decode(t, K)
def c(t): return jwt.decode(t, K, algorithms=["HS256"], verify_exp=False)
`;
  const run = (extra: Record<string, string>) => {
    const ws = workspaceOf({ 'a.py': code, ...extra });
    try {
      return analyzeWorkspace(ws, { onlyRules: ['JWT101', 'JWT102', 'JWT103'] }).findings.map((f) => `${f.code}:${f.range.start.line}:${f.severity}:${f.message}`);
    } finally {
      ws.dispose();
    }
  };

  it('assumes 1.x when nothing is pinned and says so', () => {
    const found = run({});
    assert.ok(found.some((f) => f.startsWith('JWT101:2:critical') && f.includes('not pinned; assuming 1.x')), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('JWT102:3:critical') && f.includes('assuming 1.x')), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('JWT103:4:critical') && f.includes('assuming 1.x')), found.join('\n'));
  });

  it('treats PyJWT 1.x pins as real verification switches', () => {
    const found = run({ 'requirements.txt': 'PyJWT==1.7.1\n' });
    assert.ok(found.some((f) => f.startsWith('JWT101:2:critical') && f.includes('1.7.1')), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('JWT103:4:critical')), found.join('\n'));
  });

  it('reports PyJWT 2 no-op keywords as suggestions', () => {
    const found = run({ 'requirements.txt': 'PyJWT>=2.8\n' });
    assert.ok(found.some((f) => f.startsWith('JWT101:2:suggestion')), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('JWT102:3:critical') && f.includes('raises')), found.join('\n'));
    assert.ok(found.some((f) => f.startsWith('JWT103:4:suggestion')), found.join('\n'));
  });
});

describe('JWT rules on hostile input', () => {
  it('never throw on unparsable or odd code', () => {
    const ws = workspaceOf({
      'a.py': `import jwt\ndef f(token\n    jwt.decode(token, options={"verify_signature": Fa\ntry:\n    x = jwt.decode(*args, **kwargs)\nexcept:\n`,
      'b.py': `from jwt import *\nimport jwt as j\nd = lambda t: j.decode(t, algorithms=x)\nclass A:\n    s = j\n    def f(self, t, **kw): return j.decode(t, key=self.s, **kw)\nj.encode(p := {"a": 1}, k)\nj.decode()\nj.encode()\n`,
    });
    try {
      const result = analyzeWorkspace(ws, { onlyRules: ['JWT101', 'JWT102', 'JWT103', 'JWT104', 'JWT105', 'JWT106', 'JWT107'] });
      assert.deepEqual(result.notices.filter((n) => n.level === 'error'), []);
    } finally {
      ws.dispose();
    }
  });
});
