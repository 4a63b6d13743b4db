/**
 * Hypercall statements in an HVM domain (guest-language.md § Statements): as in Xen, `mmu_update`
 * and `update_va_mapping` are `-ENOSYS` for an HVM guest (`hvm_hypercall_table` has no entries for
 * them), the `mmuext` pin/unpin operations are accepted and do nothing, its other operations are
 * `-EOPNOTSUPP`, and at CPL 3 every hypercall is `-EPERM` (`hvm_hypercall` refuses them). `done` is
 * never written: the call never reaches `do_mmu_update`.
 */
import type { EventLog } from '../events/eventLog';
import type { MmuextOp, MmuUpdateRequest } from '../language/host';
import type { Vcpu } from '../machine/vcpu';

const ENOSYS = 38n;
const EOPNOTSUPP = 95n;
const EPERM = 1n;
const MASK64 = 0xffff_ffff_ffff_ffffn;

function negErrno(errno: bigint): bigint {
  return -errno & MASK64;
}

function finish(
  log: EventLog,
  v: Vcpu,
  name: 'mmu_update' | 'mmuext' | 'update_va_mapping',
  op: string | null,
  rc: bigint,
): void {
  v.state.rc = rc;
  log.append({ class: 'hypercall_result', name, op, rc, done: null, failed_index: null });
}

export function hvmMmuUpdate(
  log: EventLog,
  v: Vcpu,
  requests: readonly MmuUpdateRequest[],
  foreign: string | null,
): void {
  log.append({
    class: 'hypercall',
    name: 'mmu_update',
    op: null,
    args: { requests: requests.map((r) => ({ cmd: Number(r.ptr & 7n), ptr: r.ptr, val: r.val })) },
    foreign,
  });
  finish(log, v, 'mmu_update', null, negErrno(v.user ? EPERM : ENOSYS));
}

export function hvmMmuext(log: EventLog, v: Vcpu, op: MmuextOp, arg: bigint): void {
  log.append({ class: 'hypercall', name: 'mmuext', op, args: { arg }, foreign: null });
  const pinOp = op.startsWith('pin_') || op === 'unpin_table';
  finish(log, v, 'mmuext', op, v.user ? negErrno(EPERM) : pinOp ? 0n : negErrno(EOPNOTSUPP));
}

export function hvmUpdateVaMapping(log: EventLog, v: Vcpu, va: bigint, val: bigint, flags: bigint): void {
  log.append({
    class: 'hypercall',
    name: 'update_va_mapping',
    op: null,
    args: { va, val, flags },
    foreign: null,
  });
  finish(log, v, 'update_va_mapping', null, negErrno(v.user ? EPERM : ENOSYS));
}
