/** The default backward rules, one table merged from the per-family files. */
import type { RuleSet } from '../rule.js';
import { activationRules } from './activation.js';
import { convRules } from './conv.js';
import { einsumRules } from './einsum.js';
import { elementwiseRules } from './elementwise.js';
import { indexingRules } from './indexing.js';
import { layerNormRules } from './layernorm.js';
import { linearRules } from './linear.js';
import { movementRules } from './movement.js';
import { normRules } from './norm.js';
import { poolRules } from './pool.js';
import { reduceRules } from './reduce.js';
import { resizeRules } from './resize.js';

export const DEFAULT_RULES: RuleSet = {
  ...elementwiseRules,
  ...activationRules,
  ...movementRules,
  ...linearRules,
  ...convRules,
  ...poolRules,
  ...resizeRules,
  ...normRules,
  ...reduceRules,
  ...layerNormRules,
  ...indexingRules,
  ...einsumRules,
};
