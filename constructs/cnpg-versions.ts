// The CloudNativePG versions this library pins and renders against: the operator, its Helm chart, the Barman Cloud
// plugin's chart and the operand image. test/fixtures/cnpg holds the CRDs of these versions.

/** CloudNativePG operator release the objects are rendered against (test/fixtures/cnpg holds its CRDs). */
export const CNPG_OPERATOR_VERSION = '1.30.0';
/** The `cloudnative-pg` Helm chart that installs that operator (appVersion 1.30.0). */
export const CNPG_CHART_VERSION = '0.29.0';
/** The Barman Cloud plugin's chart (plugin v0.13.0), which replaces the operator's in-tree barmanObjectStore (removed in 1.31). */
export const BARMAN_CLOUD_PLUGIN_CHART_VERSION = '0.7.0';
/** The Barman Cloud plugin that chart installs (its ObjectStore CRD is in test/fixtures/cnpg). */
export const BARMAN_CLOUD_PLUGIN_VERSION = '0.13.0';
/** Where both charts are published (github.com/cloudnative-pg/charts). */
export const CNPG_CHART_REPOSITORY = 'https://cloudnative-pg.github.io/charts';
/** The plugin's name in `spec.plugins` and in a ScheduledBackup's pluginConfiguration. */
export const BARMAN_CLOUD_PLUGIN = 'barman-cloud.cloudnative-pg.io';
/** The operator's default image for 1.30.0 (Postgres 18.4); the settings list in postgres-settings.ts is 18.4's. */
export const DEFAULT_CNPG_IMAGE = 'ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie';
