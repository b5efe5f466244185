export { Metrics, type MetricSources, type MetricsOptions, type InventorySource, type ReloadResult, type SnapshotView } from './metrics.js';
export { KINDS, type RequestKind } from './labels.js';
