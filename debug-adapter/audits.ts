/**
 * The two invariant audits (events.md §3 `invariant`): the frame-table audit of the PV memory
 * manager and the shadow audit of every shadowed domain. The `invariant` filter runs them after every
 * step and the `audit` console command on demand; each audit that finds violations logs one
 * `invariant` event, in the step it ran after.
 */
import type { Engine } from '../engine/engine';
import type { AuditViolation, EngineEvent } from '../engine/events/eventTypes';
import { auditFrames } from '../engine/pv/frameAudit';
import { auditShadows } from '../engine/shadow/shadowAudit';

export interface AuditReport {
  audit: 'frames' | 'shadow';
  domain: string | null;
  count: number;
  violations: AuditViolation[];
}

export function runAudits(engine: Engine): AuditReport[] {
  const m = engine.machine;
  const frames = auditFrames(m);
  const reports: AuditReport[] = [{ audit: 'frames', domain: null, ...frames }];
  for (const d of m.domains)
    if (d.kind === 'hvm-shadow') reports.push({ audit: 'shadow', domain: d.name, ...auditShadows(m, d) });
  return reports;
}

/** Runs both audits and logs an `invariant` event per audit with violations; returns them. */
export function auditAndLog(engine: Engine): EngineEvent[] {
  const logged: EngineEvent[] = [];
  for (const r of runAudits(engine)) {
    if (r.count === 0) continue;
    logged.push(
      engine.machine.log.append({
        class: 'invariant',
        audit: r.audit,
        count: r.count,
        violations: r.violations,
        explanation: `${r.audit} audit: ${r.count} violation${r.count === 1 ? '' : 's'}; first: ${r.violations[0]?.message ?? ''}`,
      }),
    );
  }
  return logged;
}

export function auditText(engine: Engine): string {
  const lines: string[] = [];
  for (const r of runAudits(engine)) {
    const what = r.audit === 'frames' ? 'frame-table audit' : `shadow audit of ${r.domain}`;
    lines.push(
      `${what}: ${r.count === 0 ? 'no violations' : `${r.count} violation${r.count === 1 ? '' : 's'}`}`,
    );
    for (const v of r.violations)
      lines.push(`  ${v.rule}${v.mfn !== null ? ` mfn 0x${v.mfn.toString(16)}` : ''}: ${v.message}`);
  }
  return lines.join('\n');
}
