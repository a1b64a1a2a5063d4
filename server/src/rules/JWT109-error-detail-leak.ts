import { defineRule } from './rule';

// STUB: to be implemented (catalog: the exception text or token content sent to the client: `detail=str(e)`, `detail=f"...{e}"`, `repr(e)`, returning the decoded payload or the token in an error...)
export const JWT109 = defineRule({
  code: 'JWT109',
  name: 'error-detail-leak',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [12],
  messages: { default: 'error-detail-leak' },
  docs: '',
  check() {},
});
