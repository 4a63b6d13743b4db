/**
 * Which model runs each domain kind. A kind without a factory is rejected at load time with the
 * message below, at the domain's declaration.
 */
import { createHapModel } from '../hap/hapModel';
import { createPvModel } from '../pv/pvModel';
import { createShadowModel } from '../shadow/shadowModel';
import type { DomainKind } from './domainModel';
import type { ModelFactory } from './machine';

export const MODEL_FACTORIES: Partial<Record<DomainKind, ModelFactory>> = {
  pv: createPvModel,
  'hvm-hap': createHapModel,
  'hvm-shadow': createShadowModel,
};

export const MISSING_KIND_MESSAGES: Record<DomainKind, string> = {
  pv: 'PV domains are not supported yet: the PV memory manager is not built',
  'hvm-shadow':
    'HVM domains with paging=shadow are not supported yet: shadow paging is not built (use paging=hap)',
  'hvm-hap': 'HVM domains with paging=hap are not supported',
};
