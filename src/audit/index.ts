/**
 * `candor/audit`: the audit (what `candor audit` runs) as a function, and its options and result.
 *
 * @packageDocumentation
 */
export { runAudit, type AuditResult } from './run.js';
export type { AuditOptions } from './context.js';
