export { Balancer, type BalanceOptions, type BalanceMode, type BalanceStats, type ClassCounts, type RefBatch } from './balance.js';
export { Rng } from './rng.js';
