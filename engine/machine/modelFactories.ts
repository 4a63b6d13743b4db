/** Which model runs each domain kind (tests and benchmarks may pass their own to `loadEngine`). */
import { createHapModel } from '../hap/hapModel';
import { createPvModel } from '../pv/pvModel';
import { createShadowModel } from '../shadow/shadowModel';
import type { DomainKind } from './domainModel';
import type { ModelFactory } from './machine';

export const MODEL_FACTORIES: Record<DomainKind, ModelFactory> = {
  pv: createPvModel,
  'hvm-hap': createHapModel,
  'hvm-shadow': createShadowModel,
};
