/**
 * The explicit, sorted registry of rules. Adding a rule means adding its file and one line here.
 */
import type { Rule } from './rule';
import { JWT101 } from './JWT101-unverified-signature';
import { JWT102 } from './JWT102-algorithms-not-pinned';
import { JWT103 } from './JWT103-expiry-not-enforced';
import { JWT104 } from './JWT104-hardcoded-secret';
import { JWT105 } from './JWT105-secret-fallback-default';
import { JWT106 } from './JWT106-token-from-untrusted-location';
import { JWT107 } from './JWT107-auth-error-swallowed';
import { JWT108 } from './JWT108-wrong-auth-status';
import { JWT109 } from './JWT109-error-detail-leak';
import { JWT110 } from './JWT110-decode-outside-dependency';
import { JWT111 } from './JWT111-unchecked-subject';
import { JWT112 } from './JWT112-claim-verification-disabled';
import { JWT113 } from './JWT113-token-type-confusion';
import { ISO201 } from './ISO201-unauthenticated-route';
import { ISO202 } from './ISO202-client-supplied-user-id';
import { ISO203 } from './ISO203-unscoped-query';
import { ISO204 } from './ISO204-missing-ownership-check';
import { ISO205 } from './ISO205-owner-from-client-input';
import { ISO206 } from './ISO206-owner-reassignable';
import { ISO207 } from './ISO207-sql-injection';
import { ISO208 } from './ISO208-privilege-escalation';
import { SEC301 } from './SEC301-cors-wildcard-credentials';
import { SEC302 } from './SEC302-session-auth-mixed';
import { SEC303 } from './SEC303-frontend-session-verification';
import { SEC304 } from './SEC304-env-file-exposed';
import { SEC305 } from './SEC305-debug-enabled';
import { SEC306 } from './SEC306-sensitive-claim';
import { SUP001 } from './SUP001-unused-suppression';

export { SUP001 };

/** Every rule, sorted by code. SUP001 is produced by the analysis itself, not by a check. */
export const RULES: readonly Rule[] = [
  JWT101,
  JWT102,
  JWT103,
  JWT104,
  JWT105,
  JWT106,
  JWT107,
  JWT108,
  JWT109,
  JWT110,
  JWT111,
  JWT112,
  JWT113,
  ISO201,
  ISO202,
  ISO203,
  ISO204,
  ISO205,
  ISO206,
  ISO207,
  ISO208,
  SEC301,
  SEC302,
  SEC303,
  SEC304,
  SEC305,
  SEC306,
];

export const ALL_RULES: readonly Rule[] = [...RULES, SUP001];

export function ruleByCode(code: string): Rule | undefined {
  return ALL_RULES.find((r) => r.code === code);
}
